"""The maintenance commands through the CLI: verify --repair, reindex, export, import."""

from __future__ import annotations

import json
import sqlite3

import pytest

from bot import cli
from tests.conftest import EXAMPLES


@pytest.fixture(autouse=True)
def _test_model(monkeypatch):
    monkeypatch.setenv("BRIEFBOT_EMBEDDING_MODEL", "hashing:64")


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_export_then_import_elsewhere_and_twice(capsys, tmp_path):
    assert run(capsys, "add", str(EXAMPLES), "-c", "news")[0] == 0
    code, out, _ = run(capsys, "export", str(tmp_path / "news.jsonl.gz"), "-c", "news", "--json")
    assert code == 0 and json.loads(out)["articles"] == 5

    other = str(tmp_path / "restored")
    code, out, _ = run(capsys, "--data-dir", other, "import", str(tmp_path / "news.jsonl.gz"))
    assert code == 0 and "imported into 'news': 5 added" in out
    code, out, _ = run(capsys, "--data-dir", other, "import", str(tmp_path / "news.jsonl.gz"))
    assert code == 0 and "5 unchanged" in out
    code, out, _ = run(capsys, "--data-dir", other, "list", "-c", "news", "--json")
    assert len(json.loads(out)) == 5
    code, out, _ = run(
        capsys, "--data-dir", other, "import", str(tmp_path / "news.jsonl.gz"), "-c", "copy"
    )
    assert "imported into 'copy': 5 added" in out
    code, out, _ = run(capsys, "--data-dir", other, "ask", "-c", "copy", "--json", "strike?")
    assert code == 0 and json.loads(out)["question"] == "strike?"
    assert run(capsys, "--data-dir", other, "verify", "--all")[0] == 0


def _follow(data_dir, collection, url, channel=None):
    """A followed feed written straight into a data dir's store (following fetches it)."""
    from index.feeds.state import FeedState
    from index.knowledge import KnowledgeBase
    from index.settings import IndexSettings
    from tests.conftest import HashingEmbedder

    kb = KnowledgeBase(IndexSettings(data_dir=data_dir), embedder=HashingEmbedder(64))
    try:
        FeedState(kb.store).add_feed(collection, url, url + "rss", "Wire", channel, 1.0, 50)
    finally:
        kb.close()


def test_followed_feeds_are_restored_by_import(capsys, tmp_path, monkeypatch):
    assert run(capsys, "add", str(EXAMPLES), "-c", "news")[0] == 0
    _follow(tmp_path / "data", "news", "https://wire.example/", channel="42")
    _follow(tmp_path / "data", "news", "https://other.example/")
    code, out, _ = run(capsys, "export", str(tmp_path / "news.jsonl"), "-c", "news", "--json")
    assert code == 0 and json.loads(out) | {"path": None} == {
        "path": None,
        "collection": "news",
        "articles": 5,
        "feeds": 2,
    }
    other = str(tmp_path / "restored")
    for _ in range(2):  # twice: the feeds are not followed twice
        code, out, _ = run(capsys, "--data-dir", other, "import", str(tmp_path / "news.jsonl"))
        assert code == 0 and "following the archive's 2 feeds" in out
    code, out, _ = run(capsys, "--data-dir", other, "feeds", "-c", "news", "--json")
    feeds = json.loads(out)
    assert [(f["url"], f["feed_url"], f["title"], f["channel_id"]) for f in feeds] == [
        ("https://wire.example/", "https://wire.example/rss", "Wire", "42"),
        ("https://other.example/", "https://other.example/rss", "Wire", None),
    ]
    # Past the feed limit: the articles are in, the feeds up to the limit too, and it says so.
    monkeypatch.setenv("BRIEFBOT_FEED_MAX_FEEDS", "1")
    code, _, err = run(
        capsys, "--data-dir", other, "import", str(tmp_path / "news.jsonl"), "-c", "x"
    )
    assert code != 0 and "limit" in err and "1 of the archive's 2 feeds followed" in err
    code, out, _ = run(capsys, "--data-dir", other, "list", "-c", "x", "--json")
    assert len(json.loads(out)) == 5


