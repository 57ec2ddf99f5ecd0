"""Caches in segments: an add to a big collection rewrites only the manifest, and what the
recent segment scores matches a full rebuild closely enough to rank the same way."""

from __future__ import annotations

import json
import logging

import numpy as np

from index import caches
from index.knowledge import KnowledgeBase
from index.lexical import LexicalIndex
from index.models import RawArticle
from tests.conftest import HashingEmbedder, search

TOPICS = ["harbour cranes", "wheat exports", "grid batteries", "rail strikes", "vaccine trials"]


def raw(i: int, extra: str = "") -> RawArticle:
    topic = TOPICS[i % len(TOPICS)]
    text = (
        f"Report {i} on {topic}. Officials said {i * 7} units of {topic} were counted on "
        f"Monday. Analysts expect {topic} to change within {i + 2} weeks. {extra}"
    )
    return RawArticle(text=text, title=f"Note {i}", source="Wire", origin=f"n{i}")


def manifest(kb: KnowledgeBase) -> dict:
    return json.loads((kb.caches.folder("default") / "manifest.json").read_text())


def test_add_extends_the_recent_segment_only(kb: KnowledgeBase) -> None:
    kb.add([raw(i) for i in range(12)])
    before = manifest(kb)
    kb.add([raw(99, "The zeppelin hangar reopened.")])
    after = manifest(kb)
    assert (after["vectors"], after["lexical"]) == (before["vectors"], before["lexical"])
    assert after["main_chunk_count"] == before["chunk_count"] < after["chunk_count"]
    assert after["change_id"] == kb.store.change_id("default")
    cache = kb.caches.get("default")
    assert len(cache.vectors.recent_ids) == len(cache.lexical.recent.ids) > 0
    assert search(kb, "default", "zeppelin hangar", k=1)[0].article.title == "Note 99"
    assert kb.verify().ok


def test_recent_scores_match_a_full_rebuild(kb: KnowledgeBase) -> None:
    kb.add([raw(i) for i in range(30)])
    kb.add([raw(77, "Wheat exports from the harbour fell sharply.")])
    cache = kb.caches.get("default")
    _, chunks, _ = kb.store.snapshot("default")
    full = LexicalIndex.build([c.id for c in chunks], [c.index_text for c in chunks])
    query = "wheat exports harbour fell"
    segmented = dict(zip(cache.lexical.ids().tolist(), cache.lexical.scores(query), strict=True))
    rebuilt = dict(zip(full.ids().tolist(), full.scores(query), strict=True))
    for chunk_id in cache.lexical.recent.ids.tolist():
        assert np.isclose(segmented[chunk_id], rebuilt[chunk_id], rtol=0.1)
    assert [i for i, _ in cache.lexical.search(query, 3)] == [i for i, _ in full.search(query, 3)]


def test_a_fresh_process_loads_both_segments_without_rebuilding(
    kb: KnowledgeBase, settings, caplog
) -> None:
    kb.add([raw(i) for i in range(8)])
    kb.add([raw(50, "The lighthouse keeper retired.")])
    caplog.set_level(logging.INFO, logger="index.caches")
    fresh = KnowledgeBase(settings, embedder=HashingEmbedder())
    try:
        assert search(fresh, "default", "lighthouse keeper", k=1)[0].article.title == "Note 50"
        assert len(fresh.caches.get("default").vectors.recent_ids) > 0
    finally:
        fresh.close()
    assert "rebuilding" not in caplog.text


def test_removing_a_main_chunk_rebuilds_and_a_big_recent_segment_merges(
    kb: KnowledgeBase, monkeypatch
) -> None:
    outcomes = kb.add([raw(i) for i in range(6)])
    first = manifest(kb)["vectors"]
    kb.remove("default", outcomes[0].article.id)
    second = manifest(kb)
    assert second["vectors"] != first and second["main_chunk_count"] == second["chunk_count"]
    monkeypatch.setattr(caches, "MERGE_MIN", 0)
    monkeypatch.setattr(caches, "MERGE_SHARE", 0.0)
    kb.add([raw(40)])
    third = manifest(kb)
    assert third["vectors"] != second["vectors"]
    assert third["main_chunk_count"] == third["chunk_count"]
    assert kb.verify().ok


def test_a_fresh_writer_extends_the_saved_main_segment(kb: KnowledgeBase, settings) -> None:
    """A `briefbot add` process has loaded nothing: it must not rebuild 100k chunks either."""
    kb.add([raw(i) for i in range(10)])
    before = manifest(kb)
    other = KnowledgeBase(settings, embedder=HashingEmbedder())
    try:
        other.add([raw(60, "The ferry timetable changed.")])
    finally:
        other.close()
    after = manifest(kb)
    assert (after["vectors"], after["lexical"]) == (before["vectors"], before["lexical"])
    assert after["chunk_count"] > after["main_chunk_count"] == before["chunk_count"]
    assert search(kb, "default", "ferry timetable", k=1)[0].article.title == "Note 60"
    assert kb.verify().ok


def test_a_damaged_main_segment_is_rebuilt_by_the_next_writer(kb: KnowledgeBase, settings) -> None:
    kb.add([raw(i) for i in range(10)])
    folder = kb.caches.folder("default")
    ids_file = folder / manifest(kb)["lexical"] / "chunk_ids.npy"
    np.save(ids_file, np.load(ids_file)[:-1])
    other = KnowledgeBase(settings, embedder=HashingEmbedder())
    try:
        other.add([raw(61)])
    finally:
        other.close()
    after = manifest(kb)
    assert after["main_chunk_count"] == after["chunk_count"]
    assert kb.verify().ok


def test_a_held_cache_catches_up_without_rereading_its_main_files(
    kb: KnowledgeBase, settings, fake_embedder: HashingEmbedder, monkeypatch
) -> None:
    kb.add([raw(i) for i in range(12)])
    search(kb, "default", "wheat exports", k=1)  # held by this reader
    writer = KnowledgeBase(settings, embedder=fake_embedder)  # another process, say
    writer.add([raw(55, "The zeppelin hangar reopened.")])
    writer.close()
    reads = []
    original = caches.CacheManager._read_files

    def counting(self, collection, manifest):
        reads.append(collection)
        return original(self, collection, manifest)

    monkeypatch.setattr(caches.CacheManager, "_read_files", counting)
    assert search(kb, "default", "zeppelin hangar", k=1)[0].article.title == "Note 55"
    assert reads == []  # extended in memory, as an add extends its own
    assert kb.verify().ok
