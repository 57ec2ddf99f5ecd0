"""LISTEN/NOTIFY on change ids (issue 18): a committed write on the PostgreSQL store is announced
with its collection and change id, a rolled-back one is not; a process listening catches up the
caches it holds before any question is asked, ignores collections it does not hold, survives a
server restart, and stops promptly."""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable

import pytest

from bot.settings import Settings
from index.knowledge import KnowledgeBase
from index.pg_notify import Change, ChangeListener, parse_change
from tests.conftest import HashingEmbedder, search
from tests.index.test_pg_store import story

WAIT = 20.0  # seconds any awaited event may take on a busy machine (it takes milliseconds)


def eventually(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def listener(url: str, **options: object) -> tuple[ChangeListener, queue.Queue[Change], list[int]]:
    """A started listener recording what it hears, and how often it (re)connected."""
    heard: queue.Queue[Change] = queue.Queue()
    connections: list[int] = []
    found = ChangeListener(url, heard.put, lambda: connections.append(1), **options)  # type: ignore[arg-type]
    found.start()
    assert found.listening.wait(WAIT), "the listener never connected"
    return found, heard, connections


def knowledge(tmp_path, name: str, url: str) -> KnowledgeBase:
    """A process's knowledge base: its own data dir (its own caches) on the shared database."""
    return KnowledgeBase(
        Settings(data_dir=tmp_path / name, store_url=url), embedder=HashingEmbedder()
    )


def held_cache(kb: KnowledgeBase, collection: str = "default"):
    return kb.caches.peek(collection)


def test_payloads_are_parsed_from_the_last_colon():
    assert parse_change("guild-1:42") == Change("guild-1", 42)
    assert parse_change("a:b:7") == Change("a:b", 7)
    assert parse_change("nothing") is None and parse_change("x:") is None
    assert parse_change(":3") is None and parse_change("x:-1") is None


def test_a_committed_write_is_announced_with_its_collection_and_change_id(pg_url, tmp_path):
    writer = knowledge(tmp_path, "w", pg_url)
    ear, heard, _ = listener(pg_url)
    try:
        writer.add([story(1)], collection="news")
        assert heard.get(timeout=WAIT) == Change("news", 1)
        writer.add([story(2)], collection="news")
        writer.remove("news", 1)
        assert [heard.get(timeout=WAIT) for _ in range(2)] == [Change("news", 2), Change("news", 3)]
    finally:
        assert ear.stop()
        writer.close()


def test_a_rolled_back_write_announces_nothing(pg_url, tmp_path):
    writer = knowledge(tmp_path, "w", pg_url)
    writer.add([story(1)])  # change 1, committed before the listener starts
    ear, heard, _ = listener(pg_url)
    try:
        with pytest.raises(RuntimeError), writer.store.transaction() as conn:
            conn.execute("UPDATE collections SET change_id = change_id + 1 WHERE name = 'default'")
            raise RuntimeError("the write fails after bumping the change id")
        writer.add([story(2)])  # the next committed write is change 2: the first one heard
        assert heard.get(timeout=WAIT) == Change("default", 2)
        assert heard.empty()
    finally:
        assert ear.stop()
        writer.close()


def test_a_held_collection_is_refreshed_before_any_question(pg_url, tmp_path):
    writer = knowledge(tmp_path, "w", pg_url)
    reader = knowledge(tmp_path, "r", pg_url)
    try:
        writer.add([story(1)])
        assert search(reader, "default", "harbour s1 reopened")[0].article.title == "s 1"
        assert reader.start_listening() and reader.listening
        assert reader.wait_listening(WAIT)
        before = held_cache(reader)
        writer.add([story(2)])
        assert eventually(lambda: held_cache(reader).change_id == 2)  # no question asked
        after = held_cache(reader)
        assert after is not before and after.vectors.size > before.vectors.size
        writer.add([story(3)], collection="other")  # not held here: not loaded by the listener
        writer.add([story(4)])  # announced after "other": once it is in, "other" was heard
        assert eventually(lambda: held_cache(reader).change_id == 3)
        assert reader.caches.held() == ["default"]
        assert search(reader, "default", "harbour s4 reopened")[0].article.title == "s 4"
        assert held_cache(reader).change_id == 3
    finally:
        reader.close()
        writer.close()
    assert not reader.listening


def test_the_listener_survives_a_server_restart_and_refreshes_after_it(pg_server, pg_url, tmp_path):
    if pg_server.data is None:
        pytest.skip("BRIEFBOT_TEST_POSTGRES_DATA not set: cannot restart CI's server")
    writer = knowledge(tmp_path, "w", pg_url)
    reader = knowledge(tmp_path, "r", pg_url)
    ear, heard, connections = listener(pg_url, retry=(0.1, 1.0))
    try:
        writer.add([story(1)])
        search(reader, "default", "harbour s1 reopened")
        reader.start_listening()
        assert reader.wait_listening(WAIT)
        heard.get(timeout=WAIT)
        pg_server.ctl("restart")
        assert eventually(lambda: len(connections) == 2)  # reconnected after the restart
        writer.add([story(2)])  # the pool replaced its connections
        assert heard.get(timeout=WAIT) == Change("default", 2)
        assert eventually(lambda: held_cache(reader).change_id == 2)
    finally:
        assert ear.stop()
        reader.close()
        writer.close()


def test_on_reconnection_held_collections_are_checked(pg_url, tmp_path):
    """What was committed while the listener was deaf was never announced: a (re)connection
    catches up every held collection."""
    writer = knowledge(tmp_path, "w", pg_url)
    reader = knowledge(tmp_path, "r", pg_url)
    try:
        writer.add([story(1)])
        search(reader, "default", "harbour s1 reopened")
        writer.add([story(2)])  # while nobody listens
        assert held_cache(reader).change_id == 1
        reader.start_listening()  # the first connection is a reconnection too
        assert eventually(lambda: held_cache(reader).change_id == 2)
    finally:
        reader.close()
        writer.close()


def test_stop_ends_the_thread_promptly_even_while_the_server_is_unreachable(pg_url):
    ear, _, _ = listener(pg_url)
    thread = ear._thread
    assert ear.stop(timeout=2) and thread is not None and not thread.is_alive()
    with socket.socket() as probe:  # a port nothing listens on: the listener is backing off
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    deaf = ChangeListener(f"postgresql://u:p@127.0.0.1:{port}/db", print, print, retry=(30.0, 30.0))
    deaf.start()
    time.sleep(0.3)
    assert deaf.running and not deaf.listening.is_set()
    assert deaf.stop(timeout=2) and not deaf.running


def test_a_failing_refresh_does_not_end_the_listening(pg_url, tmp_path):
    calls: list[Change] = []

    def flaky(change: Change) -> None:
        calls.append(change)
        if len(calls) == 1:
            raise RuntimeError("a refresh failed")

    writer = knowledge(tmp_path, "w", pg_url)
    ear = ChangeListener(pg_url, flaky, lambda: None)
    ear.start()
    try:
        assert ear.listening.wait(WAIT)
        writer.add([story(1)])
        writer.add([story(2)])
        assert eventually(lambda: len(calls) == 2) and ear.running
    finally:
        assert ear.stop()
        writer.close()


def test_sqlite_has_no_listener(kb):
    assert kb.start_listening() is False and not kb.listening
    assert "briefbot-changes" not in [t.name for t in threading.enumerate()]


def test_a_database_at_schema_version_1_is_migrated_to_announce_changes(
    pg_url, tmp_path, monkeypatch
):
    """Deployments made before the trigger get it on their next start."""
    import index.pg_store as pg

    everything = pg.MIGRATIONS
    monkeypatch.setattr(pg, "MIGRATIONS", everything[:1])
    old = pg.PgStore(pg_url)
    assert old.rows("SELECT MAX(version) FROM briefbot_schema")[0][0] == 1
    old.close()
    monkeypatch.setattr(pg, "MIGRATIONS", everything)
    writer = knowledge(tmp_path, "w", pg_url)
    ear, heard, _ = listener(pg_url)
    try:
        writer.add([story(1)])
        assert heard.get(timeout=WAIT) == Change("default", 1)
    finally:
        assert ear.stop()
        writer.close()
