"""Damaged files: caches are detected, rebuilt from SQLite and reported; a damaged store is
refused with a clear error and is never written to."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3

import pytest

from index.errors import CorruptStoreError
from index.knowledge import KnowledgeBase
from index.models import RawArticle
from tests.conftest import search

TEXTS = [
    "Troops were deployed to the northern border on Monday, officials said.",
    "The central bank raised its main interest rate to 4.5 percent on Thursday.",
    "Dock workers at the port went on strike over pay and working hours.",
]


@pytest.fixture
def filled(settings, fake_embedder):
    kb = KnowledgeBase(settings, embedder=fake_embedder)
    kb.add([RawArticle(text=t, title=f"Article {i}") for i, t in enumerate(TEXTS)])
    kb.close()
    return settings.data_dir / "collections" / "default"


def manifest(folder):
    return json.loads((folder / "manifest.json").read_text())


def reopen_and_search(settings, fake_embedder, caplog):
    """A fresh process's view: it must answer, say why it rebuilt, and leave clean caches."""
    kb = KnowledgeBase(settings, embedder=fake_embedder)
    with caplog.at_level(logging.WARNING, logger="index.caches"):
        passages = search(kb, "default", "interest rate bank", k=2)
    assert passages and passages[0].article.title == "Article 1"
    assert any("rebuilding caches" in r.getMessage() for r in caplog.records)
    assert kb.verify().ok  # the rebuilt caches were saved
    kb.close()


def test_truncated_faiss_file(filled, settings, fake_embedder, caplog):
    path = filled / manifest(filled)["vectors"]
    path.write_bytes(path.read_bytes()[:40])
    assert not KnowledgeBase(settings, embedder=fake_embedder).verify().ok
    reopen_and_search(settings, fake_embedder, caplog)


def test_faiss_file_with_flipped_bytes(filled, settings, fake_embedder, caplog):
    path = filled / manifest(filled)["vectors"]
    data = bytearray(path.read_bytes())
    data[:4] = b"JUNK"
    path.write_bytes(bytes(data))
    reopen_and_search(settings, fake_embedder, caplog)


def test_missing_manifest(filled, settings, fake_embedder, caplog):
    (filled / "manifest.json").unlink()
    report = KnowledgeBase(settings, embedder=fake_embedder).verify()
    assert not report.ok and "manifest missing" in report.problems[0]
    reopen_and_search(settings, fake_embedder, caplog)


def test_manifest_naming_missing_files(filled, settings, fake_embedder, caplog):
    data = manifest(filled)
    (filled / data["vectors"]).unlink()
    shutil.rmtree(filled / data["lexical"])
    reopen_and_search(settings, fake_embedder, caplog)


def test_lexical_index_from_another_bm25s_version(filled, settings, fake_embedder, caplog):
    data = manifest(filled)
    data["bm25s"] = "0.0.1"
    (filled / "manifest.json").write_text(json.dumps(data))
    report = KnowledgeBase(settings, embedder=fake_embedder).verify()
    assert any("bm25s" in p for p in report.problems)
    reopen_and_search(settings, fake_embedder, caplog)


def test_lexical_index_of_other_chunks(filled, settings, fake_embedder, caplog):
    """Readable files that describe other chunks (a stale copy) are caught by the id check."""
    import numpy as np

    ids_file = filled / manifest(filled)["lexical"] / "chunk_ids.npy"
    np.save(ids_file, np.load(ids_file) + 1000)
    report = KnowledgeBase(settings, embedder=fake_embedder).verify()
    assert any("lexical index holds" in p for p in report.problems)
    reopen_and_search(settings, fake_embedder, caplog)


def test_garbage_manifest(filled, settings, fake_embedder, caplog):
    (filled / "manifest.json").write_text("{not json")
    reopen_and_search(settings, fake_embedder, caplog)


def test_verify_repair_rebuilds(filled, settings, fake_embedder):
    (filled / manifest(filled)["vectors"]).write_bytes(b"")
    kb = KnowledgeBase(settings, embedder=fake_embedder)
    report = kb.verify(repair=True)
    assert report.ok and "caches rebuilt" in report.repaired[0]
    assert kb.verify().ok


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _damage_pages(db):
    """Overwrite the chunks table's root page, keeping the header and the schema page valid
    (so the store opens, and only the check before writing can notice)."""
    conn = sqlite3.connect(db)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'chunks'").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(db.read_bytes())
    data[(root - 1) * size : (root - 1) * size + 64] = b"\xa5" * 64
    db.write_bytes(bytes(data))


def _checkpoint(db):
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def test_damaged_store_pages_refuse_writes(filled, settings, fake_embedder):
    db = settings.data_dir / "briefbot.sqlite3"
    _checkpoint(db)
    _damage_pages(db)
    before = _digest(db)
    kb = KnowledgeBase(settings, embedder=fake_embedder)
    with pytest.raises(CorruptStoreError, match="damaged"):
        kb.add([RawArticle(text="A brand new article about floods in the river city.", title="F")])
    with pytest.raises(CorruptStoreError):
        kb.remove("default", 1)
    report = kb.verify(repair=True)
    assert not report.ok and any(p.startswith("store:") for p in report.problems)
    kb.close()
    assert _digest(db) == before  # nothing written into the damaged file


def test_truncated_store_gives_clear_error(filled, settings, fake_embedder):
    db = settings.data_dir / "briefbot.sqlite3"
    _checkpoint(db)
    db.write_bytes(db.read_bytes()[:5000])
    before = _digest(db)
    with pytest.raises(CorruptStoreError, match="damaged"):
        kb = KnowledgeBase(settings, embedder=fake_embedder)
        kb.add([RawArticle(text="A brand new article about floods in the river city.", title="F")])
    assert _digest(db) == before


def test_cli_reports_damaged_store_without_traceback(filled, settings, capsys, monkeypatch):
    from bot import cli
    from tests.conftest import use_fake_model

    use_fake_model(monkeypatch)
    db = settings.data_dir / "briefbot.sqlite3"
    _checkpoint(db)
    _damage_pages(db)
    article = settings.data_dir.parent / "new.txt"
    article.write_text("Floods\n\nA brand new article about floods in the river city today.")
    code = cli.main(["add", str(article)])
    err = capsys.readouterr().err
    assert code == 2 and "damaged" in err and "Traceback" not in err


def test_damage_found_by_a_read_is_briefbots_error_not_sqlites(filled, settings, fake_embedder):
    """Discord's error handler and the CLI know BriefbotError only: a damaged page found by
    any read must arrive as one, with the same clear line."""
    db = settings.data_dir / "briefbot.sqlite3"
    _checkpoint(db)
    _damage_pages(db)
    kb = KnowledgeBase(settings, embedder=fake_embedder)
    with pytest.raises(CorruptStoreError, match="damaged .*Restore it from a backup"):
        kb.store.snapshot("default")
    with pytest.raises(CorruptStoreError):
        search(kb, "default", "troops deployed", k=3)
    kb.close()


def test_a_locked_store_is_a_clear_error(settings, fake_embedder):
    from index.errors import StoreUnavailableError

    kb = KnowledgeBase(settings, embedder=fake_embedder)
    kb.add([RawArticle(text=TEXTS[0], title="T")])
    other = sqlite3.connect(settings.data_dir / "briefbot.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    kb.store._conn().execute("PRAGMA busy_timeout=50")
    try:
        with pytest.raises(StoreUnavailableError, match="cannot be used right now .*locked"):
            kb.store.set_meta("probe", "1")
    finally:
        other.execute("ROLLBACK")
        other.close()
        kb.close()
