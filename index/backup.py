"""Backups of a collection: `briefbot export` writes one archive, `briefbot import` reads it.

An archive holds what cannot be recomputed, each article's metadata and its text as given,
and the feeds the collection follows (since version 2), none of the caches or vectors (those
are rebuilt, with whatever model is configured then) and no feed's polling state (a restored
feed is polled afresh; stories already stored are recognised, not added twice).
Format: JSON Lines, gzip-compressed when the name ends in `.gz`; the first line is a header
naming the format and the article and feed counts, so a truncated archive is refused rather
than half-imported; then one line per article, then one `{"feed": ...}` line per feed. The
articles are read from one read transaction (a consistent snapshot while another process keeps
adding) and the archive is written beside its final name, then renamed into place.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from index.atomic import write_atomic
from index.errors import InputError
from index.feeds.state import FeedState
from index.models import RawArticle
from index.store import Store
from index.wording import counted

FORMAT = "briefbot-export"
VERSION = 2  # 2: followed feeds after the articles; version 1 archives still import
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class ExportedArticle:
    """One article as a backup holds it: metadata and the text as given, no caches."""

    title: str
    source: str | None
    url: str | None
    published: str | None
    added_at: str
    content_hash: str
    raw_text: str


@dataclass(frozen=True)
class ExportedFeed:
    """A followed feed as a backup holds it: what following it again needs, no poll state."""

    url: str
    feed_url: str
    title: str
    channel_id: str | None
    added_at: str


@dataclass(frozen=True)
class ArchiveHeader:
    format: str
    version: int
    collection: str
    articles: int
    exported_at: str
    feeds: int = 0  # absent from version 1 archives


@dataclass(frozen=True)
class Archive:
    header: ArchiveHeader
    articles: list[RawArticle]
    feeds: list[ExportedFeed]


def export_collection(store: Store, collection: str, path: Path) -> ArchiveHeader:
    """Write every article of a collection to `path` atomically; return what was written."""

    if not path.parent.is_dir():
        raise InputError(f"{path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a file name such as backup.jsonl.gz")
    header: ArchiveHeader | None = None

    feeds = followed_feeds(store, collection)

    def write(temp: Path) -> None:
        nonlocal header
        with exported(store, collection) as (count, articles), _open_write(temp, path) as out:
            now = datetime.now(UTC).isoformat(timespec="seconds")
            header = ArchiveHeader(FORMAT, VERSION, collection, count, now, len(feeds))
            out.write(json.dumps(asdict(header)) + "\n")
            written = 0
            for article in articles:
                out.write(json.dumps(asdict(article), ensure_ascii=False) + "\n")
                written += 1
            if written != count:  # cannot happen inside one transaction; refuse if it does
                raise RuntimeError(f"read {written} articles, expected {count}")
            for feed in feeds:
                out.write(json.dumps({"feed": asdict(feed)}, ensure_ascii=False) + "\n")

    try:
        write_atomic(path, write)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the archive ({exc.strerror or exc})") from exc
    assert header is not None
    return header


def load_archive(path: Path) -> Archive:
    """Check a whole archive, then return its articles and feeds; any damage is a clear
    InputError, so nothing is imported from a damaged archive."""
    try:
        with _open_read(path) as handle:
            lines = [line for line in handle if line.strip()]
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the archive ({exc})") from exc
    if not lines:
        raise InputError(f"{path}: empty file, not a Briefbot archive")
    header = _header(path, lines[0])
    if len(lines) - 1 != header.articles + header.feeds:
        expected = counted(header.articles, "article")
        if header.feeds:
            expected += f" and {counted(header.feeds, 'feed')}"
        raise InputError(
            f"{path}: archive is incomplete ({len(lines) - 1:,} lines for {expected}); "
            "nothing was imported"
        )
    body = list(enumerate(lines[1:], start=2))
    articles = [_article(path, number, line) for number, line in body[: header.articles]]
    feeds = [_feed(path, number, line) for number, line in body[header.articles :]]
    return Archive(header, articles, feeds)


def _header(path: Path, line: str) -> ArchiveHeader:
    try:
        data = json.loads(line)
        header = ArchiveHeader(**data)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path}: not a Briefbot archive (bad header)") from exc
    if header.format != FORMAT:
        raise InputError(f"{path}: not a Briefbot archive (format {header.format!r})")
    if header.version > VERSION:
        raise InputError(
            f"{path}: archive version {header.version} is newer than this Briefbot ({VERSION})"
        )
    return header


def _article(path: Path, number: int, line: str) -> RawArticle:
    try:
        data: dict[str, Any] = json.loads(line)
        text = data["raw_text"]
        if not isinstance(text, str) or not text.strip():
            raise ValueError("no text")
        return RawArticle(
            text=text,
            title=data.get("title"),
            source=data.get("source"),
            url=data.get("url"),
            published=date.fromisoformat(data["published"]) if data.get("published") else None,
            added_at=datetime.fromisoformat(data["added_at"]) if data.get("added_at") else None,
            origin=f"{path.name}:{number}",
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: line {number} is not a valid article ({exc})") from exc


def _feed(path: Path, number: int, line: str) -> ExportedFeed:
    try:
        data = json.loads(line)["feed"]
        feed = ExportedFeed(**data)
        if not all(isinstance(v, str) and v for v in (feed.url, feed.feed_url)):
            raise ValueError("no link")
        return feed
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: line {number} is not a valid feed ({exc})") from exc


def followed_feeds(store: Store, collection: str) -> list[ExportedFeed]:
    """The feeds a collection follows, as an archive holds them."""
    return [
        ExportedFeed(
            f.url, f.feed_url, f.title, f.channel_id, f.added_at.isoformat(timespec="seconds")
        )
        for f in FeedState(store).feeds(collection)
    ]


def _open_write(temp: Path, final: Path) -> IO[str]:
    if final.name.endswith(".gz"):
        return gzip.open(temp, "wt", encoding="utf-8")
    return open(temp, "w", encoding="utf-8")


def _open_read(path: Path) -> IO[str]:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == _GZIP_MAGIC:
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def iter_lines(path: Path) -> Iterator[str]:
    """The archive's lines (for tools and tests that inspect an archive)."""
    with _open_read(path) as handle:
        yield from handle


@contextmanager
def exported(store: Store, collection: str) -> Iterator[tuple[int, Iterator[ExportedArticle]]]:
    """(count, articles) of a collection from ONE read transaction: a consistent snapshot
    even while another process writes (WAL readers see the state at their first read)."""
    with store.reading() as conn:
        count = conn.execute(
            "SELECT COUNT(*) FROM articles WHERE collection = ?", (collection,)
        ).fetchone()[0]
        rows = conn.execute(
            "SELECT title, source, url, published, added_at, content_hash, raw_text "
            "FROM articles WHERE collection = ? ORDER BY id",
            (collection,),
        )
        yield int(count), (ExportedArticle(*row) for row in rows)
