"""How answers and articles look: JSON for scripts, rich text for people.

The JSON field names are a public contract read by scripts and evaluations: add fields,
never rename or drop one.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.markup import escape
from rich.text import Text

from bot.answer.models import Answer, Citation
from index.knowledge import CollectionStats
from index.models import AddOutcome, Article, VerifyReport

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
        "conflicts": [
            {"values": list(c.values), "citations": list(c.citations)} for c in answer.conflicts
        ],
        "fallback_reason": answer.fallback_reason,
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
    }


# -- for people -----------------------------------------------------------------------
def date_label(article: Article) -> str:
    return article.published.strftime("%-d %b %Y") if article.published else "undated"


def citation_heading(c: Citation) -> str:
    a = c.passage.article
    parts = [a.title, a.source or "unknown source", date_label(a)]
    return f"[{c.n}] {parts[0]} - {parts[1]}, {parts[2]}"


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


def answer_rich(answer: Answer) -> Group:
    parts: list[Text] = []
    lead = answer.citations[0] if answer.citations and not answer.abstained else None
    headline = Text()
    if lead is not None:
        sentence = lead.sentence_text
        if lead.highlight and lead.sentence:
            h0 = lead.highlight.start - lead.sentence.start
            h1 = lead.highlight.end - lead.sentence.start
            headline.append(sentence[:h0])
            headline.append(sentence[h0:h1], style="bold reverse")
            headline.append(sentence[h1:])
        else:
            headline.append(sentence)
        headline.append(" [1]", style="cyan")
    else:
        headline.append(answer.text, style="yellow")
    parts.append(headline)
    if answer.as_of:
        parts.append(
            Text(
                f"As of {answer.as_of.strftime('%-d %b %Y')}"
                + (f", {answer.as_of_source}" if answer.as_of_source else ""),
                style="dim",
            )
        )
    for conflict in answer.conflicts:
        refs = ", ".join(f"[{n}]" for n in conflict.citations)
        parts.append(
            Text(f"Sources disagree: {' vs '.join(conflict.values)} ({refs})", style="bold yellow")
        )
    if answer.citations:
        label = (
            "Closest passages (they do not answer the question):"
            if answer.abstained
            else "Sources:"
        )
        parts.append(Text(""))
        parts.append(Text(label, style="bold"))
    for c in answer.citations:
        parts.append(Text(citation_heading(c), style="bold cyan"))
        if c.passage.article.url:
            parts.append(Text(f"    {c.passage.article.url}", style="blue"))
        quote, s0, s1, h0, h1 = quote_window(c)
        body = Text("    \u201c")
        body.append(quote)
        body.append("\u201d")
        offset = len("    \u201c")
        if c.answers:
            body.stylize("italic", offset + s0, offset + s1)
        if h0 >= 0:
            body.stylize("bold reverse", offset + h0, offset + h1)
        parts.append(body)
    footer = f"{answer.mode} \u00b7 {answer.timings_ms.get('total', 0):.0f} ms"
    if answer.fallback_reason:
        footer += f" \u00b7 fell back: {answer.fallback_reason}"
    parts.append(Text(footer, style="dim"))
    return Group(*parts)


def outcome_line(outcome: AddOutcome) -> str:
    if outcome.status == "failed":
        return f"[red]failed[/red]  {escape(outcome.error or outcome.origin)}"
    a = outcome.article
    assert a is not None
    note = {
        "added": "[green]added[/green]",
        "unchanged": "[dim]unchanged[/dim]",
        "replaced": "[yellow]replaced[/yellow]",
    }[outcome.status]
    line = f"{note}  #{a.id}  {escape(a.title)}  ({a.chunk_count} chunks)"
    return f"{line}  [dim]{escape(outcome.note)}[/dim]" if outcome.note else line
