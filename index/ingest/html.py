"""HTML pages to articles with trafilatura: main text and the page's own metadata.

The text is laid out from trafilatura's XML reading of the page (index/ingest/structure.py),
not taken from its plain-text output: that puts one block per line, which normalizing reads as
one wrapped paragraph, gluing the headline to the first sentence. The headline is the title
and leaves the body.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from index.errors import InputError
from index.ingest.structure import HEADING, ITEM, PARAGRAPH, Block, render, split_title, table_row
from index.ingest.text import clean_title, derive_title, parse_date
from index.models import RawArticle

# trafilatura's XML elements that hold blocks rather than running text.
_CONTAINERS = frozenset({"body", "div", "quote", "list", "table", "row"})


def parse_html_article(html: str, origin: str = "", url: str | None = None) -> RawArticle:
    """Main text without navigation or comments; title, site name, date and canonical URL."""
    import trafilatura
    from trafilatura.settings import Document

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
    if not isinstance(doc, Document) or doc.body is None:
        raise InputError("no article text found")
    data = doc.as_dict()
    blocks = [b for b in _blocks(doc.body) if b.text.strip()]
    title, blocks = split_title(blocks, data.get("title"))
    text = render(blocks)
    if not looks_like_prose(text):
        raise InputError("no article text found")
    published = parse_date(str(data["date"])) if data.get("date") else None
    return RawArticle(
        text=text,
        title=clean_title(title) if title else derive_title(text),
        source=data.get("sitename") or data.get("hostname") or None,
        url=data.get("url") or url,
        published=published,
        origin=origin,
    )


def _blocks(element: Any) -> Iterator[Block]:
    """The blocks of one element of trafilatura's XML (p, head, list, table, quote...)."""
    tag = element.tag
    if tag == "list":
        ordered = element.get("rend") == "ol"
        for number, item in enumerate((i for i in element if i.tag == "item"), 1):
            marker = f"{number}. " if ordered else "- "
            yield Block(ITEM, marker + _inline(item))
            for nested in item:
                if nested.tag == "list":
                    yield from _blocks(nested)
    elif tag == "table":
        for row in element.iter("row"):
            yield table_row(_inline(cell) for cell in row if cell.tag == "cell")
    elif tag in _CONTAINERS:
        if element.text and element.text.strip():
            yield Block(PARAGRAPH, element.text)
        for child in element:
            yield from _blocks(child)
            if child.tail and child.tail.strip():
                yield Block(PARAGRAPH, child.tail)
    else:
        yield Block(HEADING if tag == "head" else PARAGRAPH, _inline(element))


def _inline(element: Any) -> str:
    """An element's running text: a line break as a new line, nested lists and tables left
    to their own blocks."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == "lb":
            parts.append("\n")
        elif child.tag not in ("list", "table"):
            parts.append(_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


def looks_like_prose(text: str, min_words: int = 8, min_line_words: int = 6) -> bool:
    """Some real sentences, not just menu entries: what is left of a page that has no story.

    Navigation and footers survive extraction as short items ("Home | News | Log in"); a story,
    even a two-line brief, has at least one line of running text.
    """
    if len(re.findall(r"\w+", text)) < min_words:
        return False
    return any(len(re.findall(r"\w+", line)) >= min_line_words for line in re.split(r"[\n|]", text))
