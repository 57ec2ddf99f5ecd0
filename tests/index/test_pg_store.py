"""The PostgreSQL store's own promises: settings that never show the password, one clear line
when the server cannot be reached at start, a restart in use costs the calls in that window and
no write, migrations that are idempotent under concurrent starts, and writers in several
processes (killed mid-add) that never lose or double what they reported added."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot import cli
from bot.settings import Settings
from index.errors import StoreUnavailableError
from index.knowledge import KnowledgeBase
from index.models import RawArticle
from index.settings import masked_url
from tests.conftest import HashingEmbedder, search
from tests.pg_server import PASSWORD


def story(n: int, tag: str = "s") -> RawArticle:
    words = " ".join(f"{tag}word{n}x{i}" for i in range(30))
    text = f"Report {tag} number {n} says the harbour {tag}{n} reopened. {words}. It closed."
    return RawArticle(text=text, title=f"{tag} {n}", source="Wire", origin=f"{tag}-{n}")


def with_password(url: str, password: str | None) -> str:
    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    user = parts.username or ""
    netloc = f"{user}:{password}@{host}" if password is not None else f"{user}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def test_the_password_is_masked_wherever_the_url_is_shown(monkeypatch):
    url = f"postgresql://briefbot:{PASSWORD}@db.example:5433/news"
    monkeypatch.setenv("BRIEFBOT_STORE_URL", url)
    settings = Settings()
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.model_dump())
    assert masked_url(url) == "postgresql://briefbot:***@db.example:5433/news"
    assert masked_url("postgresql://me@db/news") == "postgresql://me@db/news"


@pytest.mark.parametrize(
    ("url", "said"),
    [("mysql://me@db/news", "postgresql://"), ("postgresql://me@db", "name the database")],
)
def test_a_url_that_is_not_postgresql_is_one_settings_line(monkeypatch, capsys, url, said):
    monkeypatch.setenv("BRIEFBOT_STORE_URL", url)
    assert cli.main(["stats"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("briefbot: invalid setting BRIEFBOT_STORE_URL") and said in err
    assert len(err.splitlines()) == 1


def test_a_wrong_password_at_start_is_one_line_naming_the_host(pg_url, monkeypatch, capsys):
    right = urlsplit(pg_url).password or ""
    wrong = "not-the-" + right
    monkeypatch.setenv("BRIEFBOT_STORE_URL", with_password(pg_url, wrong))
    assert cli.main(["stats"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "password authentication failed" in err and urlsplit(pg_url).hostname in err
    assert wrong not in err and right not in err


def test_the_password_may_come_from_pgpassword(pg_url, monkeypatch, capsys, fake_model):
    monkeypatch.setenv("BRIEFBOT_STORE_URL", with_password(pg_url, None))
    monkeypatch.setenv("PGPASSWORD", urlsplit(pg_url).password or "")
    assert cli.main(["stats"]) == 0


def test_an_unreachable_server_at_start_is_one_line_and_exit_2(monkeypatch, capsys):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("BRIEFBOT_STORE_URL", f"postgresql://u:{PASSWORD}@127.0.0.1:{port}/db")
    started = time.monotonic()
    assert cli.main(["list"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"127.0.0.1:{port}" in err and PASSWORD not in err
    assert time.monotonic() - started < 30


def test_briefbot_run_with_an_unreachable_store_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("DISCORD_TOKEN", "MTA" + "a" * 21 + "." + "b" * 6 + "." + "c" * 27)
    monkeypatch.setenv("BRIEFBOT_STORE_URL", f"postgresql://u:{PASSWORD}@127.0.0.1:1/db")
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "127.0.0.1:1" in err and PASSWORD not in err


def test_migrations_are_idempotent_under_concurrent_starts(pg_url):
    from index.pg_store import MIGRATIONS, PgStore

    errors: list[BaseException] = []
    stores: list[PgStore] = []

    def start() -> None:
        try:
            stores.append(PgStore(pg_url, pool_size=1))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    from index.interfaces import PassageSource

    assert isinstance(stores[0], PassageSource)
    versions = stores[0].rows("SELECT version FROM briefbot_schema ORDER BY version")
    assert [v[0] for v in versions] == list(range(1, len(MIGRATIONS) + 1))
    for store in stores:
        store.close()


def test_an_article_added_by_one_process_is_answerable_from_another(pg_url, tmp_path, monkeypatch):
    """Two knowledge bases with their own data dirs (their own caches) on one database:
    the reader's per-question change-id check sees the writer's commit at once."""
    monkeypatch.setenv("BRIEFBOT_STORE_URL", pg_url)
    embedder = HashingEmbedder()
    writer = KnowledgeBase(Settings(data_dir=tmp_path / "a"), embedder=embedder)
    reader = KnowledgeBase(Settings(data_dir=tmp_path / "b"), embedder=embedder)
    writer.add([story(1)])
    assert search(reader, "default", "harbour s1 reopened")[0].article.title == "s 1"
    writer.add([story(2)])
    assert search(reader, "default", "harbour s2 reopened")[0].article.title == "s 2"
    assert reader.verify().ok
    writer.close()
    reader.close()


def test_a_restart_costs_the_calls_in_its_window_and_no_write(
    pg_server, pg_url, settings, monkeypatch
):
    if pg_server.data is None:
        pytest.skip("BRIEFBOT_TEST_POSTGRES_DATA not set: cannot restart CI's server")
    monkeypatch.setenv("BRIEFBOT_STORE_URL", pg_url)
    kb = KnowledgeBase(Settings(data_dir=settings.data_dir), embedder=HashingEmbedder())
    kb.add([story(1)])
    pg_server.ctl("stop")
    try:
        with pytest.raises(StoreUnavailableError) as caught:
            kb.stats("default")
        said = str(caught.value)
        assert len(said.splitlines()) == 1 and (urlsplit(pg_url).password or "") not in said
    finally:
        pg_server.ctl("start")
    assert kb.stats("default").articles == 1  # the pool reconnected; the write is there
    pg_server.ctl("restart")  # a restart between calls: the pool's check replaces the conns
    outcomes = kb.add([story(2)])
    assert [o.status for o in outcomes] == ["added"], [o.error for o in outcomes]
    assert kb.stats("default").articles == 2 and kb.verify().ok
    assert search(kb, "default", "harbour s2 reopened")[0].article.title == "s 2"
    kb.close()


def test_writers_in_two_processes_killed_mid_add_lose_and_double_nothing(
    pg_url, tmp_path, monkeypatch
):
    """Two `briefbot add --json` processes with their own data dirs write into one database at
    once and are SIGKILLed mid-add; a third data dir then holds every article either reported
    added, once, and verify passes there."""
    import random

    from benchmarks import torture

    monkeypatch.setenv("BRIEFBOT_STORE_URL", pg_url)
    procs = []
    for tag in ("p", "q"):
        paths = torture.make_corpus(tmp_path / f"corpus-{tag}", tag, 40, random.Random(tag))
        procs.append(
            subprocess.Popen(
                torture._cli("add", *map(str, paths), "--json"),
                env=torture.child_env(tmp_path / tag),
                cwd=tmp_path,
                stdout=subprocess.PIPE,
            )
        )
    seen: list[bytes] = [b"", b""]
    deadline = time.monotonic() + 120
    for i, proc in enumerate(procs):  # each has reported a few adds: both are mid-add
        assert proc.stdout is not None
        while len(torture.parse_added(seen[i])) < 3 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "the add process stopped early"
            seen[i] += line
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
    reported: dict[int, str] = {}
    for i, proc in enumerate(procs):
        rest, _ = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        reported.update(torture.parse_added(seen[i] + rest))
    assert len(reported) >= 6
    third = KnowledgeBase(Settings(data_dir=tmp_path / "third"), embedder=HashingEmbedder())
    stored = third.list("default", limit=10_000)
    hashes = [a.content_hash for a in stored]
    assert len(hashes) == len(set(hashes))  # nothing doubled
    by_id = {a.id: a.content_hash for a in stored}
    assert all(by_id.get(i) == h for i, h in reported.items())  # nothing reported lost
    assert third.verify().ok
    assert search(third, "default", "Report px0")[0].article.title == "Report px0"
    third.close()


def sqlite_deployment(tmp_path: Path) -> KnowledgeBase:
    """A data dir on SQLite with two collections, a followed feed and the bot's feedback."""
    from bot.feedback import FeedbackStore
    from index.feeds.state import EntryRecord, FeedState

    kb = KnowledgeBase(Settings(data_dir=tmp_path / "data"), embedder=HashingEmbedder())
    kb.add([story(n) for n in range(3)])
    [added] = kb.add([story(9, "g")], collection="guild-1")
    kb.remove("default", 2)
    state = FeedState(kb.store)
    feed, _ = state.add_feed(
        "guild-1", "https://n.example/", "https://n.example/rss", "N", "42", 1.0, 10
    )
    state.record_entry(
        feed, EntryRecord("g1", "https://n.example/1", "f", "added", added.article.id), 2.0
    )
    feedback = FeedbackStore(kb.store)
    answer = feedback.record_answer(
        "guild-1", "who?", {"abstained": True, "answer": "-"}, user_id=2**62, channel_id=2**61
    )
    feedback.vote(answer, 2**60, up=False)
    return kb


