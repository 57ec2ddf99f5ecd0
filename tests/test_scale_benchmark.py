"""The scale benchmark's scaled-down run, so the script cannot rot (no timing is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import scale


@pytest.mark.slow
def test_quick_collections_run_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    assert scale.main(["collections", "--quick", "--hnsw", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())["figures"]["collections"]["sizes"]
    (size,) = scale.QUICK.sizes
    entry = figures[str(size)]
    assert entry["chunks"] == size
    for way in ("exact", "approximate"):
        assert entry["answer_ms"][way]["n"] == scale.QUICK.questions
        assert entry["memory_bytes_per_chunk"][way]["vectors_rss"] > 0
    assert 0.0 <= entry["recall_at_10"]["dense"] <= 1.0
    assert [row["value"] for row in entry["nprobe_sweep"]] == list(scale.QUICK.nprobe_sweep)
    assert [row["value"] for row in entry["hnsw"]["ef_sweep"]] == list(scale.QUICK.ef_sweep)
    assert set(entry["step_ms"]) >= {"encode", "dense_exact", "dense_ivf", "lexical_top_k"}


def test_the_postgresql_section_runs_on_a_small_scale(tmp_path, pg_url):
    """`scale.py pg`: two processes on one database, the first question after an add with and
    without the change listener (figures printed, none asserted)."""
    out = tmp_path / "pg.json"
    assert (
        scale.main(["pg", "--articles", "6", "--rounds", "3", "--url", pg_url, "--json", str(out)])
        == 0
    )
    figures = json.loads(out.read_text())["figures"]["pg"]
    after = figures["after_an_add_in_another_process"]
    assert after["without_listener"]["first_question"]["n"] == 3
    assert after["with_listener"]["caches_current_without_a_question"]["n"] == 3
    assert figures["visible_from_another_process"]["n"] == 3
