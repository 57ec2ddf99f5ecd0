"""Adding by link against a local server (private addresses allowed for these tests only)."""

from __future__ import annotations

from datetime import date

import pytest

from index.errors import InputError
from index.ingest.files import DocumentLimits
from index.ingest.guard import UrlGuard
from index.ingest.links import LinkReader, normalize_url, same_site
from index.ingest.web import FetchLimits
from tests.ingest_fixtures import (
    META_PAGE,
    NAV_ONLY_PAGE,
    NEWS_PAGE,
    NEWS_PARAGRAPHS,
    Route,
    gzip_bomb,
    html_route,
    make_pdf,
    serving,
    wrap,
)

LIMIT = 1_000_000


@pytest.fixture
def server():
    with serving() as srv:
        yield srv


@pytest.fixture
def reader():
    return LinkReader(
        guard=UrlGuard(allow_private=True),
        fetch_limits=FetchLimits(
            connect_timeout=2, read_timeout=0.5, total_timeout=10, max_bytes=LIMIT
        ),
        document_limits=DocumentLimits(pdf_timeout=30),
    )


def test_news_page_keeps_the_story_and_drops_navigation_ads_and_comments(server, reader):
    url = server.add("/news/wildfire", html_route(NEWS_PAGE))
    raw = reader.read(url)
    assert raw.title == "Wildfire forces 1,200 to evacuate Harlow Ridge"
    assert raw.source == "Valley Courier"
    assert raw.url == url
    for paragraph in NEWS_PARAGRAPHS:
        assert paragraph[:60] in raw.text
    for junk in ("Subscribe now", "HoseMart", "Prayers for everyone", "Most read", "Copyright"):
        assert junk not in raw.text


def test_page_metadata_title_date_author_and_canonical(server, reader):
    page = META_PAGE.replace("{host}", f"127.0.0.1:{server.port}")
    url = server.add("/m/123?utm_source=feed", html_route(page))
    raw = reader.read(url)
    assert raw.title == "Central bank holds rates at 4.5 percent"
    assert raw.source == "Ledger Daily"
    assert raw.published == date(2024, 3, 14)
    assert raw.url == f"http://127.0.0.1:{server.port}/markets/central-bank-holds-rates"
    assert "seven to two" in raw.text


def test_canonical_on_another_site_is_ignored(server, reader):
    page = META_PAGE.replace("{host}", "ledger.example")
    url = server.add("/m/9", html_route(page))
    assert reader.read(url + "#top").url == url


def test_pdf_by_link(server, reader):
    body = " ".join(NEWS_PARAGRAPHS)
    pdf = make_pdf([["Harlow Ridge fire report", "", *wrap(body)]], title="Harlow Ridge report")
    url = server.add("/report.pdf", Route(200, pdf, {"Content-Type": "application/pdf"}))
    raw = reader.read(url)
    assert raw.title == "Harlow Ridge report"
    assert "340 firefighters" in raw.text


def test_pdf_served_without_a_type_is_recognised_by_content(server, reader):
    pdf = make_pdf([wrap(" ".join(NEWS_PARAGRAPHS))])
    url = server.add("/download", Route(200, pdf, {"Content-Type": "application/octet-stream"}))
    assert "8,500 acres" in reader.read(url).text


def test_untyped_response_at_a_script_path_is_read_by_content(server, reader):
    url = server.add("/story.php", Route(200, NEWS_PAGE.encode(), {}))
    assert "340 firefighters" in reader.read(url + "?id=7").text


def test_plain_text_and_markdown(server, reader):
    text = "# Port strike ends\n\nDock workers voted to end the strike after nine days of talks."
    url = server.add("/s.md", Route(200, text.encode(), {"Content-Type": "text/markdown"}))
    raw = reader.read(url)
    assert raw.title == "Port strike ends" and "nine days" in raw.text
    latin = "Caf\xe9 prices rise\n\nThe caf\xe9 owners said prices rose sharply this year."
    url = server.add("/l.txt", Route(200, latin.encode("latin-1"), {"Content-Type": "text/plain"}))
    assert reader.read(url).title == "Café prices rise"


def test_markdown_by_link_is_plain_text_whatever_the_server_calls_it(server, reader):
    text = "# Port strike ends\n\n**Dock workers** voted to [end the strike](/s) after nine days."
    for path, media_type in (("/a", "text/markdown"), ("/b.md", "text/plain")):
        url = server.add(path, Route(200, text.encode(), {"Content-Type": media_type}))
        raw = reader.read(url)
        assert raw.title == "Port strike ends"
        assert raw.text == "Dock workers voted to end the strike after nine days."


def test_utf16_with_a_byte_order_mark_is_read_by_link(server, reader):
    text = "Ferry service resumes\n\nThe ferry to Gda\u0144sk sailed again on Monday after a storm."
    url = server.add("/f.txt", Route(200, text.encode("utf-16"), {"Content-Type": "text/plain"}))
    raw = reader.read(url)
    assert raw.title == "Ferry service resumes" and "Gda\u0144sk sailed" in raw.text
    page = f"<html><body><article><h1>Ferry</h1><p>{text[23:]}</p></article></body></html>"
    url = server.add("/f", Route(200, page.encode("utf-16"), {"Content-Type": "text/html"}))
    assert "Gda\u0144sk sailed" in reader.read(url).text


