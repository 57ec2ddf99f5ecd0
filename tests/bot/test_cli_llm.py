"""`OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 briefbot ask ...` against the scripted server:
a cited written answer; and with nothing configured, the extractive path as before."""

import json

import pytest

from bot import cli
from tests.bot.fake_llm import Reply, passage_with, start_fake_llm, stop_fake_llm
from tests.conftest import EXAMPLES

QUESTION = "How many members joined the Port Calder strike?"


@pytest.fixture(autouse=True)
def _fake_model(fake_model):
    """Every command here runs on the hashing fake (tests/conftest.py)."""


@pytest.fixture
def fake_llm():
    fake, thread = start_fake_llm()
    yield fake
    stop_fake_llm(fake, thread)
    assert not fake.errors, fake.errors


def cited_reply(body):
    n = passage_with(body, "3,400")
    return Reply.answer(f"Around 3,400 members joined the strike, the union said [{n}].")


def test_ask_json_with_an_endpoint_gives_a_cited_llm_answer(capsys, monkeypatch, fake_llm):
    assert cli.main(["add", str(EXAMPLES)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.base_url)
    monkeypatch.setenv("BRIEFBOT_LLM_MODEL", "llama3.1")
    fake_llm.script(cited_reply)
    assert cli.main(["ask", "--json", QUESTION]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mode"] == "llm" and data["fallback_reason"] is None
    assert data["answer"] == "Around 3,400 members joined the strike, the union said [1]."
    assert data["checks"] == []
    (citation,) = data["citations"]
    assert citation["n"] == 1
    assert citation["title"] == "Dock workers at Port Calder begin 48-hour strike"
    assert "3,400" in citation["sentence"]["text"]
    assert fake_llm.requests[0].body["model"] == "llama3.1"


def test_ask_prints_the_written_answer_and_the_mode(capsys, monkeypatch, fake_llm):
    cli.main(["add", str(EXAMPLES)])
    capsys.readouterr()
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.base_url)
    fake_llm.script(cited_reply)
    assert cli.main(["ask", QUESTION]) == 0
    out = capsys.readouterr().out
    assert "Around 3,400 members joined the strike, the union said [1]." in " ".join(out.split())
    assert "Dock workers at Port Calder begin 48-hour strike - " in out
    assert "\n    [1] \u201c" in out
    assert "\nllm \u00b7 " in out


def test_a_failing_endpoint_shows_the_fallback_reason(capsys, monkeypatch, fake_llm):
    cli.main(["add", str(EXAMPLES)])
    capsys.readouterr()
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.base_url)
    fake_llm.script(Reply.error(500), Reply.error(500))
    assert cli.main(["ask", QUESTION]) == 0
    out = capsys.readouterr().out
    assert "3,400" in out
    assert "extractive \u00b7 " in out and "fell back: the LLM endpoint returned HTTP 500" in out


def test_nothing_configured_means_the_extractive_path_unchanged(capsys, fake_llm):
    cli.main(["add", str(EXAMPLES)])
    capsys.readouterr()
    assert cli.main(["ask", "--json", QUESTION]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mode"] == "extractive" and data["fallback_reason"] is None
    assert data["answer"].startswith("The Calder Dockers Union said around 3,400 members")
    assert fake_llm.requests == []
