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
