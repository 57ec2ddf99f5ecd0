"""A feed's bytes to entries: RSS and Atom with feedparser, JSON Feed with json and pydantic.

XML is checked with defusedxml before feedparser sees it: a document that declares entities
(an entity bomb, an external entity reading a local file) or is not well-formed is refused
with one line, so nothing downstream ever expands an entity or guesses at broken markup. A
web page is not a feed, but it may name its feed (`<link rel="alternate" type=...>`), which
`discover` finds.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from pydantic import BaseModel, ConfigDict, ValidationError

from index.errors import InputError
from index.ingest.text import parse_date
from index.normalize import clean_line

logger = logging.getLogger(__name__)

# Content types a feed may come with (type -> how it is read); the content still decides.
FEED_TYPES = {
    "application/rss+xml": "xml",
    "application/atom+xml": "xml",
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/feed+json": "json",
    "application/json": "json",
    "text/html": "html",
    "application/xhtml+xml": "html",
}
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.5"
)
_ALTERNATE_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/feed+json", "application/json"}
)
_HTML_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b",
    re.IGNORECASE | re.DOTALL,
)
_FEED_ROOTS = frozenset({"rss", "feed", "RDF", "rdf"})
_BLOCKS = ("p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr")
MAX_TITLE_CHARS = 300


class NotAFeedError(InputError):
    """The document is not a feed (a web page, malformed XML, an unknown JSON shape...)."""


@dataclass(frozen=True)
class FeedEntry:
    """One story as the feed announces it."""

    guid: str  # the feed's id for it, else its link, else a hash of its title and text
    link: str | None
    title: str | None
    published: date | None
    content: str  # plain text of the feed's full content (or its summary)
    fingerprint: str  # changes when the feed changes the story (title, dates or text)


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str | None
    entries: tuple[FeedEntry, ...]


def sniff(data: bytes) -> str:
    """'xml', 'json' or 'html' by the content itself (servers mislabel feeds often)."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise NotAFeedError("the answer is empty, not a feed")
    if head.startswith((b"{", b"[")):
        return "json"
    if _HTML_START.match(head):
        return "html"
    if head.startswith(b"<"):
        return "xml"
    raise NotAFeedError("not a feed (neither XML nor JSON)")


def parse_feed(data: bytes, url: str) -> ParsedFeed:
    """The feed's title and entries; NotAFeedError (one line) for anything that is not one."""
    kind = sniff(data)
    if kind == "html":
        raise NotAFeedError("a web page, not a feed")
    return parse_json_feed(data, url) if kind == "json" else parse_xml_feed(data, url)


# -- XML: RSS and Atom ----------------------------------------------------------------------
def check_xml(data: bytes) -> None:
    """Refuse XML that declares entities or is not well-formed, before any feed parser reads it.

    defusedxml raises on the first entity declaration (so an entity bomb is never expanded
    and an external entity never read); a plain DOCTYPE naming a DTD, as old RSS 0.91 feeds
    have, is allowed: it is never fetched.
    """
    import defusedxml
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise NotAFeedError(
            f"the feed declares XML entities ({type(exc).__name__}); refused, never expanded"
        ) from exc
    except ParseError as exc:
        raise NotAFeedError(f"malformed XML ({exc})") from exc
    tag = str(root.tag).rsplit("}", 1)[-1]
    if tag not in _FEED_ROOTS:
        raise NotAFeedError(f"XML, but not a feed (its root element is <{tag[:40]}>)")


def parse_xml_feed(data: bytes, url: str) -> ParsedFeed:
    import feedparser

    check_xml(data)
    # Bytes, never a URL: feedparser must not fetch anything itself.
    parsed = feedparser.parse(data, response_headers={"content-location": url}, sanitize_html=True)
    if not parsed.get("version"):
        raise NotAFeedError("XML, but not an RSS or Atom feed")
    feed = parsed.get("feed", {})
    entries = tuple(_xml_entry(e) for e in parsed.get("entries", []))
    return ParsedFeed(_title(feed.get("title"), url), feed.get("link"), entries)


