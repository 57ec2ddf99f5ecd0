"""`briefbot run`, `run --check`, `python -m bot` and `briefbot feedback`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli
from bot.feedback import FeedbackStore

ROOT = Path(__file__).resolve().parents[2]
FAKE_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"


def test_run_without_a_token_is_one_line_and_status_2(capsys):
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "DISCORD_TOKEN is not set" in err


def test_a_malformed_token_is_refused_without_echoing_it(capsys, monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "not-a-token-secret-value")
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert "does not look like a bot token" in err and "secret-value" not in err


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("abc.def.ghi", "its parts are too short or hold other characters"),
        ("only-one-part-but-long-enough-to-look-real", "three dot-separated parts, this one 1"),
    ],
)
def test_a_malformed_token_says_what_is_wrong_with_it(capsys, monkeypatch, token, why):
    """'three dot-separated parts' was said of a token that had three parts."""
    monkeypatch.setenv("DISCORD_TOKEN", token)
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert why in err and token not in err and err.count("\n") == 1


def test_a_token_pasted_with_its_bot_prefix_is_explained(capsys, monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", f"Bot {FAKE_TOKEN}")
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert "starts with 'Bot '" in err and "without that prefix" in err
    assert FAKE_TOKEN not in err and err.count("\n") == 1


def test_check_prints_the_commands(capsys, fake_model, monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", FAKE_TOKEN)
    assert cli.main(["add", str(ROOT / "examples" / "articles")]) == 0
    capsys.readouterr()
    assert cli.main(["run", "--check"]) == 0
    out = capsys.readouterr().out
    assert "/ask question:" in out and "/add [url:]" in out and out.rstrip().endswith("ready")
    assert "token: set" in out and FAKE_TOKEN not in out
    assert "index: ok; default (6 chunks)" in out and "{" not in out
    assert "answer reader: trained model" in out


def test_check_without_a_token_is_not_ready(capsys, fake_model):
    assert cli.main(["run", "--check"]) == 2
    out = capsys.readouterr().out
    assert "token: not set" in out
    assert out.rstrip().endswith("NOT ready: set DISCORD_TOKEN (environment or .env)")


def test_check_names_the_store_with_the_password_masked(backend, capsys, fake_model, monkeypatch):
    from urllib.parse import urlsplit

    monkeypatch.setenv("DISCORD_TOKEN", FAKE_TOKEN)
    assert cli.main(["run", "--check"]) == 0
    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if line.startswith("store: ")]
    if backend == "sqlite":
        assert line.startswith("store: SQLite /") and line.endswith("briefbot.sqlite3")
    else:
        import os

        url = os.environ["BRIEFBOT_STORE_URL"]
        password = urlsplit(url).password or ""
        assert line.startswith("store: PostgreSQL postgresql://briefbot:***@127.0.0.1:")
        assert password and password not in out


@pytest.mark.usefixtures("backend")
def test_feedback_lists_abstentions_as_json(capsys, settings):
    from index.knowledge import open_store

    shared = open_store(settings)
    store = FeedbackStore(shared)
    answer_id = store.record_answer("guild-1", "who?", {"abstained": False, "answer": "X"})
    store.vote(answer_id, 7, up=False)
    store.vote(answer_id, 7, up=False)  # voting again changes the vote, never adds one
    store.record_answer("guild-1", "what?", {"abstained": True, "answer": "not said"})
    assert store.answer(answer_id).question == "who?"
    store.close()
    shared.close()
    assert cli.main(["feedback", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert {(i["kind"], i["question"]) for i in items} == {("abstained", "what?"), ("down", "who?")}
    assert cli.main(["feedback", "-c", "guild-2"]) == 0
    assert "Nothing unanswered" in capsys.readouterr().out


@pytest.mark.slow
def test_run_check_with_the_real_model_in_a_subprocess(tmp_path):
    """What a user runs after set-up: `python -m bot --check` loads the bundled model."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "BRIEFBOT_DATA_DIR": str(tmp_path / "data"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr  # everything loads; only the token is missing
    assert "all-MiniLM-L6-v2" in result.stdout or "MiniLM" in result.stdout
    assert "commands (9, sync: global)" in result.stdout
    assert "token: not set" in result.stdout and "NOT ready" in result.stdout
    # Briefbot never uses voice: discord.py's warnings about voice libraries stay quiet.
    assert "PyNaCl" not in result.stderr and "davey" not in result.stderr


def test_a_rejected_token_is_one_line_and_status_2(capsys, monkeypatch, fake_model):
    import discord

    async def rejected(self, token, *, reconnect=True):
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.setattr("bot.chat.client.BriefbotClient.start", rejected)
    monkeypatch.setenv("DISCORD_TOKEN", FAKE_TOKEN)
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Discord rejected DISCORD_TOKEN" in err
    assert FAKE_TOKEN not in err
