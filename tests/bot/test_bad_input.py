"""Hostile and odd input: a clear answer or a clear error, never a traceback or stored garbage."""

from __future__ import annotations

import json
import random

import pytest

from bot import cli
from bot.service import Briefbot, Overrides
from index.errors import InputError
from index.knowledge import KnowledgeBase

BODY = "The minister said 300 troops were deployed to the northern border on Monday."


@pytest.fixture
def app(settings, fake_embedder):
    bot = Briefbot(settings, KnowledgeBase(settings, embedder=fake_embedder))
    yield bot
    bot.close()


def add_file(app, tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    # These tests reuse one body; near-copies are not what they are about.
    return app.add_sources([str(path)], allow_duplicate=True)[0]


def assert_nothing_stored(app):
    assert app.list_articles() == []
    assert app.verify().ok


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.txt", b"", "no article text found (the file is empty)"),
        ("blank.md", b"  \n\t\r\n   \n", "no article text found (the file has only whitespace)"),
        ("invisible.txt", "\u200b\u200c\u200d\u2060\ufeff \u202e".encode(), "no article text"),
        ("binary.txt", bytes(range(256)) * 8, "binary file"),
        ("noise.txt", bytes(random.Random(1).randrange(1, 256) for _ in range(4000)), "no"),
        ("stray-byte.txt", "naïve café “quotes” — ".encode() * 20 + b"\xff", "not readable"),
        ("photo.jpg", b"\xff\xd8\xff\xe0 JFIF", "unsupported file type"),
    ],
)  # fmt: skip
def test_unusable_files_fail_clearly_and_store_nothing(app, tmp_path, name, data, message):
    outcome = add_file(app, tmp_path, name, data)
    assert outcome.status == "failed"
    assert message in outcome.error and name in outcome.error  # "no": not readable/no text
    assert_nothing_stored(app)


def test_legacy_encoding_is_decoded_not_mangled(app, tmp_path):
    text = "Café owners in Zürich said prices rose by 4 percent this year, officials said."
    outcome = add_file(app, tmp_path, "latin1.txt", text.encode("latin-1"))
    assert outcome.status == "added"
    assert "Café" in app.article(outcome.article.id)[1]


def test_zero_width_and_right_to_left_characters(app, tmp_path):
    raw = f"\u200b\u200f\n\u202eThe\u200b minister\u200d said\u202c {BODY}"
    outcome = add_file(app, tmp_path, "rtl.txt", raw.encode())
    assert outcome.status == "added"
    _, text = app.article(outcome.article.id)
    assert not any(ch in text for ch in "\u200b\u200d\u200f\u202e\u202c")
    answer = app.ask("how many troops were deployed?")
    assert not answer.abstained and "300" in answer.text
    hebrew = app.add_text(f"Title: \u200f\u05e9\u05dc\u05d5\u05dd \u200b\n\n{BODY} In Hebrew too.")
    assert hebrew.status == "added" and hebrew.article.title == "\u05e9\u05dc\u05d5\u05dd"


def test_invisible_only_title_becomes_untitled(app):
    outcome = app.add_text(BODY, overrides=Overrides(title="\u200b\u200f\u2060"))
    assert outcome.status == "added" and outcome.article.title == "Untitled"


def test_ten_thousand_character_title_is_bounded(app, tmp_path):
    outcome = app.add_text(BODY, overrides=Overrides(title="T" * 10_000))
    assert outcome.status == "added" and len(outcome.article.title) <= 300
    from_file = add_file(app, tmp_path, "t.txt", f"Title: {'W' * 10_000}\n\n{BODY} Again.".encode())
    assert from_file.status == "added" and len(from_file.article.title) <= 300
    source = app.add_text(
        BODY + " Third.", overrides=Overrides(source="S" * 10_000), allow_duplicate=True
    )
    assert len(source.article.source) <= 200


def test_fifty_megabyte_text_is_refused_with_its_size(app, tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:
        line = b"word " * 200 + b"\n"
        for _ in range(50_000_000 // len(line) + 1):
            handle.write(line)
    outcome = app.add_sources([str(path)])[0]
    assert outcome.status == "failed" and "too long" in outcome.error
    assert "limit" in outcome.error
    assert_nothing_stored(app)


@pytest.mark.parametrize("question", ["?", "a", "é"])
def test_one_character_questions_get_an_answer(app, question):
    app.add_text(BODY)
    answer = app.ask(question)
    assert answer.text  # an abstention is a clear answer


def test_long_question_is_refused_with_the_limit(app):
    with pytest.raises(InputError, match="too long.*limit 2,000"):
        app.ask("troops " * 2857)


@pytest.mark.parametrize("question", ["", "   ", "\u200b\n\t"])
def test_empty_question_is_refused(app, question):
    with pytest.raises(InputError, match="empty"):
        app.ask(question)


def test_markdown_and_mentions_in_questions(app):
    app.add_text(BODY)
    for question in [
        "@everyone how many **troops** were `deployed`? <@123> @here",
        "# heading\n> quote\n```\ncode\n``` [link](http://x) ||spoiler|| ~~x~~ how many troops?",
    ]:
        answer = app.ask(question)
        assert answer.text
    answer = app.ask("@everyone how many troops were deployed to the border?")
    assert not answer.abstained and "300" in answer.text


def test_asking_an_empty_collection(app):
    answer = app.ask("how many troops?", collection="nothing-here")
    assert answer.abstained and "no articles" in answer.text
    assert answer.citations == ()


def test_k_larger_than_the_collection_and_invalid_k(app):
    app.add_text(BODY)
    assert len(app.ask("how many troops were deployed?", k=1000).citations) == 1
    with pytest.raises(InputError, match="k must be"):
        app.ask("troops", k=0)
    with pytest.raises(InputError, match="k must be"):
        app.ask("troops", k=-3)


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "x" * 20_000],
        ["ask", "-k", "-2", "troops"],
        ["ask", "--json", "-c", "../etc", "troops"],
        ["import", "missing.jsonl"],
        ["show", "12345"],
        ["export", "no-such-folder/backup.jsonl"],
        ["export", "."],
    ],
)
def test_cli_errors_are_one_line_without_traceback(capsys, fake_model, argv):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("briefbot: ") and "Traceback" not in err and len(err.splitlines()) == 1


def test_cli_ask_empty_collection_json(capsys, fake_model):
    assert cli.main(["ask", "--json", "anything?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["abstained"] and data["citations"] == []