def _xml_entry(entry: Any) -> FeedEntry:
    contents = entry.get("content") or []
    html = max((c.get("value", "") for c in contents), key=len, default="")
    if len(html) < len(entry.get("summary", "") or ""):
        html = entry.get("summary", "")
    # Read through keys(): feedparser warns when "updated" is asked for and not there.
    given = {key: entry[key] for key in entry.keys()}  # noqa: SIM118
    stamp = given.get("published_parsed") or given.get("updated_parsed")
    return _entry(
        given.get("id"),
        given.get("link"),
        given.get("title"),
        _struct_date(stamp),
        f"{given.get('updated') or ''}|{given.get('published') or ''}",
        html_text(html),
    )


def _struct_date(stamp: time.struct_time | None) -> date | None:
    if stamp is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(stamp), UTC).date()
    except (OverflowError, ValueError, OSError):
        return None


# -- JSON Feed --------------------------------------------------------------------------------
class _JsonItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int
    url: str | None = None
    external_url: str | None = None
    title: str | None = None
    content_html: str | None = None
    content_text: str | None = None
    summary: str | None = None
    date_published: str | None = None
    date_modified: str | None = None


class _JsonFeed(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str
    title: str | None = None
    home_page_url: str | None = None
    items: list[dict[str, Any]]


def parse_json_feed(data: bytes, url: str) -> ParsedFeed:
    """JSON Feed 1.x (jsonfeed.org); an item that breaks the format is left out, logged."""
    try:
        document = json.loads(data)
        feed = _JsonFeed.model_validate(document)
    except (ValueError, RecursionError) as exc:  # ValidationError is a ValueError
        raise NotAFeedError(f"not a JSON Feed ({_first_line(exc)})") from exc
    if not feed.version.startswith("https://jsonfeed.org/version/"):
        raise NotAFeedError("JSON, but not a JSON Feed (no jsonfeed.org version)")
    entries = []
    for raw in feed.items:
        try:
            item = _JsonItem.model_validate(raw)
        except ValidationError as exc:
            logger.info("%s: an item is left out (%s)", url, _first_line(exc))
            continue
        link = item.url or item.external_url
        text = item.content_text or html_text(item.content_html or "") or item.summary or ""
        stamp = item.date_published or item.date_modified or ""
        entries.append(
            _entry(
                str(item.id),
                urljoin(url, link) if link else None,
                item.title,
                parse_date(stamp),
                f"{item.date_modified or ''}|{stamp}",
                text,
            )
        )
    return ParsedFeed(_title(feed.title, url), feed.home_page_url, tuple(entries))


# -- shared -----------------------------------------------------------------------------------
def _entry(
    guid: object,
    link: str | None,
    title: str | None,
    published: date | None,
    updated: str,
    content: str,
) -> FeedEntry:
    title = clean_line(title or "", MAX_TITLE_CHARS) or None
    link = link.strip() if isinstance(link, str) and link.strip() else None
    digest = hashlib.sha256(f"{title}\n{updated}\n{content}".encode()).hexdigest()
    ident = str(guid).strip() if guid not in (None, "") else (link or f"sha256:{digest}")
    return FeedEntry(ident[:2000], link, title, published, content, digest)


def _title(value: object, url: str) -> str:
    return clean_line(str(value or ""), MAX_TITLE_CHARS) or url


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]


def html_text(html: str) -> str:
    """Plain text of an HTML fragment (a feed's content), one paragraph per block."""
    if not html.strip():
        return ""
    if "<" not in html:
        return html.strip()
    import lxml.html
    from lxml.etree import ParserError

    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ParserError, ValueError):
        return ""
    for element in root.iter(*_BLOCKS):
        element.tail = "\n\n" + (element.tail or "")
    text = str(root.text_content())
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


class _AlternateFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        rel = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rel and kind in _ALTERNATE_TYPES and values.get("href", "").strip():
            self.found.append(values["href"].strip())


def discover(data: bytes, charset: str | None, base_url: str) -> str | None:
    """The feed a web page announces with <link rel="alternate" type="...rss+xml|atom+xml|
    feed+json">, as an absolute link; None when it names none."""
    finder = _AlternateFinder()
    try:
        finder.feed(data.decode(charset or "utf-8", errors="replace"))
    except LookupError:
        finder.feed(data.decode("utf-8", errors="replace"))
    return urljoin(base_url, finder.found[0]) if finder.found else None
