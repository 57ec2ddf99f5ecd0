"""Saved pages and fetched pages: the headline is the title, the body keeps its paragraphs."""

from __future__ import annotations

import pytest

from index.ingest.files import parse_article_bytes, read_article_file
from index.ingest.guard import UrlGuard
from index.ingest.links import LinkReader
from index.normalize import normalize
from tests.ingest_fixtures import NEWS_PAGE, NEWS_PARAGRAPHS, html_route, serving

STORM = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Storm cuts power to 40,000 homes | Harbour Gazette</title></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article>
<h1>Storm cuts power to 40,000 homes</h1>
<p>A fierce autumn storm swept across the northern coast on Sunday night, felling trees and
cutting power to about 40,000 homes in the harbour district.</p>
<p>Crews worked through the night.<br>By Monday morning, 12,000 homes were still without
electricity, the <a href="/utility">utility</a> said.</p>
<h2>Where the power is still out</h2>
<table><tr><th>Town</th><th>Homes</th></tr><tr><td>Port Ely</td><td>7,500</td></tr>
<tr><td>Marsh End</td><td>4,500</td></tr></table>
<p>The mayor said three things would happen first:</p>
<ul><li>schools stay closed until Wednesday</li><li>roads are cleared of <em>fallen</em> trees</li>
</ul>
</article></body></html>
"""


def clean(raw_text: str) -> str:
    return normalize(raw_text).text


def test_saved_page_title_apart_and_paragraphs_kept(tmp_path):
    path = tmp_path / "wildfire.html"
    path.write_text(NEWS_PAGE, encoding="utf-8")
    raw = read_article_file(path)
    assert raw.title == "Wildfire forces 1,200 to evacuate Harlow Ridge"
    assert clean(raw.text) == "\n\n".join(NEWS_PARAGRAPHS)


def test_headings_tables_and_lists_stay_readable():
    raw = parse_article_bytes(STORM.encode(), "storm.html")
    assert raw.title == "Storm cuts power to 40,000 homes"
    text = clean(raw.text)
    assert text.startswith("A fierce autumn storm swept")
    assert "harbour district.\n\nCrews worked through the night. By Monday morning" in text
    assert "the utility said.\n\nWhere the power is still out\n\n" in text
    assert "Town | Homes\nPort Ely | 7,500\nMarsh End | 4,500\n\n" in text
    assert text.endswith(
        "first:\n\n- schools stay closed until Wednesday\n- roads are cleared of fallen trees"
    )


@pytest.mark.parametrize("page", [NEWS_PAGE, STORM], ids=["wildfire", "storm"])
def test_a_link_gives_the_same_article_as_the_saved_file(page):
    reader = LinkReader(guard=UrlGuard(allow_private=True))
    with serving() as server:
        url = server.add("/story", html_route(page))
        by_link = reader.read(url)
    from_file = parse_article_bytes(page.encode(), "story.html")
    assert (by_link.title, by_link.text) == (from_file.title, from_file.text)
    assert "\n\n" in clean(by_link.text) and by_link.title not in by_link.text
