"""An article whose text and metadata give no date stays undated: the answer says "date
unknown, added ..." (JSON: `as_of` null, `added` the day it was added), and `list` puts it
after the dated articles instead of treating the day it was added as its date."""

import json
from datetime import UTC, datetime

import pytest

from tests.bot.test_cli import run

UNDATED = (
    "Ferry service suspended at Brannock Sound\n\n"
    "The ferry operator suspended crossings at Brannock Sound after a storm damaged the pier. "
    "About 2,300 passengers a day use the route.\n\nSource: Harbour Gazette\n"
)
OLD = (
    "Brannock council elects new mayor\n\nThe Brannock council elected a new mayor by 31 votes "
    "to 9.\n\nSource: Harbour Gazette\nPublished: 2005-03-14\n"
)
NEW = (
    "Brannock opens tidal power plant\n\nA tidal power plant opened near Brannock, supplying "
    "power to 12,000 homes.\n\nSource: Harbour Gazette\nPublished: 2026-10-01\n"
)


@pytest.fixture(autouse=True)
def _fake_model(fake_model):
    """The hashing fake embedder (tests/conftest.py)."""


def _add(capsys, tmp_path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, _out, err = run(capsys, "add", str(path))
    assert code == 0, err


def test_an_undated_answer_has_no_as_of_but_says_when_it_was_added(capsys, tmp_path):
    _add(capsys, tmp_path, "ferry.txt", UNDATED)
    today = datetime.now(UTC).date()
    code, out, _ = run(capsys, "ask", "--json", "How many passengers use the Brannock ferry?")
    data = json.loads(out)
    assert code == 0 and not data["abstained"]
    assert data["as_of"] is None
    assert data["added"] == today.isoformat()
    assert data["as_of_source"] == "Harbour Gazette"
    first = data["citations"][0]
    assert first["published"] is None
    assert datetime.fromisoformat(first["added_at"]).date() == today

    code, out, _ = run(capsys, "ask", "How many passengers use the Brannock ferry?")
    assert code == 0
    assert "As of" not in out
    assert f"Date unknown, added {today:%-d %b %Y}, Harbour Gazette" in out


def test_a_dated_answer_keeps_its_published_date(capsys, tmp_path):
    _add(capsys, tmp_path, "plant.txt", NEW)
    code, out, _ = run(capsys, "ask", "--json", "How many homes does the tidal plant power?")
    data = json.loads(out)
    assert data["as_of"] == "2026-10-01"
    assert data["added"] == datetime.now(UTC).date().isoformat()


def test_list_orders_by_publication_date_with_undated_articles_last(capsys, tmp_path):
    _add(capsys, tmp_path, "new.txt", NEW)
    _add(capsys, tmp_path, "old.txt", OLD)
    _add(capsys, tmp_path, "ferry.txt", UNDATED)  # added last, still listed last
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [a["published"] for a in listed] == ["2026-10-01", "2005-03-14", None]

    code, out, _ = run(capsys, "list")
    assert code == 0
    assert out.index("1 Oct 2026") < out.index("14 Mar 2005") < out.index("date unknown")
