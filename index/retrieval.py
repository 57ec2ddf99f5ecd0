"""Hybrid search over one collection: dense (FAISS) and lexical (BM25) scores, fused, then
the best candidates re-scored by their best sentence (index/rerank.py).

Each candidate found by either side gets both scores (cosine by reconstructing its vector,
BM25 from the lexical side's `candidates`), so fusion compares like with like instead of ranks
alone. Past the approximate-search threshold both sides are approximate or sparse (FAISS IVF,
BM25 top-k over matching chunks; index/caches.py chooses), and this code does not change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.interfaces import PassageSource, SearchableCollection
from index.models import Passage
from index.rerank import RerankWeights, rerank_scores


@dataclass(frozen=True)
class RetrievalResult:
    passages: tuple[Passage, ...]
    query_vector: np.ndarray


@dataclass(frozen=True)
class FusionWeights:
    dense: float = 0.5
    dense_candidates: int = 50
    lexical_candidates: int = 50
    rerank: RerankWeights = RerankWeights()


def fuse_scores(
    dense: dict[int, float], lexical: dict[int, float], weight: float
) -> dict[int, float]:
    """weight * cosine + (1 - weight) * BM25 scaled to the best candidate's BM25."""
    best = max(lexical.values(), default=0.0)
    ids = set(dense) | set(lexical)
    return {
        i: weight * dense.get(i, 0.0) + (1 - weight) * (lexical.get(i, 0.0) / best if best else 0.0)
        for i in ids
    }


def hybrid_search(
    store: PassageSource,
    cache: SearchableCollection,
    query: str,
    query_vector: np.ndarray,
    k: int,
    weights: FusionWeights,
) -> list[Passage]:
    """Top k passages, best first; never a -1 id, a duplicate, or a chunk the store lacks."""
    if k <= 0 or cache.vectors.size == 0:
        return []
    dense = dict(cache.vectors.search(query_vector, weights.dense_candidates))
    lexical = cache.lexical.candidates(query, weights.lexical_candidates, list(dense))
    missing_dense = [i for i in lexical if i not in dense]
    dense.update(cache.vectors.scores_for(query_vector, missing_dense))
    fused = fuse_scores(dense, lexical, weights.dense)
    best_lexical = max(lexical.values(), default=0.0) or 1.0
    relative_lexical = {i: score / best_lexical for i, score in lexical.items()}
    depth = max(k * 2, k + 5, weights.rerank.depth)
    ranked = sorted(fused, key=lambda i: (-fused[i], i))[:depth]
    chunks = store.chunks_by_ids(ranked)
    final = fused
    sentence_vectors: dict[int, np.ndarray] = {}
    if weights.rerank.depth > 0 and chunks:
        found = [chunks[i] for i in ranked if i in chunks]
        sentence_vectors = store.sentence_vectors([c.id for c in found])
        final = rerank_scores(
            query, query_vector, found, sentence_vectors, dense, relative_lexical, weights.rerank
        )
        ranked = sorted(final, key=lambda i: (-final[i], i))
    articles = store.articles_by_ids(sorted({c.article_id for c in chunks.values()}))
    passages: list[Passage] = []
    for chunk_id in ranked:
        chunk = chunks.get(chunk_id)
        article = articles.get(chunk.article_id) if chunk else None
        if chunk is None or article is None:
            continue  # removed since the cache was read; never hand out a dangling id
        passages.append(
            Passage(
                chunk_id=chunk_id,
                article=article,
                text=chunk.text,
                start=chunk.start,
                end=chunk.end,
                sentences=chunk.sentences,
                score=final[chunk_id],
                dense_score=dense.get(chunk_id, 0.0),
                lexical_score=relative_lexical.get(chunk_id, 0.0),
                sentence_vectors=sentence_vectors.get(chunk_id),
            )
        )
        if len(passages) == k:
            break
    return passages
