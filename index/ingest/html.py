"""HTML pages to articles with trafilatura: main text and the page's own metadata."""

from __future__ import annotations

import re

from index.errors import InputError
from index.ingest.text import clean_title, derive_title, parse_date
from index.models import RawArticle


def parse_html_article(html: str, origin: str = "", url: str | None = None) -> RawArticle:
    """Main text without navigation or comments; title, site name, date and canonical URL."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        html,
        url=url,
        include_comments=False,
        include_tables=True,
        with_metadata=True,
        favor_precision=True,
        # The page's own metadata, <time> elements, date bylines and the URL; not htmldate's
        # "extensive" search, which reads a footer's "© 2026" as 1 Jan 2026: a guess that
        # makes an old story read as current. No date found leaves it unknown.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None:
        raise InputError("no article text found")
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    text = (data.get("text") or "").strip()
    if not looks_like_prose(text):
        raise InputError("no article text found")
    title = data.get("title")
    published = parse_date(str(data["date"])) if data.get("date") else None
    return RawArticle(
        text=text,
        title=clean_title(title) if title else derive_title(text),
        source=data.get("sitename") or data.get("hostname") or None,
        url=data.get("url") or url,
        published=published,
        origin=origin,
    )


def looks_like_prose(text: str, min_words: int = 8, min_line_words: int = 6) -> bool:
    """Some real sentences, not just menu entries: what is left of a page that has no story.

    Navigation and footers survive extraction as short items ("Home | News | Log in"); a story,
    even a two-line brief, has at least one line of running text.
    """
    if len(re.findall(r"\w+", text)) < min_words:
        return False
    return any(len(re.findall(r"\w+", line)) >= min_line_words for line in re.split(r"[\n|]", text))
