"""Crash and concurrency: the torture benchmark's functions at test-suite scale.

Child processes run the real CLI (`python -m bot.cli add`) with the test embedder
(BRIEFBOT_EMBEDDING_MODEL=hashing:64), and are SIGKILLed at seeded random moments.
"""

from __future__ import annotations

import pytest

from benchmarks import torture

pytestmark = pytest.mark.slow


def test_sigkill_during_add_loses_and_corrupts_nothing(tmp_path):
    report = torture.kill_adds(tmp_path, kills=20, seed=20261127, per_run=6, check_every=5)
    assert report.kills == 20  # runs that finished before their kill do not count
    assert report.finished_before_kill <= 20
    assert report.checks_failed == []
    check = report.check
    assert check is not None
    assert check.expected > 0  # some adds were reported before their kill
    assert check.found == check.expected, check
    assert check.stored >= check.expected
    assert check.foreign == 0
    assert check.verify_ok, check.problems


def test_four_processes_ten_adds_each(tmp_path):
    report = torture.concurrent_adds(tmp_path, processes=4, adds_each=10, seed=3)
    assert report.failures == []
    assert report.ids_reported == report.distinct_ids == 40
    assert report.check.stored == 40
    assert report.check.found == 40
    assert report.check.verify_ok, report.check.problems


def test_sigkill_during_reindex_leaves_one_model(tmp_path):
    report = torture.kill_reindex(tmp_path, kills=3, seed=5, articles=20)
    assert report.final_model == "hashing:32"
    assert report.check.found == report.check.expected == 20
    assert report.check.verify_ok, report.check.problems


def test_check_catches_a_lost_and_a_foreign_article(tmp_path):
    """The checker itself can fail: a missing reported article and garbage are both seen."""
    from index.knowledge import KnowledgeBase
    from index.models import RawArticle
    from index.settings import IndexSettings

    data = tmp_path / "data"
    kb = KnowledgeBase(IndexSettings(data_dir=data, embedding_model=torture.MODEL))
    added = kb.add([RawArticle(text="Troops were deployed to the border today.", title="T")])
    kb.close()
    article = added[0].article
    assert article is not None
    check = torture.check_data_dir(data, {article.id: article.content_hash, 999: "x"}, set())
    assert check.found == 1 and check.expected == 2 and check.foreign == 1 and not check.ok


def test_export_while_another_process_adds(tmp_path):
    """Each archive is one consistent snapshot: header count == lines, every article whole."""
    import json
    import subprocess
    import sys
    import time

    from index.backup import export_collection, load_archive
    from index.knowledge import KnowledgeBase
    from index.settings import IndexSettings

    data = tmp_path / "data"
    kb = KnowledgeBase(IndexSettings(data_dir=data, embedding_model=torture.MODEL))
    writer = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.torture", "worker", "--tag", "bg", "--count", "25"],
        env=torture.child_env(data),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    counts = []
    try:
        deadline = time.monotonic() + 120
        while writer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
            path = tmp_path / f"b{len(counts)}.jsonl"
            header = export_collection(kb.store, "default", path)
            articles = load_archive(path).articles  # refuses an archive whose count is off
            assert len(articles) == header.articles
            assert all(a.text.strip() for a in articles)
            counts.append(header.articles)
    finally:
        out, err = writer.communicate(timeout=120)
        kb.close()
    assert writer.returncode == 0, err.decode()[-500:]
    assert len([json.loads(line) for line in out.decode().splitlines()]) == 25
    assert counts == sorted(counts) and len(set(counts)) > 1  # exports really overlapped adds