def test_an_archive_with_a_bad_feed_link_is_refused_before_anything_is_written(capsys, tmp_path):
    assert run(capsys, "add", str(EXAMPLES), "-c", "news")[0] == 0
    _follow(tmp_path / "data", "news", "https://wire.example/")
    path = tmp_path / "news.jsonl"
    assert run(capsys, "export", str(path), "-c", "news")[0] == 0
    lines = path.read_text().splitlines()
    lines[-1] = lines[-1].replace("https://wire.example/rss", "file:///etc/passwd")
    path.write_text("\n".join(lines) + "\n")
    other = str(tmp_path / "restored")
    code, _, err = run(capsys, "--data-dir", other, "import", str(path))
    assert code != 0 and "only http and https links" in err
    code, out, _ = run(capsys, "--data-dir", other, "list", "-c", "news", "--json")
    assert json.loads(out) == []


def test_verify_repair_through_the_cli(capsys, tmp_path):
    run(capsys, "add", str(EXAMPLES))
    folder = tmp_path / "data" / "collections" / "default"
    (folder / "manifest.json").unlink()
    code, out, _ = run(capsys, "verify", "--json")
    assert code == 1 and not json.loads(out)["ok"]
    code, out, _ = run(capsys, "verify", "--repair")
    assert code == 0 and "repaired" in out
    assert run(capsys, "verify")[0] == 0


def test_reindex_is_the_way_to_change_models(capsys, monkeypatch):
    run(capsys, "add", str(EXAMPLES))
    monkeypatch.setenv("BRIEFBOT_EMBEDDING_MODEL", "hashing:32")
    code, _, err = run(capsys, "ask", "How many members joined the Port Calder strike?")
    assert code == 2 and "briefbot reindex" in err
    code, out, _ = run(capsys, "reindex", "--json")
    data = json.loads(out)
    assert code == 0 and data["model"] == "hashing:32" and data["previous_model"] == "hashing:64"
    assert data["chunks"] == data["embedded"] > 0
    code, out, _ = run(capsys, "ask", "--json", "How many members joined the Port Calder strike?")
    assert code == 0 and json.loads(out)["citations"]
    code, out, _ = run(capsys, "stats", "--json")
    assert json.loads(out)["model"] == "hashing:32"
    # The answer engine's sentence vectors were re-embedded too, not only the chunks'.
    db = sqlite3.connect(json.loads(out)["data_dir"] + "/briefbot.sqlite3")
    rows = db.execute("SELECT sentences, length(vector), length(sentence_vectors) FROM chunks")
    for sentences, vector_bytes, sentence_bytes in rows:
        assert vector_bytes == 32 * 4
        assert sentence_bytes == len(json.loads(sentences)) * 32 * 4


def test_bad_test_model_value_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.setenv("BRIEFBOT_EMBEDDING_MODEL", "hashing:big")
    code, _, err = run(capsys, "add", str(EXAMPLES))
    assert code == 2 and "hashing:N" in err


def test_counts_of_one_are_said_in_the_singular(capsys, monkeypatch, tmp_path):
    """One article of one chunk in one collection: never "1 chunks" or "1 collections"."""
    run(capsys, "add", str(EXAMPLES / "05-port-strike.md"))
    code, out, _ = run(capsys, "show", "1")
    assert code == 0 and "1 chunk, added" in out
    code, out, _ = run(capsys, "verify")
    assert code == 0 and out.strip() == "ok default: 1 chunk"
    code, out, _ = run(capsys, "export", str(tmp_path / "one.jsonl"))
    assert code == 0 and out.startswith("exported 1 article of 'default'")
    monkeypatch.setenv("BRIEFBOT_EMBEDDING_MODEL", "hashing:32")
    code, out, _ = run(capsys, "reindex")
    assert code == 0 and out.startswith("reindexed 1 chunk in 1 collection with hashing:32")
