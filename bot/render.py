"""What an answer is, as plain data both wings use: the JSON contract (scripts, evaluations,
and the stored answers behind Discord's buttons) and the labels and pieces the terminal
(bot/cli/terminal.py) and Discord (bot/chat/embeds.py) both show, computed once here.

The JSON field names are a public contract read by scripts and evaluations: add fields,
never rename or drop one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.answer.models import Answer, Citation, Conflict
from index.models import AddOutcome, Article, CollectionStats, VerifyReport
from index.wording import counted

QUOTE_CHARS = 420


def _span(start: int | None, end: int | None, text: str | None) -> dict[str, Any] | None:
    if start is None or end is None:
        return None
    return {"text": text, "start": start, "end": end}


def citation_json(c: Citation) -> dict[str, Any]:
    a = c.passage.article
    return {
        "n": c.n,
        "article_id": a.id,
        "title": a.title,
        "source": a.source,
        "url": a.url,
        "published": a.published.isoformat() if a.published else None,
        "added_at": a.added_at.isoformat(),
        "passage": c.passage.text,
        "start": c.passage.start,
        "end": c.passage.end,
        "score": c.score,
        "answers": c.answers,
        "sentence": _span(
            c.sentence.start if c.sentence else None,
            c.sentence.end if c.sentence else None,
            c.sentence_text,
        ),
        "highlight": _span(
            c.highlight.start if c.highlight else None,
            c.highlight.end if c.highlight else None,
            c.highlight_text,
        ),
    }


def answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": [citation_json(c) for c in answer.citations],
        "mode": answer.mode,
        "timings_ms": answer.timings_ms,
        "highlight": answer.highlight,
        "qtype": answer.qtype,
        "confidence": answer.confidence,
        "as_of": answer.as_of.isoformat() if answer.as_of else None,
        "as_of_source": answer.as_of_source,
        "added": answer.added.isoformat() if answer.added else None,
        "conflicts": [
            {"values": list(c.values), "citations": list(c.citations)} for c in answer.conflicts
        ],
        "fallback_reason": answer.fallback_reason,
        "abstain_reason": answer.abstain_reason,
        "checks": list(answer.checks),
        "reader": answer.reader,
    }


def article_json(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "collection": article.collection,
        "title": article.title,
        "source": article.source,
        "url": article.url,
        "published": article.published.isoformat() if article.published else None,
        "added_at": article.added_at.isoformat(),
        "chunks": article.chunk_count,
        "content_hash": article.content_hash,
    }


def outcome_json(outcome: AddOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "origin": outcome.origin,
        "error": outcome.error,
        "article": article_json(outcome.article) if outcome.article else None,
        "note": outcome.note,
        "duplicate_of": outcome.duplicate_of,
    }


def stats_json(stats: CollectionStats) -> dict[str, Any]:
    return {
        "collection": stats.collection,
        "articles": stats.articles,
        "chunks": stats.chunks,
        "change_id": stats.change_id,
        "model": stats.model,
        "data_dir": stats.data_dir,
    }


def verify_json(report: VerifyReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "problems": list(report.problems),
        "repaired": list(report.repaired),
        "chunks_checked": report.checked,
        "notes": list(report.notes),
    }


# -- for people -----------------------------------------------------------------------
UNKNOWN_DATE = "date unknown"


def date_label(article: Article) -> str:
    return article.published.strftime("%-d %b %Y") if article.published else UNKNOWN_DATE


def as_of_line(answer: Answer, source: str | None = None) -> str | None:
    """The evidence's date line: "As of <published>, <outlet>", or "Date unknown, added <date>,
    <outlet>" when no date was found, since the day an article was added must never pass for
    the day it was written.
    `source` is the outlet as the caller wants it shown (escaped for Discord)."""
    source = answer.as_of_source if source is None else source
    outlet = f", {source}" if source else ""
    if answer.as_of:
        return f"As of {answer.as_of.strftime('%-d %b %Y')}{outlet}"
    if answer.added:
        return f"Date unknown, added {answer.added.strftime('%-d %b %Y')}{outlet}"
    return None


def article_heading(a: Article) -> str:
    """Title, source and date: said once above all the passages quoted from one article."""
    return f"{a.title} - {a.source or 'unknown source'}, {date_label(a)}"


T = TypeVar("T")


def grouped(items: Iterable[T], key: Callable[[T], Hashable]) -> list[list[T]]:
    """Items with equal keys together, each group where its first item was, order kept inside."""
    groups: dict[Hashable, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return list(groups.values())


@dataclass(frozen=True)
class CitationGroup:
    """The citations of one article, numbered as in the answer.

    Shown under one heading, so a reader sees at a glance how many articles back an answer
    instead of the same title repeated above every passage quoted from it.
    """

    article: Article
    citations: tuple[Citation, ...]

    @property
    def answers(self) -> bool:
        return any(c.answers for c in self.citations)


def citation_groups(citations: Sequence[Citation]) -> list[CitationGroup]:
    """Citations by article, in order of each article's first citation; articles with
    evidence before articles that are only related reading (numbers never change)."""
    groups = [
        CitationGroup(g[0].passage.article, tuple(g))
        for g in grouped(citations, lambda c: (c.passage.article.collection, c.passage.article.id))
    ]
    return sorted(groups, key=lambda g: not g.answers)


def quote_window(c: Citation, limit: int = QUOTE_CHARS) -> tuple[str, int, int, int, int]:
    """(quote, evidence start, evidence end, highlight start, highlight end), quote-relative.

    The quote is the passage trimmed to `limit` around the evidence sentence, at word borders.
    """
    text, base = c.passage.text, c.passage.start
    s_start = (c.sentence.start - base) if c.sentence else 0
    s_end = (c.sentence.end - base) if c.sentence else min(len(text), limit)
    left, right = 0, len(text)
    if right - left > limit:
        room = max(0, limit - (s_end - s_start))
        left = max(0, s_start - room // 2)
        right = min(len(text), max(s_end, left + limit))
        if left > 0:
            space = text.find(" ", left)
            left = space + 1 if 0 <= space < s_start else left
        if right < len(text):
            space = text.rfind(" ", s_end, right)
            right = space if space > s_end else right
    h_start = h_end = -1
    if c.highlight is not None:
        h_start, h_end = c.highlight.start - base - left, c.highlight.end - base - left
    prefix = "\u2026" if left > 0 else ""
    suffix = "\u2026" if right < len(text) else ""
    shift = len(prefix)
    quote = prefix + text[left:right] + suffix
    return (
        quote,
        s_start - left + shift,
        s_end - left + shift,
        h_start + shift if h_start >= 0 else -1,
        h_end + shift if h_end >= 0 else -1,
    )


def chunk_count(n: int) -> str:
    return counted(n, "chunk")


def citation_marker(answers: bool, abstained: bool) -> str:
    """How a citation that is not evidence is labelled: beside an answer it is related
    reading; beside an abstention it is one of the closest passages."""
    if answers:
        return ""
    return " (not an answer)" if abstained else " (related)"


@dataclass(frozen=True)
class Headline:
    """The answer's first line as both wings show it: the text, the answering span in it
    (start/end, -1 when none) and whether " [1]" (the lead citation) follows it."""

    text: str
    start: int = -1
    end: int = -1
    cites_lead: bool = False
    stated: bool = True  # False: an abstention or a message, not evidence


def headline(answer: Answer) -> Headline:
    """A written (LLM) answer is its own text with its own [n] markers; an extractive one is
    the lead citation's evidence sentence with its answering span; an abstention its text."""
    lead = answer.citations[0] if answer.citations and not answer.abstained else None
    if answer.mode == "llm" and not answer.abstained:
        return Headline(answer.text)
    if lead is None or lead.sentence is None:
        return Headline(answer.text, stated=lead is not None)
    start = end = -1
    if lead.highlight is not None:
        start = lead.highlight.start - lead.sentence.start
        end = lead.highlight.end - lead.sentence.start
    return Headline(lead.sentence_text, start, end, cites_lead=True)


def footer_parts(answer: Answer) -> tuple[str, str | None]:
    """("extractive · 180 ms", the reason it fell back from the LLM, if it did)."""
    return (
        f"{answer.mode} \u00b7 {answer.timings_ms.get('total', 0):.0f} ms",
        answer.fallback_reason,
    )


def conflict_parts(conflict: Conflict) -> tuple[list[str], str]:
    """(the disagreeing values, "[1], [3]"): the "Sources disagree" line in pieces, so each
    wing escapes the values its own way."""
    return list(conflict.values), ", ".join(f"[{n}]" for n in conflict.citations)


def safe_url(url: str | None) -> str | None:
    """A link that will render as a link, or None (no spaces, brackets or odd schemes)."""
    if not url or len(url) > 512 or not url.lower().startswith(("http://", "https://")):
        return None
    if any(ch.isspace() or ch in "()<>[]" for ch in url):
        return None
    return url


def source_meta(source: str | None, dated: str, url: str | None) -> list[str]:
    """Source, date and (safe) link of a cited article: the same pieces whether they come
    from a Citation or from an answer's stored JSON (the Sources button)."""
    parts = [source or "unknown source", dated]
    link = safe_url(url)
    if link:
        parts.append(link)
    return parts
