"""Where a published date may come from: what the page or the file states, never a guess.
A page whose only year is its copyright line has no known date."""

from datetime import date

import pytest

from index.ingest.html import parse_html_article

STORY = "<p>" + "The council approved the new harbour budget after a long debate. " * 4 + "</p>"


def page(extra: str = "", head: str = "") -> str:
    return (
        f"<html><head><title>Harbour budget</title>{head}</head><body><article>{extra}{STORY}"
        "</article><footer>\u00a9 2026 Harbour Gazette</footer></body></html>"
    )


def test_a_copyright_year_is_not_a_publication_date():
    assert parse_html_article(page(), url="https://news.example/harbour").published is None


@pytest.mark.parametrize(
    ("html", "url", "expected"),
    [
        (
            page(head='<meta property="article:published_time" content="2024-03-14T09:30:00Z">'),
            "https://news.example/harbour",
            date(2024, 3, 14),
        ),
        (
            page("<time datetime='2021-06-01'>1 June 2021</time>"),
            "https://news.example/h",
            date(2021, 6, 1),
        ),
        (
            page("<p class='date'>Published 3 March 2004</p>"),
            "https://news.example/h",
            date(2004, 3, 3),
        ),
        (page(), "https://news.example/2019/05/07/harbour-budget", date(2019, 5, 7)),
    ],
)
def test_a_date_the_page_states_is_kept(html, url, expected):
    assert parse_html_article(html, url=url).published == expected
