"""Files and folders to RawArticle records: decoding, type checks, and per-format parsing.

A document's kind is decided by its content as well as its name: a PDF is a PDF because it
starts with %PDF, whatever it is called; an attachment named "article" that holds HTML is read
as a web page; a ".txt" that is really a PNG is refused. Web pages fetched by link go through
the same `parse_document`, so a file and a link give the same article.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from index.errors import InputError, naming
from index.ingest.charset import bom_encoding, decode_text
from index.ingest.html import parse_html_article
from index.ingest.pdf import read_pdf
from index.ingest.text import clean_title, parse_text_article
from index.models import RawArticle

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
MARKDOWN_TYPES = frozenset({"text/markdown", "text/x-markdown"})
TEXT_SUFFIXES = frozenset({".txt", ".text"}) | MARKDOWN_SUFFIXES
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
PDF_SUFFIXES = frozenset({".pdf"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
SUPPORTED_LABEL = ".txt, .md, .html or .pdf"  # how the supported types are named to people
MAX_FILE_BYTES = 50 * 1024 * 1024

# Binary formats people drop by mistake, by their first bytes.
_BINARY_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive or Office document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"RIFF", "a media file"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a program"),
)
_HTML_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b",
    re.IGNORECASE | re.DOTALL,
)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([a-z0-9_.:-]+)", re.IGNORECASE)
_EMPTY = "no article text found (the file is empty)"
_BLANK = "no article text found (the file has only whitespace)"
_JUNK_PDF_TITLES = re.compile(
    r"^(untitled|microsoft (word|powerpoint)\b.*|document\d*|.*\.(docx?|pdf|indd|tex))$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DocumentLimits:
    """How far a document is read before it is refused."""

    max_bytes: int = MAX_FILE_BYTES
    pdf_timeout: float = 20.0
    pdf_max_pages: int = 200


def iter_article_files(folder: Path) -> Iterator[Path]:
    """Supported files below a folder, recursively, in a stable order; hidden ones skipped."""
    for path in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield path


def check_upload(filename: str, size: int, limit: int) -> None:
    """Refuse an attachment by its name and announced size, before a byte of it is downloaded.

    The same type and size rules the file is held to once it is read, so the Discord layer
    has no list of its own to drift from this one. A name without a suffix passes: the
    content decides its kind.
    """
    _suffix(filename)
    _check_size(filename, size, limit)
    if size <= 0:
        raise InputError(f"{filename}: {_EMPTY}")


def _check_size(origin: str, size: int, limit: int) -> None:
    if size > limit:
        raise InputError(f"{origin}: too large ({size:,} bytes; limit {limit:,})")


def _name_suffix(origin: str) -> str:
    return Path(origin.split("?", 1)[0]).suffix.lower()


def _suffix(origin: str) -> str:
    suffix = _name_suffix(origin)
    if suffix and suffix not in SUPPORTED_SUFFIXES:
        raise InputError(f"{origin}: unsupported file type '{suffix}' (use {SUPPORTED_LABEL})")
    return suffix


def sniff_kind(data: bytes) -> str | None:
    """'pdf', 'html' or 'binary' when the content says so; None for (probably) plain text."""
    head = data[:1024]
    if head.lstrip().startswith(b"%PDF-"):
        return "pdf"
    bom = bom_encoding(head)
    if bom:  # UTF-16 and -32 are full of zero bytes, and text all the same
        ascii_head = head.decode(bom, "ignore").encode("ascii", "ignore")
        return "html" if _HTML_START.match(ascii_head) else None
    if _HTML_START.match(head):
        return "html"
    if any(head.startswith(magic) for magic, _ in _BINARY_MAGIC) or b"\x00" in data[:8192]:
        return "binary"
    return None


def identify(data: bytes, origin: str, media_type: str = "", by_name: bool = True) -> str:
    """The kind of a document ('pdf', 'html', 'markdown', 'text') from its content, name and
    media type.

    `by_name` is False for links: a URL path ending in .php or .aspx says nothing. It may
    still say Markdown: raw .md files are often served as text/plain.
    """
    suffix = _suffix(origin) if by_name else ""
    sniffed = sniff_kind(data)
    if sniffed == "binary":
        what = next((name for magic, name in _BINARY_MAGIC if data.startswith(magic)), None)
        raise InputError(f"{origin}: binary file, not text" + (f" ({what})" if what else ""))
    if sniffed is not None:
        return sniffed
    if suffix in PDF_SUFFIXES or media_type in ("application/pdf", "application/x-pdf"):
        raise InputError(f"{origin}: not a PDF (no %PDF header)")
    if suffix in HTML_SUFFIXES or media_type in ("text/html", "application/xhtml+xml"):
        return "html"
    if media_type in MARKDOWN_TYPES or _name_suffix(origin) in MARKDOWN_SUFFIXES:
        return "markdown"
    return "text"


def read_article_file(path: Path, limits: DocumentLimits | None = None) -> RawArticle:
    """Read one file as an article; the error names the file and the reason."""
    limits = limits or DocumentLimits()
    origin = str(path)
    _suffix(origin)
    try:
        _check_size(origin, path.stat().st_size, limits.max_bytes)
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{origin}: cannot read ({exc.strerror or exc})") from exc
    return parse_article_bytes(data, origin, limits)


def parse_article_bytes(
    data: bytes, origin: str, limits: DocumentLimits | None = None
) -> RawArticle:
    """Parse file content; `origin` is its path or name, used for the type and in messages."""
    limits = limits or DocumentLimits()
    _check_size(origin, len(data), limits.max_bytes)
    if not data.strip():  # "empty" would send someone looking at a file that has bytes
        raise InputError(f"{origin}: {_BLANK if data else _EMPTY}")
    return parse_document(data, identify(data, origin), origin, limits)


def parse_document(
    data: bytes,
    kind: str,
    origin: str,
    limits: DocumentLimits | None = None,
    url: str | None = None,
    charset: str | None = None,
) -> RawArticle:
    """A document of a known kind as an article; errors are prefixed with its origin."""
    limits = limits or DocumentLimits()
    try:
        if kind == "pdf":
            return _pdf_article(data, origin, limits)
        if kind == "html":
            text = decode_text(data, origin, charset or _meta_charset(data))
            return parse_html_article(text, origin=origin, url=url)
        text = decode_text(data, origin, charset)
        raw = parse_text_article(text, origin=origin, markdown=kind == "markdown")
        return replace(raw, url=raw.url or url)
    except InputError as exc:
        raise InputError(naming(origin, exc)) from exc


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", "ignore") if match else None


def _pdf_article(data: bytes, origin: str, limits: DocumentLimits) -> RawArticle:
    pdf = read_pdf(data, timeout=limits.pdf_timeout, max_pages=limits.pdf_max_pages)
    if len(pdf.text.split()) < 5:
        raise InputError("no article text found (the PDF has no text layer; scanned?)")
    raw = parse_text_article(pdf.text, origin=origin)
    title = pdf.title if pdf.title and not _JUNK_PDF_TITLES.match(pdf.title) else None
    return replace(
        raw,
        title=clean_title(title) if title else raw.title,
        published=raw.published or pdf.created,
    )