def test_migrate_copies_everything_keeping_ids_and_refuses_a_full_target(
    tmp_path, pg_url, monkeypatch, capsys, fake_model
):
    import json

    from bot.feedback import FeedbackStore
    from index.feeds.state import FeedState

    kb = sqlite_deployment(tmp_path)
    before = {c: [a.id for a in kb.list(c)] for c in ("default", "guild-1")}
    follow_up = FeedbackStore(kb.store).to_follow_up()
    kb.close()
    assert cli.main(["migrate", "--to", pg_url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["articles"] == 3 and report["counts"]["collections"] == 2
    assert report["counts"]["feed_entries"] == 1 and report["counts"]["bot_feedback"] == 1
    assert urlsplit(pg_url).password not in json.dumps(report)

    monkeypatch.setenv("BRIEFBOT_STORE_URL", pg_url)
    moved = KnowledgeBase(Settings(), embedder=HashingEmbedder())
    assert {c: [a.id for a in moved.list(c)] for c in before} == before
    assert moved.verify().ok  # the data dir's caches still match: same ids, same change ids
    assert search(moved, "guild-1", "harbour g9 reopened")[0].article.title == "g 9"
    assert FeedState(moved.store).feeds("guild-1")[0].stories_added == 1
    assert FeedbackStore(moved.store).to_follow_up() == follow_up
    [new] = moved.add([story(7)])
    assert new.article.id > max(before["default"] + before["guild-1"])  # ids continue
    moved.close()

    assert cli.main(["migrate", "--to", pg_url]) == 2
    assert "already holds" in capsys.readouterr().err
    assert cli.main(["migrate", "--to", pg_url, "--replace"]) == 0
    again = KnowledgeBase(Settings(), embedder=HashingEmbedder())
    assert again.stats("default").articles == 2  # the SQLite state again, story 7 gone
    again.close()


def test_migrate_is_all_or_nothing(tmp_path, pg_url, monkeypatch):
    import index.migrate as migration
    from index.pg_store import PgStore

    kb = sqlite_deployment(tmp_path)
    copy = migration._copy

    def failing(conn, out, table):
        if table == "feeds":
            raise RuntimeError("disk full")
        return copy(conn, out, table)

    monkeypatch.setattr(migration, "_copy", failing)
    target = PgStore(pg_url)
    with pytest.raises(RuntimeError):
        migration.migrate_store(kb.store, target)
    assert target.rows("SELECT COUNT(*) FROM articles")[0][0] == 0
    assert target.collections() == []
    target.close()
    kb.close()


def test_a_consistent_read_inside_a_write_sees_the_write(pg_url):
    from index.pg_store import PgStore

    store = PgStore(pg_url)
    with store.transaction() as conn:
        conn.execute("INSERT INTO collections(name, change_id) VALUES ('x', 7)")
        with store.reading() as again:
            assert again.execute("SELECT change_id FROM collections").fetchone()[0] == 7
    assert store.change_id("x") == 7
    store.close()


def test_caches_of_one_database_are_never_used_for_another(pg_server, tmp_path, monkeypatch):
    """One data dir pointed at a second database whose chunk ids and change id happen to be
    the same: its saved caches describe the first database's text and must be rebuilt."""
    data = Settings(data_dir=tmp_path / "data").data_dir
    found = []
    for order in ((1, 2), (2, 1)):  # the same two stories, stored in the other order
        with pg_server.database() as url:
            monkeypatch.setenv("BRIEFBOT_STORE_URL", url)
            kb = KnowledgeBase(Settings(data_dir=data), embedder=HashingEmbedder())
            kb.add([story(n) for n in order])
            found.append(search(kb, "default", "harbour s1 reopened")[0].article.title)
            kb.close()
    assert found == ["s 1", "s 1"]
