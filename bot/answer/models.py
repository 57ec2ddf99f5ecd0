"""The answer as plain data. Rendering (terminal, JSON, Discord) happens at the edges only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from index.models import Passage, Sentence, Span


@dataclass(frozen=True)
class Citation:
    """One numbered source: the passage, its evidence sentence, and the marked answer span."""

    n: int
    passage: Passage
    sentence: Sentence | None  # article coordinates
    highlight: Span | None  # article coordinates, inside `sentence`
    score: float
    answers: bool = True  # False for "closest passages" shown with an abstention

    @property
    def sentence_text(self) -> str:
        if self.sentence is None:
            return ""
        return self.passage.text_at(self.sentence.start, self.sentence.end)

    @property
    def highlight_text(self) -> str:
        if self.highlight is None:
            return ""
        return self.passage.text_at(self.highlight.start, self.highlight.end)


@dataclass(frozen=True)
class Conflict:
    """Different figures for the same question in different articles, newest first."""

    values: tuple[str, ...]
    citations: tuple[int, ...]


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    mode: str = "extractive"
    qtype: str = "other"
    highlight: str | None = None
    confidence: float = 0.0
    # The evidence article's publication date; None when no metadata or dateline gives one
    # (never the date it was added: a 2004 story must not read as current).
    as_of: date | None = None
    as_of_source: str | None = None
    added: date | None = None  # when the evidence article was added to the collection
    conflicts: tuple[Conflict, ...] = ()
    fallback_reason: str | None = None
    # why it abstained: "empty", "low_score", "missing_terms", "no_typed_evidence" or
    # "names_not_in_evidence"
    abstain_reason: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    # What checking a written (LLM) answer changed: removed citations, dropped sentences.
    checks: tuple[str, ...] = ()
    # Who chose the evidence sentence: "model" (the trained reader) or "rules".
    reader: str = "rules"
