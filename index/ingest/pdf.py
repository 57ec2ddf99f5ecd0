"""PDF text with pypdf, read in a child process with a time limit, a memory limit and a page cap.

A PDF is a program-like format: a crafted file can make a parser loop, recurse or allocate
without end. Reading it in a separate process means the worst a bad file can do is be killed
when its time is up; the bot or CLI that asked only sees a one-line error.

The parent side is `read_pdf`; `python -m index.ingest.pdf MAX_PAGES` is the child, reading the
PDF on stdin and writing JSON on stdout.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from index.errors import InputError

logger = logging.getLogger(__name__)
CHILD_MEMORY_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class PdfText:
    text: str
    pages: int
    title: str | None = None
    author: str | None = None
    created: date | None = None


def child_command() -> list[str]:
    """How the child is started: this interpreter, this module."""
    return [sys.executable, "-m", "index.ingest.pdf"]


def read_pdf(
    data: bytes,
    timeout: float = 20.0,
    max_pages: int = 200,
    command: Sequence[str] | None = None,
) -> PdfText:
    """Text and metadata of a PDF; InputError when it is not readable within the limits."""
    if not data.lstrip()[:1024].startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
        raise InputError("not a PDF (no %PDF header)")
    argv = [*(command or child_command()), str(max_pages)]
    # The child must import this package even when it is run from a source checkout.
    root = str(Path(__file__).resolve().parents[2])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }
    try:
        done = subprocess.run(
            argv, input=data, capture_output=True, timeout=timeout, check=False, env=env
        )
    except subprocess.TimeoutExpired as exc:  # run() has killed the child by now
        raise InputError(f"reading the PDF took longer than {timeout:g} s; gave up") from exc
    except OSError as exc:
        raise InputError(f"cannot start the PDF reader ({exc})") from exc
    try:
        result = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        result = None
    if done.returncode != 0 or not isinstance(result, dict):
        detail = result.get("error") if isinstance(result, dict) else None
        logger.info("PDF child exited %s: %s", done.returncode, done.stderr[-500:])
        raise InputError(str(detail) if detail else "not a readable PDF (the reader failed)")
    return PdfText(
        text=str(result.get("text") or ""),
        pages=int(result.get("pages") or 0),
        title=result.get("title") or None,
        author=result.get("author") or None,
        created=date.fromisoformat(result["created"]) if result.get("created") else None,
    )


# -- the child -------------------------------------------------------------------------------
def _limit_resources() -> None:
    """Best effort: cap the child's memory so a decompression bomb fails instead of swapping."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    except (ImportError, ValueError, OSError):
        pass


def _pdf_date(value: object) -> str | None:
    """A PDF date (D:20240131...) as an ISO date."""
    text = str(value or "").strip()
    if text.startswith("D:"):
        text = text[2:]
    if len(text) >= 8 and text[:8].isdigit():
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:8])).isoformat()
        except ValueError:
            return None
    return None


def _extract(data: bytes, max_pages: int) -> dict[str, object]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return {"error": "the PDF is encrypted"}
        pages = len(reader.pages)
        if pages > max_pages:
            return {"error": f"the PDF has {pages:,} pages; limit {max_pages:,}"}
        texts = [page.extract_text() or "" for page in reader.pages]
        meta: Mapping[str, object] = reader.metadata or {}
    except (PyPdfError, ValueError, KeyError, TypeError, RecursionError, MemoryError) as exc:
        return {"error": f"not a readable PDF ({type(exc).__name__})"}
    return {
        "text": "\n\n".join(t.strip() for t in texts if t.strip()),
        "pages": pages,
        "title": str(meta.get("/Title") or "").strip() or None,
        "author": str(meta.get("/Author") or "").strip() or None,
        "created": _pdf_date(meta.get("/CreationDate")),
    }


def _main(argv: list[str]) -> int:
    _limit_resources()
    logging.disable(logging.WARNING)  # pypdf warns about every quirk; the parent decides
    max_pages = int(argv[1]) if len(argv) > 1 else 200
    result = _extract(sys.stdin.buffer.read(), max_pages)
    sys.stdout.write(json.dumps(result))
    return 1 if "error" in result else 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv))
