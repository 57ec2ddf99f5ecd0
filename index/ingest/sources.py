"""What `briefbot add SOURCE...` names, read in order: files, folders (walked) and links.

Each source becomes an article or the error saying why not, marked with the source it is
about, so a batch goes on past a bad file and every outcome names what it was about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from index.errors import BriefbotError, InputError
from index.ingest.files import (
    SUPPORTED_LABEL,
    DocumentLimits,
    iter_article_files,
    read_article_file,
)
from index.ingest.links import is_link
from index.ingest.text import with_overrides
from index.models import Overrides, RawArticle


def expand_sources(sources: list[str]) -> Iterator[Path | str | BriefbotError]:
    """Files as paths (folders expanded), links as strings, problems as errors, in order."""
    for source in sources:
        if is_link(source):
            yield source.strip()
            continue
        path = Path(source)
        if path.is_dir():
            found = False
            for file in iter_article_files(path):
                found = True
                yield file
            if not found:
                empty = InputError(f"{source}: no {SUPPORTED_LABEL} files in this folder")
                yield about(source, empty)
        elif path.exists():
            yield path
        else:
            yield about(source, InputError(f"{source}: no such file or folder"))


def read_sources(
    sources: list[str],
    read_link: Callable[[str], RawArticle],
    limits: DocumentLimits,
    overrides: Overrides | None = None,
) -> Iterator[RawArticle | BriefbotError]:
    """Each source read in turn (links with `read_link`: fetching needs the guard and the
    limits the caller holds); a failure is yielded as an error and the batch goes on."""
    for item in expand_sources(sources):
        if isinstance(item, BriefbotError):
            yield item
            continue
        try:
            raw = read_link(item) if isinstance(item, str) else read_article_file(item, limits)
        except BriefbotError as exc:
            yield about(str(item), exc)
            continue
        yield overridden(raw, overrides)


def about(origin: str, error: BriefbotError) -> BriefbotError:
    """The error, marked with the source it is about (an add's outcome names it)."""
    error.origin = origin
    return error


def overridden(raw: RawArticle, overrides: Overrides | None) -> RawArticle:
    """What the user gave explicitly wins over what the article says."""
    return with_overrides(raw, **vars(overrides)) if overrides else raw
