"""The second retrieval stage: a chunk is judged by its best sentence, not by its average."""

from __future__ import annotations

import numpy as np
import pytest

from index.models import RawArticle, Sentence
from index.rerank import RerankWeights, rerank_scores
from index.retrieval import FusionWeights, hybrid_search
from index.store import StoredChunk
from tests.conftest import search

QUERY = "How many troops were deployed to the border?"


def chunk(chunk_id: int, *sentences: str) -> StoredChunk:
    text = " ".join(sentences)
    spans, cursor = [], 0
    for s in sentences:
        spans.append(Sentence(cursor, cursor + len(s)))
        cursor += len(s) + 1
    return StoredChunk(chunk_id, chunk_id, 0, len(text), text, tuple(spans))


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_one_sentence_that_answers_beats_a_chunk_vaguely_about_it_throughout():
    q = unit(1, 0, 0)
    vague = chunk(1, "The border region is tense.", "Troops are often discussed there.")
    precise = chunk(
        2, "Markets were calm.", "About 11,000 troops were deployed to the border on Monday."
    )
    # By chunk vector and BM25 the vague chunk leads; by its best sentence the precise one.
    chunk_dense = {1: 0.6, 2: 0.45}
    chunk_lexical = {1: 1.0, 2: 0.8}
    sentence_vectors = {
        1: np.vstack([unit(0.6, 0.8, 0), unit(0.6, 0, 0.8)]),
        2: np.vstack([unit(0, 1, 0), unit(0.95, 0.3, 0)]),
    }
    scores = rerank_scores(
        QUERY, q, [vague, precise], sentence_vectors, chunk_dense, chunk_lexical, RerankWeights()
    )
    assert scores[2] > scores[1]


def test_a_chunk_without_sentence_vectors_falls_back_on_its_chunk_cosine():
    q = unit(1, 0)
    only = chunk(7, "Troops were deployed to the border.")
    with_vectors = rerank_scores(
        QUERY, q, [only], {7: unit(0.5, 0.5)[None, :]}, {7: 0.5}, {7: 1.0}, RerankWeights()
    )
    without = rerank_scores(QUERY, q, [only], {}, {7: 0.5}, {7: 1.0}, RerankWeights())
    weights = RerankWeights()
    total = (
        weights.chunk_dense
        + weights.chunk_lexical
        + weights.sentence_dense
        + weights.sentence_lexical
    )
    expected = (
        (weights.chunk_dense + weights.sentence_dense) * 0.5
        + weights.chunk_lexical
        + weights.sentence_lexical * 1.0
    ) / total
    assert without[7] == pytest.approx(expected)
    best_sentence = 0.7071  # cos 45 degrees, above the chunk's 0.5
    gain = weights.sentence_dense * (best_sentence - 0.5) / total
    assert with_vectors[7] == pytest.approx(expected + gain, 1e-3)


def test_scores_stay_on_the_zero_to_one_scale():
    q = unit(1, 0)
    perfect = chunk(3, "Troops were deployed to the border.")
    scores = rerank_scores(
        QUERY, q, [perfect], {3: q[None, :]}, {3: 1.0}, {3: 1.0}, RerankWeights()
    )
    assert scores[3] == pytest.approx(1.0)


def test_search_ranks_the_article_that_states_the_fact_first(kb):
    """End to end on the store: the stage reads the stored sentence vectors itself."""
    kb.add(
        [
            RawArticle(
                text="Officials spoke about the border for hours. The border was discussed again. "
                "Border talks, border patrols and border towns dominated the border news.",
                title="Border talk",
                origin="a",
            ),
            RawArticle(
                text="Weather was mild. The ministry said 11,000 troops were deployed to the "
                "border on Monday.",
                title="Deployment",
                origin="b",
            ),
        ]
    )
    passages = search(kb, "default", QUERY, k=2)
    assert passages[0].article.title == "Deployment"
    assert passages[0].score >= passages[1].score


def test_depth_zero_keeps_the_fused_order(kb):
    kb.add(
        [
            RawArticle(text=f"Report {i} on troops and the border, part {i}.", origin=str(i))
            for i in range(6)
        ]
    )
    cache = kb.caches.get("default")
    vector = kb.embedder.encode([QUERY])[0]
    off = FusionWeights(rerank=RerankWeights(depth=0))
    on = FusionWeights()
    plain = hybrid_search(kb.store, cache, QUERY, vector, 6, off)
    reranked = hybrid_search(kb.store, cache, QUERY, vector, 6, on)
    assert [p.score for p in plain] == sorted((p.score for p in plain), reverse=True)
    assert {p.chunk_id for p in plain} == {p.chunk_id for p in reranked}
    assert [p.score for p in reranked] == sorted((p.score for p in reranked), reverse=True)


def test_passages_carry_the_sentence_vectors_retrieval_read(kb, monkeypatch):
    """The answer engine gets them from the passages: one SQLite read per question, not two."""
    kb.add([RawArticle(text="Troops were deployed. The border was closed.", origin="a")])
    passages = search(kb, "default", QUERY, k=1)
    stored = kb.store.sentence_vectors([passages[0].chunk_id])[passages[0].chunk_id]
    np.testing.assert_array_equal(passages[0].sentence_vectors, stored)

    def no_second_read(ids):
        raise AssertionError(f"sentence vectors read again for {ids}")

    monkeypatch.setattr(kb.store, "sentence_vectors", no_second_read)
    by_text = kb.sentence_vectors(passages)
    assert set(by_text) == {text for _, text in passages[0].sentence_texts()}
