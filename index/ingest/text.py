"""Reading a plain-text or Markdown article: title line, metadata lines, body.

News files come in loose shapes: a headline on the first line (or none), a trailing
"Source: Outlet" line, sometimes a byline after it. This module turns that into fields. A
plain-text body is left as written; a Markdown body becomes plain text (markdown.py), since
citations quote the stored text and markup in a quote ("**Riverside**") is noise.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime

from dateutil import parser as dateparser

from index.errors import InputError
from index.ingest.markdown import markdown_blocks
from index.ingest.structure import render, split_title
from index.models import RawArticle

_META = re.compile(
    r"^\s*(title|source|published|date|url|link|author|by)\s*:\s*(.+?)\s*$", re.IGNORECASE
)
_MD_HEADING = re.compile(r"^\s*#{1,6}\s+")
_MD_EMPHASIS = re.compile(r"[*`]+|^_+|_+$")
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_MAX_TITLE_CHARS = 300


def parse_date(value: str) -> date | None:
    """A date from the loose forms found in article files, or None when it is not one."""
    value = value.strip()
    if not value or len(value) > 64 or not re.search(r"\d", value):
        return None
    try:
        parsed: datetime = dateparser.parse(value, fuzzy=False)
        return parsed.date()
    except (ValueError, OverflowError):
        return None


_DATELINE = re.compile(
    r"^\s*[A-Z][A-Za-z .'\-]{1,40},\s+((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
    r"[a-z]*\.?\s+\d{1,2},\s*\d{4})\s*(?:\(|--|\u2014|\u2013|-)"
)


def dateline_date(body: str) -> date | None:
    """The date of a wire dateline that states its year ("WASHINGTON, March 3, 2023 --").

    A dateline without a year ("SEOUL, Nov. 4 (Yonhap) --") gives no date: any year put to it
    would be a guess, and a guess from the day of adding makes an old story read as current.
    """
    match = _DATELINE.match(body[:200])
    if not match:
        return None
    try:
        parsed: date = dateparser.parse(match.group(1).replace(".", "")).date()
    except (ValueError, OverflowError):
        return None
    return parsed


def looks_like_title(line: str) -> bool:
    """A headline: short, one line, not ending like a sentence of body text."""
    stripped = line.strip()
    if not stripped or len(stripped) > 200 or stripped.startswith(("-", "*", ">")):
        return False
    if _MD_HEADING.match(line):
        return True
    words = stripped.split()
    return len(words) <= 20 and not stripped.endswith((".", ",", ";", ":"))


def derive_title(body: str, limit: int = 90) -> str:
    """A readable title from the first sentence, cut at a word boundary."""
    first = re.split(r"(?<=[.!?])\s", body.strip(), maxsplit=1)[0].strip()
    first = " ".join(first.split())
    if len(first) <= limit:
        return first.rstrip(".")
    cut = first.rfind(" ", 0, limit)
    return first[: cut if cut > 20 else limit].rstrip(" ,;:") + "\u2026"


def clean_title(title: str) -> str:
    """One line, markdown markers dropped, bounded in length."""
    title = _MD_EMPHASIS.sub("", _MD_HEADING.sub("", " ".join(title.split()))).strip()
    if len(title) > _MAX_TITLE_CHARS:
        title = title[: _MAX_TITLE_CHARS - 1].rstrip() + "\u2026"
    return title


def parse_text_article(text: str, origin: str = "", markdown: bool = False) -> RawArticle:
    """Split a text or Markdown article into title, source, date, url and body.

    Metadata lines are read from the lines as written; a Markdown body is then turned into
    plain text (index/ingest/markdown.py), its first heading being the title.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    fields: dict[str, str] = {}
    # Metadata lines at the top, before any body text.
    top = 0
    while top < len(lines) and top < 8:
        match = _META.match(lines[top])
        if match and _accept(fields, match.group(1), match.group(2)) or not lines[top].strip():
            top += 1
        else:
            break
    bottom = _strip_trailing_meta(lines, top, len(lines), fields)
    title = fields.get("title")
    if markdown:
        title, body = _markdown_body("\n".join(lines[top:bottom]), title)
    else:
        body = "\n".join(lines[top:bottom])
    body_lines = body.split("\n")
    while body_lines and not body_lines[0].strip():
        body_lines.pop(0)
    if not title and body_lines and looks_like_title(body_lines[0]):
        following = "\n".join(body_lines[1:]).strip()
        if following:
            title = body_lines.pop(0)
    body = "\n".join(body_lines).strip("\n")
    if not body.strip():
        raise InputError("no article text found")
    published = parse_date(fields["published"]) if "published" in fields else None
    return RawArticle(
        text=body,
        title=clean_title(title) if title else derive_title(body),
        source=fields.get("source"),
        url=fields.get("url"),
        published=published or dateline_date(body),
        origin=origin,
    )


def _markdown_body(source: str, title: str | None) -> tuple[str | None, str]:
    """(title, plain text) of a Markdown body; an opening heading is the title."""
    title, blocks = split_title([b for b in markdown_blocks(source) if b.text.strip()], title)
    return title, render(blocks)


def _accept(fields: dict[str, str], key: str, value: str) -> bool:
    """Record one metadata line; False when the value does not fit the key (then it is body)."""
    key = key.lower()
    key = {"date": "published", "link": "url", "by": "author"}.get(key, key)
    if key == "url" and not _URL.match(value):
        return False
    if key == "published" and parse_date(value) is None:
        return False
    if key == "source" and len(value) > 120:
        return False
    fields.setdefault(key, value)
    return True


def _strip_trailing_meta(lines: list[str], top: int, bottom: int, fields: dict[str, str]) -> int:
    """Drop trailing metadata lines (Source: X, Published: ...) and a short byline after them."""
    end = bottom
    seen_meta = False
    scanned = 0
    index = bottom - 1
    while index >= top and scanned < 8:
        line = lines[index]
        scanned += 1
        if not line.strip():
            index -= 1
            continue
        match = _META.match(line)
        if match and _accept(fields, match.group(1), match.group(2)):
            seen_meta = True
            end = index
        elif not seen_meta and _is_byline(line):
            pass  # a byline below the metadata ("News Reporter"); dropped with it
        else:
            break
        index -= 1
    return end if seen_meta else bottom


def _is_byline(line: str) -> bool:
    stripped = line.strip()
    return len(stripped.split()) <= 5 and not re.search(r"[.!?]$", stripped)


def with_overrides(article: RawArticle, **overrides: object) -> RawArticle:
    """Apply the user's explicit --title/--source/--url/--published; None means keep."""
    values = {k: v for k, v in overrides.items() if v is not None}
    if "title" in values:
        values["title"] = clean_title(str(values["title"]))
    return replace(article, **values)  # type: ignore[arg-type]
