"""Files and folders to RawArticle records: decoding, type checks, and per-format parsing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from index.errors import InputError
from index.ingest.html import parse_html_article
from index.ingest.text import parse_text_article
from index.models import RawArticle

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
MAX_FILE_BYTES = 50 * 1024 * 1024
_LEGACY_RANK = {
    name: rank
    for rank, name in enumerate(["cp1252", "latin_1", "iso8859_15", "cp1250", "iso8859_2"])
}


def iter_article_files(folder: Path) -> Iterator[Path]:
    """Supported files below a folder, recursively, in a stable order; hidden ones skipped."""
    for path in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield path


def _check_suffix(origin: str) -> str:
    suffix = Path(origin).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(f"{origin}: unsupported file type '{suffix or 'none'}'")
    return suffix


def decode_text(data: bytes, origin: str) -> str:
    """UTF-8 when it is, else the most likely charset; binary data is refused."""
    if b"\x00" in data[:8192]:
        raise InputError(f"{origin}: binary file, not text")
    for encoding in ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    candidates = list(from_bytes(data))
    if not candidates:
        raise InputError(f"{origin}: not readable as text")
    # Among equally clean decodings, prefer the Western ones news files are most often in:
    # charset_normalizer alone turns a Latin-1 "Café, Zürich" into the DOS Baltic "Cafķ, Z³rich".
    best = min(candidates, key=lambda c: (round(c.chaos, 2), _LEGACY_RANK.get(c.encoding, 99)))
    return str(best)


def read_article_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> RawArticle:
    """Read one file as an article; the error names the file and the reason."""
    origin = str(path)
    _check_suffix(origin)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"{origin}: too large ({size:,} bytes; limit {max_bytes:,})")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{origin}: cannot read ({exc.strerror or exc})") from exc
    return parse_article_bytes(data, origin)


def parse_article_bytes(data: bytes, origin: str) -> RawArticle:
    """Parse file content; `origin` is its path or name, used for the type and in messages."""
    suffix = _check_suffix(origin)
    text = decode_text(data, origin)
    looks_html = suffix in HTML_SUFFIXES or text.lstrip()[:15].lower().startswith(
        ("<!doctype html", "<html")
    )
    try:
        if looks_html:
            return parse_html_article(text, origin=origin)
        return parse_text_article(text, origin=origin)
    except InputError as exc:
        raise InputError(f"{origin}: {exc}") from exc