def test_page_charset_from_meta_when_the_header_has_none(server, reader):
    page = (
        '<html><head><meta charset="windows-1252"><title>Caf\xe9 prices</title></head><body>'
        "<article><h1>Caf\xe9 prices rise again</h1><p>The caf\xe9 owners on Main Street said "
        "prices rose by 12 percent this year, the sharpest rise in a decade.</p></article>"
        "</body></html>"
    ).encode("cp1252")
    url = server.add("/cafe", Route(200, page, {"Content-Type": "text/html"}))
    raw = reader.read(url)
    assert raw.title == "Caf\xe9 prices rise again" and "caf\xe9 owners" in raw.text


def test_redirect_chain_is_followed_and_the_final_url_kept(server, reader):
    final = server.add("/news/wildfire", html_route(NEWS_PAGE))
    server.add("/r3", Route(302, b"", {"Location": "/news/wildfire"}))
    server.add("/r2", Route(301, b"", {"Location": f"{server.base}/r3"}))
    start = server.add("/r1", Route(307, b"", {"Location": "r2"}))
    raw = reader.read(start)
    assert raw.url == final and "340 firefighters" in raw.text


def test_too_many_redirects(server, reader):
    for i in range(7):
        server.add(f"/loop{i}", Route(302, b"", {"Location": f"/loop{i + 1}"}))
    with pytest.raises(InputError, match=r"/loop0: more than 5 redirects"):
        reader.read(server.base + "/loop0")


def test_http_404(server, reader):
    with pytest.raises(InputError, match=r"/missing: HTTP 404 Not Found$"):
        reader.read(server.base + "/missing")


def test_slow_response_times_out(server, reader):
    url = server.add("/slow", Route(200, NEWS_PAGE.encode(), {"Content-Type": "text/html"}, 5))
    with pytest.raises(InputError, match=r"/slow: timed out"):
        reader.read(url)


def test_oversize_body_with_and_without_length(server, reader):
    big = b"<html><body>" + b"<p>word </p>" * (LIMIT // 10) + b"</body></html>"
    declared = server.add(
        "/big", Route(200, big, {"Content-Type": "text/html", "Content-Length": str(len(big))})
    )
    streamed = server.add("/big2", Route(200, big, {"Content-Type": "text/html"}))
    with pytest.raises(InputError, match=r"/big: too large"):
        reader.read(declared)
    with pytest.raises(InputError, match=r"/big2: too large"):
        reader.read(streamed)


def test_gzip_bomb_stops_at_the_cap(server, reader):
    bomb = gzip_bomb(40 * LIMIT)
    assert len(bomb) < LIMIT // 10
    url = server.add(
        "/bomb", Route(200, bomb, {"Content-Type": "text/html", "Content-Encoding": "gzip"})
    )
    with pytest.raises(InputError, match=r"/bomb: too large \(more than 1,000,000 bytes\)"):
        reader.read(url)


def test_gzip_page_within_the_cap_is_read(server, reader):
    import gzip

    body = gzip.compress(NEWS_PAGE.encode())
    url = server.add(
        "/gz", Route(200, body, {"Content-Type": "text/html", "Content-Encoding": "gzip"})
    )
    assert "340 firefighters" in reader.read(url).text


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("image/png", b"\x89PNG\r\n\x1a\n...."), ("application/json", b'{"a": 1}')],
)
def test_wrong_content_type(server, reader, content_type, body):
    url = server.add("/thing", Route(200, body, {"Content-Type": content_type}))
    with pytest.raises(InputError, match=rf"/thing: unsupported type '{content_type}'"):
        reader.read(url)


def test_binary_content_with_a_text_type_is_refused(server, reader):
    url = server.add("/img", Route(200, b"\x89PNG\r\n\x1a\n\0\0\0", {"Content-Type": "text/plain"}))
    with pytest.raises(InputError, match=r"/img: binary file"):
        reader.read(url)


def test_navigation_only_page_is_not_an_article(server, reader):
    url = server.add("/home", html_route(NAV_ONLY_PAGE))
    with pytest.raises(InputError, match=r"/home: not an article \(no article text found\)"):
        reader.read(url)


def test_url_normalisation_and_same_site():
    assert (
        normalize_url("HTTP://Example.COM:80/a/b?utm_source=x&id=3&fbclid=9#frag")
        == "http://example.com/a/b?id=3"
    )
    assert normalize_url("https://example.com") == "https://example.com/"
    assert same_site("https://www.example.com/a", "https://example.com/b")
    assert same_site("https://news.example.com/a", "https://example.com/b")
    assert not same_site("https://example.com.evil.net/a", "https://example.com/b")
