"""Approximate search for big collections (issue 18, item 3): forced on small collections with
a tiny threshold, it must find what exact search finds, record its index type, rebuild caches
built another way without calling that damage, and keep the recent segment working."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from bot import cli
from bot.settings import Settings
from index.knowledge import KnowledgeBase
from index.lexical import LexicalIndex, LexicalSegments, RecentSegment, tokenize, top_k
from index.models import RawArticle
from index.settings import IndexSettings
from index.vectors import IvfParams, VectorIndex
from tests.conftest import HashingEmbedder, search

TOPICS = [
    "harbour cranes stalled at the container terminal",
    "wheat exports through the Black Sea corridor",
    "grid batteries installed beside a wind farm",
    "rail strikes over pension reform",
    "vaccine trials for a malaria shot",
    "copper prices after the mine closure",
    "drought rationing of river water",
    "satellite launch from a coastal spaceport",
]
QUESTIONS = [
    "Why did the harbour cranes stall?",
    "How much wheat left through the corridor?",
    "Where were the grid batteries installed?",
    "What did the malaria vaccine trial find?",
    "When did the spaceport launch the satellite?",
]


def article(i: int) -> RawArticle:
    topic = TOPICS[i % len(TOPICS)]
    text = (
        f"Dispatch {i}: {topic}. Officials counted {i * 13 + 7} cases linked to the {topic}. "
        f"A spokesman said the {topic.split()[0]} figures would be revised within {i % 5 + 2} "
        f"weeks, and analysts in region {i} disagreed."
    )
    return RawArticle(text=text, title=f"Dispatch {i}", source="Wire", origin=f"d{i}")


def knowledge(folder: Path, **overrides: int) -> KnowledgeBase:
    return KnowledgeBase(Settings(data_dir=folder, **overrides), embedder=HashingEmbedder())


def manifest(kb: KnowledgeBase) -> dict:
    return json.loads((kb.caches.folder("default") / "manifest.json").read_text())


def found(kb: KnowledgeBase, question: str) -> list[tuple[int, float]]:
    return [(p.chunk_id, round(p.score, 5)) for p in search(kb, "default", question, k=5)]


def test_forced_approximate_search_finds_what_exact_search_finds(tmp_path: Path) -> None:
    exact, approximate = knowledge(tmp_path / "exact"), knowledge(tmp_path / "ann", ann_threshold=5)
    try:
        for kb in (exact, approximate):
            kb.add([article(i) for i in range(40)])
        cache = approximate.caches.get("default")
        assert cache.vectors.main.kind == "ivf" and cache.lexical.sparse
        assert exact.caches.get("default").vectors.main.kind == "flat"
        assert manifest(approximate)["dense_index"] == {"type": "ivf", "nlist": 1}
        assert manifest(exact)["dense_index"] == {"type": "flat"}
        for question in QUESTIONS:
            assert found(approximate, question) == found(exact, question)
        vector = HashingEmbedder().encode([QUESTIONS[0]])[0]
        some = cache.vectors.ids()[::7].tolist()
        exact_scores = exact.caches.get("default").vectors.scores_for(vector, some)
        assert cache.vectors.scores_for(vector, some) == pytest.approx(exact_scores)
        assert approximate.verify().ok
    finally:
        exact.close()
        approximate.close()


def test_an_inverted_file_of_many_lists_finds_the_exact_neighbours() -> None:
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((30, 32)).astype(np.float32)
    vectors = centres[rng.integers(0, 30, 4000)] + 0.1 * rng.standard_normal((4000, 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    ids = np.arange(10, 4010, dtype=np.int64)
    exact = VectorIndex.build(32, ids, vectors, None)
    approximate = VectorIndex.build(32, ids, vectors, IvfParams(nprobe=8))
    assert approximate.shape() == {"type": "ivf", "nlist": 100}
    for query in vectors[:40]:
        want, got = exact.search(query, 10), approximate.search(query, 10)
        assert [i for i, _ in got] == [i for i, _ in want]
        chosen = [i for i, _ in want[:3]] + [int(ids[-1])]
        assert approximate.scores_for(query, chosen) == pytest.approx(
            exact.scores_for(query, chosen)
        )
    approximate.set_nprobe(1)  # one list of 100: no longer the exact neighbours everywhere
    assert any(
        [i for i, _ in approximate.search(q, 10)] != [i for i, _ in exact.search(q, 10)]
        for q in vectors[:40]
    )


def test_the_recent_segment_works_past_the_threshold(tmp_path: Path) -> None:
    kb = knowledge(tmp_path / "ann", ann_threshold=5)
    try:
        kb.add([article(i) for i in range(20)])
        main_file = manifest(kb)["vectors"]
        kb.add([RawArticle(text="The zeppelin hangar reopened after a storm.", title="Hangar")])
        assert manifest(kb)["vectors"] == main_file  # an add does not rebuild the graph
        assert search(kb, "default", "zeppelin hangar storm", k=1)[0].article.title == "Hangar"
        assert kb.verify().ok
    finally:
        kb.close()


@pytest.mark.parametrize(
    ("built", "wanted"), [({"ann_threshold": 5}, {}), ({}, {"ann_threshold": 5})]
)
def test_caches_built_as_another_index_type_are_rebuilt_not_damaged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, built: dict, wanted: dict
) -> None:
    first = knowledge(tmp_path / "data", **built)
    first.add([article(i) for i in range(12)])
    before = manifest(first)["dense_index"]
    first.close()
    caplog.set_level(logging.INFO, logger="index.caches")
    kb = knowledge(tmp_path / "data", **wanted)
    try:
        report = kb.verify()
        assert report.ok, report
        assert search(kb, "default", QUESTIONS[0], k=1)
        after = manifest(kb)
        assert after["dense_index"] != before
        assert after["dense_index"] == kb.caches.approximate.shape(after["main_chunk_count"])
        assert "rebuilding caches" in caplog.text and "dense index built as" in caplog.text
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    finally:
        kb.close()


def test_a_writer_rebuilds_a_main_segment_of_another_type(tmp_path: Path) -> None:
    first = knowledge(tmp_path / "data", ann_threshold=5)
    first.add([article(i) for i in range(12)])
    first.close()
    kb = knowledge(tmp_path / "data")
    try:
        kb.add([article(99)])
        assert manifest(kb)["dense_index"] == {"type": "flat"}
        assert manifest(kb)["main_chunk_count"] == manifest(kb)["chunk_count"]
        assert kb.verify().ok
    finally:
        kb.close()


CORPUS = [
    f"{TOPICS[i % len(TOPICS)]} " + " ".join(f"w{(i * j) % 37}" for j in range(i % 11 + 3))
    for i in range(300)
]
QUERIES = ["wheat corridor exports", "w5 w7 harbour", "rail pension w12 w12", "nothing known zz"]


def test_bm25s_top_k_is_the_top_of_the_full_score_array() -> None:
    index = LexicalIndex.build(list(range(1000, 1300)), CORPUS)
    for query in QUERIES:
        terms = tokenize([query])[0]
        full = index.scores(query)
        expected = top_k(index.ids(), full, 20)
        got = index.top(terms, 20)
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], rel=1e-6)
        cut = expected[-1][1] if expected else 0.0  # ties at the cut may be chosen either way
        assert {i for i, s in got if s > cut} == {i for i, s in expected if s > cut}
        positions = np.array([0, 5, 17, 299, 150])
        assert index.scores_at(terms, positions) == pytest.approx(full[positions], rel=1e-6)


def test_sparse_candidates_equal_the_full_array_candidates_with_a_recent_segment() -> None:
    main = LexicalIndex.build(list(range(1, 251)), CORPUS[:250])
    recent = RecentSegment([], []).extended(
        list(range(300, 350)), {300 + i: CORPUS[250 + i] for i in range(50)}
    )
    exact, sparse = LexicalSegments(main, recent), LexicalSegments(main, recent, sparse=True)
    also = [3, 77, 120, 305, 349, 9999]
    for query in QUERIES:
        want = exact.candidates(query, 15, also)
        got = sparse.candidates(query, 15, also)
        # Equal scores at the cut may be chosen either way (the corpus repeats texts).
        assert sorted(got.values()) == pytest.approx(sorted(want.values()))
        assert {i: got[i] for i in also if i in got} == pytest.approx(
            {i: want[i] for i in also if i in want}
        )
        assert all(got[i] == pytest.approx(want[i]) for i in set(got) & set(want))


def test_the_threshold_settings_are_checked(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    for bad in ({"ann_threshold": 0}, {"ann_threshold": -5}, {"ivf_nprobe": 0}):
        with pytest.raises(ValidationError):
            IndexSettings(**bad)
    monkeypatch.setenv("BRIEFBOT_EMBEDDING_MODEL", "hashing:64")
    monkeypatch.setenv("BRIEFBOT_ANN_THRESHOLD", "lots")
    assert cli.main(["ask", "anything?"]) == 2
    err = capsys.readouterr().err
    assert "ann_threshold" in err.lower() and len(err.splitlines()) == 1
