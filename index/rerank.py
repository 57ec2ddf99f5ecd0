"""Second stage of retrieval: candidates re-scored by their best sentence.

Why: a chunk's vector is the mean of its sentences' vectors and its BM25 score counts words
all over the chunk, so a chunk in which one sentence states exactly what was asked competes
on equal terms with a chunk that is vaguely about the subject throughout. The stored sentence
vectors (kept for the answer engine anyway) let the first-stage candidates be scored by their
best sentence instead, at the cost of one SQLite read and one small matrix product. On the
SQuAD 2.0 tuning half (800 answerable questions) the first passage held the answer for 0.80
of questions with fusion alone and 0.88 after this stage; the first five, 0.95 and 0.97
(docs/BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from index.lexical import term_coverage
from index.store import StoredChunk


@dataclass(frozen=True)
class RerankWeights:
    """How the final score mixes the chunk's own scores with its best sentence's.

    Chosen on the SQuAD tuning half by a coarse grid (steps of 0.1-0.25); neighbouring
    settings score within a point on both halves, so the mix is not tuned to a knife edge.
    """

    depth: int = 30  # first-stage candidates re-scored; 0 turns the stage off
    chunk_dense: float = 0.15  # cosine of the chunk vector
    chunk_lexical: float = 0.35  # BM25 relative to the best candidate's
    sentence_dense: float = 1.0  # best cosine of one of its sentences
    sentence_lexical: float = 0.6  # best share of the query's content words in one sentence


def rerank_scores(
    query: str,
    query_vector: np.ndarray,
    candidates: Sequence[StoredChunk],
    sentence_vectors: Mapping[int, np.ndarray],
    chunk_dense: Mapping[int, float],
    chunk_lexical: Mapping[int, float],
    weights: RerankWeights,
) -> dict[int, float]:
    """The final score of each candidate chunk, by id (higher is better): the weighted mean of
    four scores that are each at most 1, so it stays on the 0-1 scale of fused scores (the
    `score` of a passage shown in citations).

    `chunk_lexical` is BM25 already scaled to the best candidate's (0-1). A chunk without
    stored sentence vectors falls back on its chunk cosine for its best sentence.
    """
    texts: list[str] = []
    owners: list[int] = []
    for chunk in candidates:
        for sentence in chunk.sentences:
            texts.append(chunk.text[sentence.start - chunk.start : sentence.end - chunk.start])
            owners.append(chunk.id)
    coverage = term_coverage(query, texts) if texts else []
    best_lexical: dict[int, float] = {}
    for owner, share in zip(owners, coverage, strict=True):
        best_lexical[owner] = max(best_lexical.get(owner, 0.0), share)
    total = (
        weights.chunk_dense
        + weights.chunk_lexical
        + weights.sentence_dense
        + weights.sentence_lexical
    ) or 1.0
    scores: dict[int, float] = {}
    for chunk in candidates:
        dense = chunk_dense.get(chunk.id, 0.0)
        matrix = sentence_vectors.get(chunk.id)
        best_dense = (
            float(np.max(matrix @ query_vector)) if matrix is not None and len(matrix) else dense
        )
        scores[chunk.id] = (
            weights.chunk_dense * dense
            + weights.chunk_lexical * chunk_lexical.get(chunk.id, 0.0)
            + weights.sentence_dense * best_dense
            + weights.sentence_lexical * best_lexical.get(chunk.id, 0.0)
        ) / total
    return scores
