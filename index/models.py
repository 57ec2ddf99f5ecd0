"""Plain data that crosses module lines. Frozen so nobody downstream edits a shared record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np


@dataclass(frozen=True)
class RawArticle:
    """An article as read from a file, a page or a paste, before it is stored."""

    text: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: date | None = None
    origin: str = ""  # where it came from (a path or URL), for messages only
    added_at: datetime | None = None  # only when restoring a backup; else the time of the add


@dataclass(frozen=True)
class Overrides:
    """Metadata the user gives explicitly (--title, --source, --url, --published; None: not
    given). It wins over what the file says, and updates an article already stored."""

    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: date | None = None


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Sentence:
    """One sentence of an article; start/end index the article's clean text."""

    start: int
    end: int


@dataclass(frozen=True)
class ChunkDraft:
    """A chunk before it has an id: its span and the sentences it covers."""

    ordinal: int
    start: int
    end: int
    text: str
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True)
class Article:
    id: int
    collection: str
    title: str
    source: str | None
    url: str | None
    published: date | None
    added_at: datetime
    content_hash: str
    chunk_count: int = 0


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with what a citation needs: the article, the exact span, the scores."""

    chunk_id: int
    article: Article
    text: str
    start: int
    end: int
    sentences: tuple[Sentence, ...]  # spans in article coordinates
    score: float
    dense_score: float = 0.0
    lexical_score: float = 0.0
    # The stored vectors of `sentences`, one row each, when retrieval already read them.
    sentence_vectors: np.ndarray | None = field(default=None, compare=False, repr=False)

    def text_at(self, start: int, end: int) -> str:
        """The text of an article-relative span inside this passage."""
        return self.text[start - self.start : end - self.start]

    def sentence_texts(self) -> list[tuple[Sentence, str]]:
        """Each sentence with its text, sliced from this passage (spans are article-relative)."""
        return [(s, self.text_at(s.start, s.end)) for s in self.sentences]


@dataclass(frozen=True)
class AddOutcome:
    """What happened to one article of an add: stored, unchanged, updated, replaced, skipped
    or failed."""

    # "added" | "unchanged" | "updated" (explicit metadata changed) | "replaced" | "skipped"
    # (a near-identical copy of a stored article, refused on purpose: not a failure) | "failed"
    status: str
    origin: str
    article: Article | None = None
    error: str | None = None
    note: str | None = None  # for people: "already added as #12", "updated #12 (...)"
    duplicate_of: int | None = None  # a near-identical stored article (syndicated copy)


@dataclass(frozen=True)
class CollectionStats:
    collection: str
    articles: int
    chunks: int
    change_id: int
    model: str
    data_dir: str


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    problems: tuple[str, ...] = field(default_factory=tuple)
    repaired: tuple[str, ...] = field(default_factory=tuple)
    checked: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # not problems: caches merely behind the store
