"""Export/import round trips, damaged archives, a consistent export during writes, reindex."""

from __future__ import annotations

import gzip
import json
import threading
from datetime import date

import pytest

from index.backup import export_collection, load_archive
from index.errors import InputError
from index.knowledge import KnowledgeBase
from index.models import RawArticle
from index.reindex import reindex
from index.staging import ReindexStaging
from tests.conftest import HashingEmbedder, search

# The same behaviour on both stores (tests/conftest.py `backend`).
pytestmark = pytest.mark.usefixtures("backend")


def articles(count: int, tag: str = "a") -> list[RawArticle]:
    return [
        RawArticle(
            text=f"Report {tag}{n}: officials said {n} troops moved to the border.\n\n"
            f"Second paragraph of {tag}{n} with more detail about the move.",
            title=f"Title {tag}{n} \u200f\u05e9\u05dc\u05d5\u05dd",
            source="Wire",
            url=f"https://example.org/{tag}{n}",
            published=date(2026, 11, 1 + n % 20),
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("name", ["backup.jsonl", "backup.jsonl.gz"])
def test_round_trip_into_a_new_data_dir(kb, tmp_path, name, fake_embedder):
    kb.add(articles(5))
    path = tmp_path / name
    header = export_collection(kb.store, "default", path)
    assert header.articles == 5
    assert not list(tmp_path.glob(".*.tmp"))  # written beside, renamed into place

    from index.settings import IndexSettings

    other = KnowledgeBase(IndexSettings(data_dir=tmp_path / "other"), embedder=fake_embedder)
    raw = load_archive(path).articles
    outcomes = other.add(raw, "restored")
    assert [o.status for o in outcomes] == ["added"] * 5
    before = sorted(kb.list("default"), key=lambda a: a.content_hash)
    after = sorted(other.list("restored"), key=lambda a: a.content_hash)
    for a, b in zip(before, after, strict=True):
        assert (a.title, a.source, a.url, a.published, a.added_at, a.content_hash) == (
            b.title,
            b.source,
            b.url,
            b.published,
            b.added_at,
            b.content_hash,
        )
        assert kb.text("default", a.id) == other.text("restored", b.id)
    again = other.add(load_archive(path).articles, "restored")
    assert {o.status for o in again} == {"unchanged"}  # importing twice is a no-op
    assert other.verify().ok
    other.close()


def test_empty_collection_exports_an_empty_archive(kb, tmp_path):
    header = export_collection(kb.store, "nothing", tmp_path / "b.jsonl")
    assert header.articles == 0 and load_archive(tmp_path / "b.jsonl").articles == []


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty file"),
        (b"\x00\x01binary", "not a Briefbot archive"),
        (b'{"format": "something-else", "version": 1}\n', "not a Briefbot archive"),
        (b'{"format": "briefbot-export", "version": 99, "collection": "d", "articles": 0, '
         b'"exported_at": ""}\n', "newer"),
    ],
)  # fmt: skip
def test_bad_archives_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_archive(path)


def test_followed_feeds_travel_with_the_articles(kb, tmp_path):
    from index.feeds.state import FeedState

    kb.add(articles(2))
    state = FeedState(kb.store)
    state.add_feed("default", "https://n.example/", "https://n.example/rss", "N", "42", 1.0, 9)
    state.add_feed("other", "https://o.example/rss", "https://o.example/rss", "O", None, 1.0, 9)
    path = tmp_path / "b.jsonl"
    header = export_collection(kb.store, "default", path)
    assert (header.version, header.articles, header.feeds) == (2, 2, 1)
    archive = load_archive(path)
    assert len(archive.articles) == 2
    [feed] = archive.feeds  # only this collection's
    assert (feed.url, feed.feed_url, feed.title, feed.channel_id) == (
        "https://n.example/",
        "https://n.example/rss",
        "N",
        "42",
    )
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))  # the feed line lost: the whole archive is refused
    with pytest.raises(InputError, match=r"incomplete \(2 lines for 2 articles and 1 feed\)"):
        load_archive(path)
    path.write_text("".join(lines[:-1]) + '{"feed": {"url": ""}}\n')
    with pytest.raises(InputError, match="line 4 is not a valid feed"):
        load_archive(path)


