"""Adding by link, PDF and upload through the service and the CLI: re-adding, updating,
syndicated copies, batches that go on after a failure, and `verify` after all of it."""

from __future__ import annotations

import json

import pytest

from bot import cli
from bot.service import Briefbot
from bot.settings import Settings
from index.knowledge import KnowledgeBase
from tests.conftest import HashingEmbedder
from tests.ingest_fixtures import (
    META_PAGE,
    NEWS_PAGE,
    NEWS_PARAGRAPHS,
    SYNDICATED,
    Route,
    html_route,
    make_pdf,
    wrap,
)

SAME_EVENT_OTHER_STORY = """<html><head><title>Harlow Ridge fire: what we know</title></head>
<body><article><h1>Harlow Ridge fire: what we know</h1>
<p>A wildfire near Harlow Ridge has led to the evacuation of about 1,200 people, according to
the county. Around 340 firefighters are on the lines with help from helicopters.</p>
<p>The blaze began on Saturday close to a campground and has grown to roughly 8,500 acres.
Investigators have not said what started it. Two shelters are open in Greenvale.</p>
<p>Rain is forecast for Thursday. Residents should follow the county's alerts page.</p>
</article></body></html>"""


@pytest.fixture(autouse=True)
def _fake_model(fake_model):
    """Every command here runs on the hashing fake (tests/conftest.py)."""


