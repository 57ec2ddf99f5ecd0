"""The real CLI in a subprocess with the real bundled model, on real news articles."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import CORPORA, EXAMPLES, needs_shared

pytestmark = pytest.mark.slow


def briefbot(data_dir, *args, stdin=None):
    env = {**os.environ, "BRIEFBOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    needs_shared(CORPORA / "seed")
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    result = briefbot(data_dir, "add", str(CORPORA / "seed"), str(CORPORA / "bbc-politics"))
    assert result.returncode == 0, result.stderr
    assert "14 added" in result.stdout
    return data_dir


def test_troops_question_cites_the_seed_article(corpus_dir):
    questions = "How many troops were deployed?\nWhat is the population of Glasgow?\n"
    result = briefbot(corpus_dir, "ask", "--json", "-", stdin=questions)
    assert result.returncode == 0, result.stderr
    troops, glasgow = [json.loads(line) for line in result.stdout.splitlines()]
    assert not troops["abstained"]
    assert "11,000" in troops["answer"]
    assert "11,000" in troops["highlight"]
    first = troops["citations"][0]
    assert first["source"] == "Yonhap News Agency"
    assert troops["answer"] in first["passage"]
    assert glasgow["abstained"]


def test_broken_word_passage_is_found(corpus_dir):
    result = briefbot(corpus_dir, "ask", "--json", "What are the potential security implications?")
    data = json.loads(result.stdout)
    assert any("potential security implications" in c["passage"] for c in data["citations"][:3])


def test_adding_again_changes_nothing_and_verify_passes(corpus_dir):
    again = briefbot(
        corpus_dir, "add", "--json", str(CORPORA / "seed"), str(CORPORA / "bbc-politics")
    )
    assert {json.loads(line)["status"] for line in again.stdout.splitlines()} == {"unchanged"}
    listed = json.loads(briefbot(corpus_dir, "list", "--json").stdout)
    removed = briefbot(corpus_dir, "remove", str(listed[0]["id"]))  # newest: a BBC one
    assert removed.returncode == 0
    verify = briefbot(corpus_dir, "verify")
    assert verify.returncode == 0, verify.stdout
    readd = briefbot(corpus_dir, "add", str(CORPORA / "bbc-politics"))
    assert "1 added" in readd.stdout and "12 unchanged" in readd.stdout
    assert briefbot(corpus_dir, "verify").returncode == 0


def test_examples_quickstart_question(tmp_path):
    data_dir = tmp_path / "data"
    assert briefbot(data_dir, "add", str(EXAMPLES)).returncode == 0
    result = briefbot(data_dir, "ask", "How many residents were ordered to evacuate?")
    assert result.returncode == 0, result.stderr
    assert "15,000" in result.stdout and "[1]" in result.stdout
