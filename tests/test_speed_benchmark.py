"""The speed benchmark's scaled-down run, so the script cannot rot (no timing is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import speed
from tests.conftest import SHARED, needs_shared

SQUAD = SHARED / "bench" / "squad2-dev16.json"


@pytest.mark.slow
def test_quick_run_reports_every_figure(tmp_path: Path) -> None:
    needs_shared(SQUAD)
    out = tmp_path / "speed.json"
    assert speed.main(["--quick", "--squad", str(SQUAD), "--json", str(out)]) == 0
    figures = json.loads(out.read_text())["figures"]
    ingest = figures["ingest"]
    assert ingest["articles"] == speed.QUICK.articles
    assert ingest["sentences_encoded"] > ingest["chunks"] > 0
    assert ingest["ratio"] > 0
    # The limit is the issue's: sentence-transformers on the articles' own paragraphs, batch 32.
    assert ingest["paragraphs"] > ingest["articles"]
    assert (ingest["limit_batch"], ingest["batch_workers"]) == (32, 1)  # hashing: no workers
    for size in speed.QUICK.sizes:
        entry = figures["sizes"][str(size)]
        assert entry["chunks"] >= size
        assert entry["answer_ms"]["n"] == speed.QUICK.questions
        assert entry["add_one"]["embedding_seconds"] >= 0
    memory = figures["memory"]
    assert memory["chunks"] >= speed.QUICK.sizes[-1]
    assert memory["disk_bytes_per_chunk"] > 0
    assert set(figures["cold_start"]) >= {"ask_seconds", "run_check_seconds"}