@pytest.fixture
def app(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", allow_private_urls=True, fetch_timeout=1)
    bot = Briefbot(settings, KnowledgeBase(settings, embedder=HashingEmbedder()))
    yield bot
    bot.close()


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err


def test_cli_add_url_readd_update_and_verify(capsys, monkeypatch, server):
    monkeypatch.setenv("BRIEFBOT_ALLOW_PRIVATE_URLS", "true")
    url = server.add("/news/wildfire", html_route(NEWS_PAGE))
    code, rows, _ = run(capsys, "add", url, "--json")
    assert code == 0 and rows[0]["status"] == "added"
    article = rows[0]["article"]
    assert article["title"] == "Wildfire forces 1,200 to evacuate Harlow Ridge"
    assert article["source"] == "Valley Courier" and article["url"] == url

    code, rows, _ = run(capsys, "add", url + "?utm_source=mail#comments", "--json")
    assert code == 0 and rows[0]["status"] == "unchanged"
    assert rows[0]["note"] == f"already added as #{article['id']}"

    updated = NEWS_PAGE.replace("1,200 residents", "2,400 residents")
    server.add("/news/wildfire", html_route(updated))
    code, rows, _ = run(capsys, "add", url, "--json")
    assert code == 0 and rows[0]["status"] == "replaced"
    assert rows[0]["article"]["id"] == article["id"]
    assert "changed" in rows[0]["note"]

    code, rows, _ = run(capsys, "show", str(article["id"]), "--json")
    assert "2,400 residents" in rows[0]["text"] and "1,200 residents" not in rows[0]["text"]
    code, rows, _ = run(capsys, "ask", "--json", "How many residents were evacuated?")
    assert "2,400" in rows[0]["answer"]
    code, rows, _ = run(capsys, "stats", "--json")
    assert rows[0]["articles"] == 1
    code, rows, _ = run(capsys, "verify", "--json")
    assert code == 0 and rows[0]["ok"]


def test_changed_page_reached_by_another_link_replaces_via_canonical(app, server):
    page = META_PAGE.replace("{host}", f"127.0.0.1:{server.port}")
    first = app.add_url(server.add("/m/1", html_route(page)))
    assert first.status == "added"
    changed = page.replace("seven to two", "eight to one")
    second = app.add_url(server.add("/amp/m/1", html_route(changed)))
    assert second.status == "replaced" and second.article.id == first.article.id
    assert second.article.url == first.article.url
    assert app.verify().ok


def test_syndicated_copy_is_refused_unless_allowed(app, server):
    original = app.add_url(server.add("/courier/fire", html_route(NEWS_PAGE)))
    assert original.status == "added"
    copy_url = server.add("/post/fire", html_route(SYNDICATED))
    copy = app.add_url(copy_url)
    assert copy.status == "skipped" and copy.duplicate_of == original.article.id
    assert copy.origin == copy_url and copy.error is None
    assert copy.note.startswith(f"near-identical to #{original.article.id}")
    assert "Valley Courier" in copy.note
    assert app.stats().articles == 1

    other = app.add_url(server.add("/other/fire", html_route(SAME_EVENT_OTHER_STORY)))
    assert other.status == "added"  # same facts, different wording: not a copy

    kept = app.add_url(copy_url, allow_duplicate=True)
    assert kept.status == "added" and kept.article.source == "Mountain Post"
    assert app.stats().articles == 3
    assert app.verify().ok


def test_cli_allow_duplicate_flag(capsys, monkeypatch, server):
    monkeypatch.setenv("BRIEFBOT_ALLOW_PRIVATE_URLS", "true")
    a = server.add("/a", html_route(NEWS_PAGE))
    b = server.add("/b", html_route(SYNDICATED))
    code, rows, _ = run(capsys, "add", a, b, "--json")
    # A copy refused on purpose is skipped, not failed: a script or a feed sees exit 0.
    assert code == 0 and [r["status"] for r in rows] == ["added", "skipped"]
    assert rows[1]["duplicate_of"] == rows[0]["article"]["id"]
    code, rows, _ = run(capsys, "add", b, "--allow-duplicate", "--json")
    assert code == 0 and rows[0]["status"] == "added"


def test_batch_goes_on_after_failures_and_stores_nothing_for_them(capsys, monkeypatch, server):
    monkeypatch.setenv("BRIEFBOT_ALLOW_PRIVATE_URLS", "true")
    monkeypatch.setenv("BRIEFBOT_FETCH_TIMEOUT", "0.5")
    good = server.add("/good", html_route(NEWS_PAGE))
    slow = server.add("/slow", Route(200, NEWS_PAGE.encode(), {"Content-Type": "text/html"}, 5))
    png = server.add("/img", Route(200, b"\x89PNG....", {"Content-Type": "image/png"}))
    code, rows, _ = run(capsys, "add", server.base + "/missing", slow, good, png, "--json")
    assert code == 1
    assert [r["status"] for r in rows] == ["failed", "failed", "added", "failed"]
    errors = [r["error"] for r in rows if r["status"] == "failed"]
    assert errors[0] == f"{server.base}/missing: HTTP 404 Not Found"
    assert errors[1].startswith(f"{slow}: timed out")
    assert errors[2].startswith(f"{png}: unsupported type 'image/png'")
    code, rows, _ = run(capsys, "list", "--json")
    assert [a["url"] for a in rows[0]] == [good]


def test_default_settings_refuse_private_links_without_connecting(capsys, server):
    url = server.add("/news", html_route(NEWS_PAGE))
    code, rows, _ = run(capsys, "add", url, "--json")
    assert code == 1 and rows[0]["status"] == "failed"
    assert rows[0]["error"] == f"{url}: blocked address 127.0.0.1 (loopback address)"
    assert server.connections == 0
    code, rows, _ = run(capsys, "add", "ftp://example.com/a.txt", "file:///etc/passwd", "--json")
    assert [r["error"] for r in rows] == [
        "ftp://example.com/a.txt: only http and https links can be added (not 'ftp')",
        "file:///etc/passwd: only http and https links can be added (not 'file')",
    ]


def test_cli_adds_pdf_and_folder_with_pdf(capsys, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "fire.pdf").write_bytes(
        make_pdf([["Harlow Ridge fire update", "", *wrap(" ".join(NEWS_PARAGRAPHS))]])
    )
    (folder / "note.md").write_text("# Port strike ends\n\nDock workers voted to end the strike.")
    code, rows, _ = run(capsys, "add", str(folder), "--json")
    assert code == 0 and [r["status"] for r in rows] == ["added", "added"]
    assert rows[0]["article"]["title"] == "Harlow Ridge fire update"


def test_uploads_are_identified_by_content_and_capped(app):
    html = app.add_upload(NEWS_PAGE.encode(), "article")
    assert html.status == "added" and html.article.source == "Valley Courier"
    pdf = make_pdf([["Rates held", "", *wrap("The central bank kept rates at 4.5 percent.")]])
    assert app.add_upload(pdf, "rates.pdf").status == "added"
    png = app.add_upload(b"\x89PNG\r\n\x1a\n\0\0", "photo.txt")
    assert png.status == "failed" and png.error.startswith("photo.txt: binary file")
    limit = app.settings.max_upload_bytes
    assert app.upload_refusal("big.pdf", limit + 1) == (
        f"big.pdf: too large ({limit + 1:,} bytes; limit {limit:,})"
    )
    assert app.upload_refusal("ok.pdf", 1000) is None
    big = app.add_upload(b"x" * (limit + 1), "big.txt")
    assert big.status == "failed" and "too large" in big.error
    again = app.add_upload(NEWS_PAGE.encode(), "copy.html")
    assert again.status == "unchanged" and again.note == f"already added as #{html.article.id}"
    assert app.stats().articles == 2 and app.verify().ok


def test_add_url_failure_is_one_line_and_stores_nothing(app, server):
    outcome = app.add_url(server.base + "/nope")
    assert outcome.status == "failed" and outcome.origin == server.base + "/nope"
    assert outcome.error == f"{server.base}/nope: HTTP 404 Not Found"
    assert app.stats().articles == 0


def test_upload_refusal_is_the_one_check_for_type_size_and_emptiness(app):
    assert app.upload_refusal("photo.png", 2000) == (
        "photo.png: unsupported file type '.png' (use .txt, .md, .html or .pdf)"
    )
    assert app.upload_refusal("empty.txt", 0) == (
        "empty.txt: no article text found (the file is empty)"
    )
    assert app.upload_refusal("article", 2000) is None  # no suffix: the content decides
    assert app.upload_refusal("Report.PDF", 2000) is None
