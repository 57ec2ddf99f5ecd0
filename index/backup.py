"""Backups of a collection: `briefbot export` writes one archive, `briefbot import` reads it.

An archive holds what cannot be recomputed, each article's metadata and its text as given,
and none of the caches or vectors (those are rebuilt, with whatever model is configured then).
Format: JSON Lines, gzip-compressed when the name ends in `.gz`; the first line is a header
naming the format and the article count, so a truncated archive is refused rather than
half-imported. It is read from one SQLite read transaction (a consistent snapshot while another
process keeps adding) and written beside its final name, then renamed into place.
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
from index.models import RawArticle
from index.store import Store
from index.wording import counted

FORMAT = "briefbot-export"
VERSION = 1
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
class ArchiveHeader:
    format: str
    version: int
    collection: str
    articles: int
    exported_at: str


def export_collection(store: Store, collection: str, path: Path) -> ArchiveHeader:
    """Write every article of a collection to `path` atomically; return what was written."""

    if not path.parent.is_dir():
        raise InputError(f"{path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a file name such as backup.jsonl.gz")
    header: ArchiveHeader | None = None

    def write(temp: Path) -> None:
        nonlocal header
        with exported(store, collection) as (count, articles), _open_write(temp, path) as out:
            header = ArchiveHeader(
                FORMAT, VERSION, collection, count, datetime.now(UTC).isoformat(timespec="seconds")
            )
            out.write(json.dumps(asdict(header)) + "\n")
            written = 0
            for article in articles:
                out.write(json.dumps(asdict(article), ensure_ascii=False) + "\n")
                written += 1
            if written != count:  # cannot happen inside one transaction; refuse if it does
                raise RuntimeError(f"read {written} articles, expected {count}")

    try:
        write_atomic(path, write)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the archive ({exc.strerror or exc})") from exc
    assert header is not None
    return header


def read_archive(path: Path) -> tuple[ArchiveHeader, list[RawArticle]]:
    """Check a whole archive, then return its articles; any damage is a clear InputError."""
    try:
        with _open_read(path) as handle:
            lines = [line for line in handle if line.strip()]
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the archive ({exc})") from exc
    if not lines:
        raise InputError(f"{path}: empty file, not a Briefbot archive")
    header = _header(path, lines[0])
    if len(lines) - 1 != header.articles:
        raise InputError(
            f"{path}: archive is incomplete ({len(lines) - 1:,} of "
            f"{counted(header.articles, 'article')}); "
            "nothing was imported"
        )
    articles = [_article(path, number, line) for number, line in enumerate(lines[1:], start=2)]
    return header, articles


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