def test_version_1_archives_without_feeds_still_import(tmp_path):
    path = tmp_path / "v1.jsonl"
    header = {"format": "briefbot-export", "version": 1, "collection": "d", "articles": 1}
    article = {
        "title": "T",
        "source": None,
        "url": None,
        "published": None,
        "added_at": "2026-11-01T00:00:00+00:00",
        "content_hash": "x",
        "raw_text": "Text.",
    }
    path.write_text(json.dumps(header | {"exported_at": ""}) + "\n" + json.dumps(article) + "\n")
    archive = load_archive(path)
    assert archive.header.feeds == 0 and archive.feeds == []
    assert [a.text for a in archive.articles] == ["Text."]


def test_truncated_archive_imports_nothing(kb, tmp_path):
    kb.add(articles(4))
    path = tmp_path / "b.jsonl"
    export_collection(kb.store, "default", path)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))
    with pytest.raises(InputError, match="incomplete"):
        load_archive(path)
    gz = tmp_path / "b.jsonl.gz"
    export_collection(kb.store, "default", gz)
    gz.write_bytes(gz.read_bytes()[:-30])
    with pytest.raises(InputError, match="cannot read|incomplete"):
        load_archive(gz)


def test_export_is_consistent_while_another_thread_writes(kb, tmp_path):
    kb.add(articles(3, "base"))
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set() and n < 200:
            kb.add(articles(1, f"w{n}x"))
            n += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        for round_ in range(5):
            path = tmp_path / f"b{round_}.jsonl"
            header = export_collection(kb.store, "default", path)
            lines = path.read_text().splitlines()
            assert len(lines) - 1 == header.articles >= 3
            hashes = [json.loads(line)["content_hash"] for line in lines[1:]]
            assert len(set(hashes)) == len(hashes)
    finally:
        stop.set()
        thread.join(timeout=60)


def test_reindex_switches_model_and_resumes_after_a_crash(settings, fake_embedder):
    kb = KnowledgeBase(settings, embedder=fake_embedder)
    kb.add(articles(6))
    kb.close()

    class Crashing(HashingEmbedder):
        def encode(self, texts):
            if self.calls >= 1:
                raise RuntimeError("killed")
            return super().encode(texts)

    crashing = Crashing(dimension=32, name="new/model")
    half = KnowledgeBase(settings, embedder=crashing, check_model=False)
    with pytest.raises(RuntimeError):
        reindex(half, batch_size=2)
    half.close()
    old = KnowledgeBase(settings, embedder=fake_embedder)  # still whole on the old model
    assert old.verify().ok and search(old, "default", "troops border")
    old.close()

    new_embedder = HashingEmbedder(dimension=32, name="new/model")
    new = KnowledgeBase(settings, embedder=new_embedder, check_model=False)
    report = reindex(new, batch_size=2)
    assert report.previous_model == "hashing:64" and report.model == "new/model"
    assert report.embedded < report.chunks  # resumed: the staged batch was kept
    new.close()
    reopened = KnowledgeBase(settings, embedder=HashingEmbedder(dimension=32, name="new/model"))
    assert reopened.verify().ok
    assert search(reopened, "default", "troops border")
    assert ReindexStaging(reopened.store).model() is None
    reopened.close()
    with pytest.raises(Exception, match="reindex"):
        KnowledgeBase(settings, embedder=fake_embedder)


def test_writer_with_the_old_model_is_stopped_after_a_reindex(settings, fake_embedder):
    old = KnowledgeBase(settings, embedder=fake_embedder)
    old.add(articles(2))
    new = KnowledgeBase(settings, embedder=HashingEmbedder(name="new/model"), check_model=False)
    reindex(new)
    with pytest.raises(Exception, match="reindex"):
        old.add(articles(1, "late"))
    with pytest.raises(Exception, match="reindex"):
        search(old, "default", "troops")
    assert new.verify().ok


def test_gzip_archive_is_really_compressed(kb, tmp_path):
    kb.add(articles(2))
    path = tmp_path / "b.jsonl.gz"
    export_collection(kb.store, "default", path)
    with gzip.open(path, "rt") as handle:
        assert json.loads(handle.readline())["format"] == "briefbot-export"
