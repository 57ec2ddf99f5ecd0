"""The CLI in-process with the fake embedder: every command, exit codes, the JSON contract."""

import io
import json

import pytest

from bot import cli
from tests.conftest import EXAMPLES

CONTRACT = {"question", "answer", "abstained", "citations", "mode", "timings_ms"}
CITATION_CONTRACT = {
    "n",
    "article_id",
    "title",
    "source",
    "url",
    "published",
    "passage",
    "start",
    "end",
    "score",
}


@pytest.fixture(autouse=True)
def _fake_model(fake_model):
    """Every command here runs on the hashing fake (tests/conftest.py)."""


def run(capsys, *argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_add_ask_list_show_remove_verify(capsys, tmp_path):
    code, out, _ = run(capsys, "add", str(EXAMPLES), "--json")
    assert code == 0
    rows = jsonl(out)
    assert len(rows) == 5 and {r["status"] for r in rows} == {"added"}

    code, out, _ = run(capsys, "ask", "--json", "How many members joined the Port Calder strike?")
    data = json.loads(out)
    assert code == 0
    assert set(data) >= CONTRACT
    assert data["mode"] == "extractive"
    assert not data["abstained"]
    assert "3,400" in data["answer"]
    assert set(data["citations"][0]) >= CITATION_CONTRACT
    first = data["citations"][0]
    assert first["title"].startswith("Dock workers")

    code, out, _ = run(capsys, "list", "--json")
    articles = json.loads(out)
    assert len(articles) == 5
    code, out, _ = run(capsys, "show", str(articles[0]["id"]), "--json")
    assert json.loads(out)["text"]
    code, out, _ = run(capsys, "remove", str(articles[0]["id"]))
    assert code == 0 and "removed" in out
    code, out, _ = run(capsys, "verify", "--json")
    assert code == 0 and json.loads(out)["ok"]
    code, out, _ = run(capsys, "stats", "--json")
    assert json.loads(out)["articles"] == 4


def test_adding_twice_changes_nothing(capsys):
    run(capsys, "add", str(EXAMPLES))
    code, out, _ = run(capsys, "add", str(EXAMPLES), "--json")
    assert code == 0 and {r["status"] for r in jsonl(out)} == {"unchanged"}


def test_failures_are_named_and_do_not_stop_the_batch(capsys, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x00binary")
    code, out, _ = run(
        capsys, "add", str(bad), str(tmp_path / "missing.md"), str(EXAMPLES / "05-port-strike.md")
    )
    assert code == 1
    assert "bad.txt: binary file" in out
    assert "missing.md: no such file or folder" in out
    assert "1 added" in out


def test_ask_from_stdin_prints_one_json_object_per_line(capsys, monkeypatch):
    run(capsys, "add", str(EXAMPLES))
    code, out, _ = run(
        capsys,
        "ask",
        "--json",
        "-",
        monkeypatch=monkeypatch,
        stdin="How many members joined the strike?\n\nWhat rate did the bank set?\n",
    )
    # One output line per input line, so a script can pair them: the blank one is an error.
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["question"] for r in rows] == [
        "How many members joined the strike?",
        "",
        "What rate did the bank set?",
    ]
    assert rows[1]["error"] == "the question is empty" and "answer" in rows[0]
    assert code == 1


def test_people_reading_stdin_answers_see_blank_lines_skipped(capsys, monkeypatch):
    run(capsys, "add", str(EXAMPLES))
    code, _, err = run(
        capsys, "ask", "-", monkeypatch=monkeypatch, stdin="What rate did the bank set?\n\n"
    )
    assert code == 0 and err == ""


def test_export_of_a_collection_that_does_not_exist_is_refused(capsys, tmp_path):
    run(capsys, "add", str(EXAMPLES))
    code, _, err = run(capsys, "export", str(tmp_path / "x.jsonl"), "-c", "nosuch")
    assert code == 2
    assert err.strip() == "briefbot: no collection named 'nosuch' (collections: default)"
    assert not (tmp_path / "x.jsonl").exists()


@pytest.mark.parametrize("value", ["0", "-1"])
def test_list_limit_must_be_positive(capsys, value):
    run(capsys, "add", str(EXAMPLES))
    code, _, err = run(capsys, "list", "--limit", value)
    assert code == 2
    assert err.strip() == f"briefbot: --limit must be at least 1 (got {value})"
    code, _, err = run(capsys, "feedback", "--limit", value)
    assert code == 2 and "--limit must be at least 1" in err


def test_title_or_url_with_several_sources_is_refused_before_anything_is_added(capsys):
    code, _, err = run(capsys, "add", str(EXAMPLES), "--title", "One title")
    assert code == 2
    assert "--title applies to one article" in err
    first, second = sorted(EXAMPLES.glob("*.md"))[:2]
    code, _, err = run(capsys, "add", str(first), str(second), "--url", "https://example.org/a")
    assert code == 2 and "--url applies to one article" in err
    code, out, _ = run(capsys, "list", "--json")
    assert json.loads(out) == []
    code, _, _ = run(capsys, "add", str(first), "--source", "Desk", "--published", "2026-11-01")
    assert code == 0


def test_overrides_and_human_output(capsys):
    run(
        capsys,
        "add",
        str(EXAMPLES / "03-central-bank-rates.md"),
        "--title",
        "Rates",
        "--source",
        "Desk",
        "--url",
        "https://example.org/r",
        "--published",
        "2026-11-07",
    )
    code, out, _ = run(capsys, "ask", "What interest rate did the Bank of Norland keep?")
    assert code == 0
    assert "Rates - Desk, 7 Nov 2026\n    https://example.org/r\n    [1] \u201c" in out
    assert "4.25 percent" in out


def test_errors_are_one_line_with_status_2(capsys):
    code, _, err = run(capsys, "ask", "   ")
    assert code == 2 and err.strip() == "briefbot: the question is empty"
    code, _, err = run(capsys, "show", "99")
    assert code == 2 and "no article #99" in err
    code, _, err = run(capsys, "ask", "x", "--collection", "bad/name")
    assert code == 2 and "invalid collection name" in err


def test_empty_collection_answers_plainly(capsys):
    code, out, _ = run(capsys, "ask", "--json", "How many troops?")
    data = json.loads(out)
    assert code == 0 and data["abstained"] and data["citations"] == []


def test_readding_with_explicit_metadata_updates_it_and_says_so(capsys):
    story = EXAMPLES / "05-port-strike.md"
    code, out, _ = run(capsys, "add", str(story), "--json")
    first = jsonl(out)[0]
    assert code == 0 and first["status"] == "added"

    code, out, _ = run(capsys, "add", str(story), "--source", "BBC", "--published", "2005-03-01")
    assert code == 0
    assert f"updated  #{first['article']['id']}" in out
    assert "updated its source 'BBC', published 2005-03-01" in out
    assert "1 updated" in out

    code, out, _ = run(capsys, "show", str(first["article"]["id"]), "--json")
    shown = json.loads(out)
    assert shown["source"] == "BBC" and shown["published"] == "2005-03-01"

    code, out, _ = run(capsys, "add", str(story), "--json")  # nothing given: nothing changes
    assert jsonl(out)[0]["status"] == "unchanged"
    code, out, _ = run(capsys, "verify", "--json")
    assert code == 0 and json.loads(out)["ok"]


def test_a_near_copy_is_skipped_not_failed(capsys, tmp_path):
    original = (EXAMPLES / "05-port-strike.md").read_text(encoding="utf-8")
    copy = tmp_path / "copy.md"
    copy.write_text(original.replace("said", "told reporters", 1), encoding="utf-8")
    code, out, _ = run(capsys, "add", str(EXAMPLES / "05-port-strike.md"), str(copy))
    assert code == 0
    assert "skipped" in out and "near-identical to #1" in out
    assert "--allow-duplicate" in out and "allow-duplicate to keep both" in out
    assert out.strip().splitlines()[-1] == "1 added, 1 skipped"


@pytest.mark.parametrize("command", [["add", str(EXAMPLES)], ["reindex"], ["ask", "hi"]])
def test_a_missing_model_is_one_line_naming_the_setting(capsys, monkeypatch, command):
    monkeypatch.setenv("BRIEFBOT_EMBEDDING_MODEL", "/nonexistent/model")
    code, out, err = run(capsys, *command)
    assert code == 2 and out == ""
    assert err == (
        "briefbot: invalid setting BRIEFBOT_EMBEDDING_MODEL: no model folder at "
        "/nonexistent/model\n"
    )


def test_a_data_dir_that_is_a_file_is_one_line(capsys, tmp_path):
    file = tmp_path / "not-a-dir"
    file.write_text("x")
    code, _, err = run(capsys, "--data-dir", str(file), "stats")
    assert code == 2
    setting = "--data-dir / BRIEFBOT_DATA_DIR"
    assert err == f"briefbot: invalid setting {setting}: {file} is a file, not a folder\n"


def test_markdown_pages_and_charsets_are_stored_as_clean_text(capsys, tmp_path):
    (tmp_path / "council.md").write_text(
        "# Council backs barrier\n\n**Riverside** council voted 7-2 for the barrier, said "
        "[Tom Hardy](https://example.org/t), the engineer.\n\n| item | value |\n|---|---|\n"
        "| Barrier | 4.2 million |\n",
        encoding="utf-8",
    )
    (tmp_path / "storm.html").write_text(
        "<html><body><article><h1>Storm cuts power</h1><p>A fierce autumn storm swept the "
        "coast on Sunday, cutting power to 40,000 homes.</p><p>Crews worked all night to "
        "restore supply, the utility said.</p></article></body></html>",
        encoding="utf-8",
    )
    ferry = "Ferry sails again\n\nThe ferry to Gdańsk sailed on Monday after the storm passed."
    (tmp_path / "ferry.txt").write_bytes(ferry.encode("utf-16"))
    (tmp_path / "legacy.txt").write_bytes(ferry.encode("iso-8859-2"))
    code, out, _ = run(capsys, "add", str(tmp_path), "--json")
    assert code == 1  # one file refused, the others added
    failed = [r["error"] for r in jsonl(out) if r["status"] == "failed"]
    assert len(failed) == 1 and "'Gdańsk'" in failed[0]
    assert failed[0].startswith(f"{tmp_path / 'legacy.txt'}: cannot tell the character encoding")
    rows = {r["origin"].rsplit("/", 1)[-1]: r for r in jsonl(out) if r["status"] == "added"}
    assert set(rows) == {"council.md", "ferry.txt", "storm.html"}
    texts = {}
    for name in ("council.md", "storm.html", "ferry.txt"):
        _, shown, _ = run(capsys, "show", str(rows[name]["article"]["id"]), "--json")
        texts[name] = json.loads(shown)
    assert texts["council.md"]["title"] == "Council backs barrier"
    assert texts["council.md"]["text"] == (
        "Riverside council voted 7-2 for the barrier, said Tom Hardy, the engineer.\n\n"
        "item | value\nBarrier | 4.2 million"
    )
    assert texts["storm.html"]["title"] == "Storm cuts power"
    assert texts["storm.html"]["text"].startswith("A fierce autumn storm swept the coast")
    assert "40,000 homes.\n\nCrews worked" in texts["storm.html"]["text"]
    assert texts["ferry.txt"]["text"] == ferry.split("\n\n", 1)[1]


def test_a_source_that_cannot_be_read_is_named_in_the_json_origin(capsys, tmp_path):
    missing = tmp_path / "missing.txt"
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    code, out, _ = run(capsys, "add", str(missing), str(binary), "--json")
    rows = jsonl(out)
    assert code == 1 and [r["status"] for r in rows] == ["failed", "failed"]
    assert [r["origin"] for r in rows] == [str(missing), str(binary)]
