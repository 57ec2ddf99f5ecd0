"""How answers and articles look: JSON for scripts, rich text for people.

The JSON field names are a public contract read by scripts and evaluations: add fields,
never rename or drop one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.markup import escape
from rich.text import Text

from bot.answer.models import Answer, Citation
from index.errors import naming
from index.knowledge import CollectionStats
from index.models import AddOutcome, Article, VerifyReport
from index.wording import counted

if TYPE_CHECKING:  # imported where used: the CLI starts without discord.py (~0.5 s)
    import discord

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


def answer_rich(answer: Answer) -> Group:
    parts: list[RenderableType] = []
    lead = answer.citations[0] if answer.citations and not answer.abstained else None
    headline = Text()
    if answer.mode == "llm" and not answer.abstained:
        headline.append(answer.text)  # written with its own [n] markers
        headline.highlight_regex(r"\[\d+\]", "cyan")
    elif lead is not None:
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
    dated = as_of_line(answer)
    if dated:
        parts.append(Text(dated, style="dim"))
    for conflict in answer.conflicts:
        refs = ", ".join(f"[{n}]" for n in conflict.citations)
        parts.append(
            Text(f"Sources disagree: {' vs '.join(conflict.values)} ({refs})", style="bold yellow")
        )
    parts.extend(_sources_rich(answer))
    footer = f"{answer.mode} \u00b7 {answer.timings_ms.get('total', 0):.0f} ms"
    if answer.fallback_reason:
        footer += f" \u00b7 fell back: {answer.fallback_reason}"
    parts.append(Text(footer, style="dim"))
    return Group(*parts)


def _sources_rich(answer: Answer) -> list[RenderableType]:
    """The cited articles, each headed once, with its numbered quoted passages beneath."""
    if not answer.citations:
        return []
    label = (
        "Closest passages (they do not answer the question):" if answer.abstained else "Sources:"
    )
    parts: list[RenderableType] = [Text(""), Text(label, style="bold")]
    related_said = answer.abstained
    for group in citation_groups(answer.citations):
        if not group.answers and not related_said:
            parts.append(Text("Also related (not evidence for the answer):", style="bold"))
            related_said = True
        heading = article_heading(group.article)
        parts.append(Text(heading, style="bold cyan" if group.answers else "cyan"))
        if group.article.url:
            parts.append(Text(f"    {group.article.url}", style="blue"))
        for c in group.citations:
            related = "(related) " if group.answers and not c.answers else ""
            parts.append(Hanging(Text(f"    [{c.n}] {related}", style="cyan"), _quote_text(c)))
    return parts


def _quote_text(c: Citation) -> Text:
    """The quoted passage: its evidence sentence in italics, the answering span marked."""
    quote, s0, s1, h0, h1 = quote_window(c)
    body = Text("\u201c" + quote + "\u201d")
    if c.answers:
        body.stylize("italic", 1 + s0, 1 + s1)
    if h0 >= 0:
        body.stylize("bold reverse", 1 + h0, 1 + h1)
    return body


class Hanging:
    """`body` after `marker`, every further line of it (a paragraph break in the passage, or a
    wrap at the terminal's edge) indented to start under its first line, never at column 0.

    Blank lines between the passage's paragraphs are dropped: inside a list of sources they
    would read as the end of the quote.
    """

    def __init__(self, marker: Text, body: Text) -> None:
        self.marker = marker
        self.body = body

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        indent = self.marker.cell_len
        if options.no_wrap:  # piped output: one line per paragraph, never cut
            lines = list(self.body.split("\n"))
        else:
            lines = list(self.body.wrap(console, max(8, options.max_width - indent)))
        lines = [line for line in lines if line.plain.strip()] or [Text("")]
        for i, line in enumerate(lines):
            line.rstrip()
            yield Text.assemble(self.marker if i == 0 else " " * indent, line)


def chunk_count(n: int) -> str:
    return counted(n, "chunk")


def outcome_line(outcome: AddOutcome) -> str:
    if outcome.status == "failed":
        return f"[red]failed[/red]  {escape(outcome.error or outcome.origin)}"
    if outcome.status == "skipped":
        said = naming(outcome.origin, outcome.note or "skipped")
        return (
            f"[yellow]skipped[/yellow]  {escape(said)}  "
            "[dim](add it with --allow-duplicate to keep both)[/dim]"
        )
    a = outcome.article
    assert a is not None
    note = {
        "added": "[green]added[/green]",
        "unchanged": "[dim]unchanged[/dim]",
        "updated": "[cyan]updated[/cyan]",
        "replaced": "[yellow]replaced[/yellow]",
    }[outcome.status]
    line = f"{note}  #{a.id}  {escape(a.title)}  ({chunk_count(a.chunk_count)})"
    return f"{line}  [dim]{escape(outcome.note)}[/dim]" if outcome.note else line


# -- for Discord ----------------------------------------------------------------------
# Discord rejects a message that breaks any of these; every builder below stays inside them.
MESSAGE_CHARS = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
FIELD_NAME = 256
FIELD_VALUE = 1024
EMBED_FIELDS = 25
EMBED_FOOTER = 2048
EMBED_TOTAL = 6000
DISCORD_CITATIONS = 5
DISCORD_QUOTE_CHARS = 320  # five quotes must read comfortably in one embed
ELLIPSIS = "\u2026"
ANSWER_COLOUR = 0x2B7A78
ABSTAIN_COLOUR = 0xB5651D
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?=\s)")


def discord_escape(text: str) -> str:
    """Quoted article text shown as is: no markdown, no mentions, no pings."""
    import discord

    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def trim(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut at a sentence end (else a word border) with "…".

    Only a single word longer than the limit is ever cut inside.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    room = limit - 1  # for the ellipsis
    if room <= 0:
        return ELLIPSIS[:limit]
    head = text[: room + 1]  # one extra char tells whether the cut falls on a border
    ends = [m.end() for m in _SENTENCE_END.finditer(head) if m.end() <= room]
    if ends and ends[-1] >= room // 2:
        cut = head[: ends[-1]]
    else:
        space = max(head.rfind(" ", 0, room + 1), head.rfind("\n", 0, room + 1))
        cut = head[:space] if space > 0 else head[:room]
    cut = cut.rstrip()
    # Never leave a dangling escape backslash or a half "@\u200b" mention guard at the end.
    while cut.endswith(("\\", "@")):
        cut = cut[:-1]
    return (cut + " " + ELLIPSIS) if len(cut) + 2 <= limit and cut else cut + ELLIPSIS


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _marked(text: str, start: int, end: int) -> str:
    """Escaped text with [start, end) in bold (the answering span)."""
    if start < 0 or end <= start:
        return discord_escape(text)
    return (
        discord_escape(text[:start])
        + "**"
        + discord_escape(text[start:end])
        + "**"
        + discord_escape(text[end:])
    )


def _safe_url(url: str | None) -> str | None:
    """A link Discord will render as a link, or None (no spaces, brackets or odd schemes)."""
    if not url or len(url) > 512 or not url.lower().startswith(("http://", "https://")):
        return None
    if any(ch.isspace() or ch in "()<>[]" for ch in url):
        return None
    return url


def citation_line(c: Citation) -> str:
    """Source, date and link of a citation, escaped, for a field value."""
    a = c.passage.article
    parts = [discord_escape(a.source or "unknown source"), date_label(a)]
    url = _safe_url(a.url)
    if url:
        parts.append(f"[link]({url})")
    return " \u00b7 ".join(parts)


def _citation_quote(c: Citation, limit: int, label: str = "") -> str:
    """`> [n] quote` on one line (a Discord block quote), the answering span in bold."""
    quote, _s0, _s1, h0, h1 = quote_window(c, limit)
    body = _marked(quote, h0, h1) if c.answers else discord_escape(quote)
    return f"> [{c.n}] {label}" + _one_line(body)


def _group_name(group: CitationGroup, abstained: bool) -> str:
    """The field name: the article's title, said once, marked when none of it is evidence."""
    marker = citation_marker(group.answers, abstained)
    return trim(discord_escape(_one_line(group.article.title)), FIELD_NAME - len(marker)) + marker


def _group_value(group: CitationGroup, limit: int) -> str:
    """Source, date and link once, then each numbered passage, all within `limit` chars."""
    head = trim(citation_line(group.citations[0]), min(300, limit // 2))
    share = (limit - len(head)) // len(group.citations) - 1  # each line after a newline
    lines = [head]
    for c in group.citations:
        label = "(related) " if group.answers and not c.answers else ""
        lines.append(trim(_citation_quote(c, min(DISCORD_QUOTE_CHARS, share), label), share))
    return "\n".join(line for line in lines if line).strip()


def _answer_description(answer: Answer, read_as: str | None = None) -> str:
    lead = answer.citations[0] if answer.citations and not answer.abstained else None
    if lead is not None and lead.sentence is not None:
        sentence = lead.sentence_text
        h0 = h1 = -1
        if lead.highlight is not None:
            h0 = lead.highlight.start - lead.sentence.start
            h1 = lead.highlight.end - lead.sentence.start
        headline = _one_line(_marked(sentence, h0, h1)) + " [1]"
    else:
        headline = discord_escape(answer.text)
    if len(headline) > 1500:
        headline = trim(discord_escape(answer.text if lead is None else lead.sentence_text), 1500)
    lines = [headline]
    if read_as:
        lines.insert(0, f"*Follow-up read as: {trim(discord_escape(_one_line(read_as)), 300)}*")
    dated = as_of_line(answer, discord_escape(answer.as_of_source or ""))
    if dated:
        lines.append(f"*{dated}*")
    for conflict in answer.conflicts:
        refs = ", ".join(f"[{n}]" for n in conflict.citations)
        values = " vs ".join(discord_escape(v) for v in conflict.values)
        lines.append(trim(f"Sources disagree: {values} ({refs})", 300))
    if answer.abstained and answer.citations:
        lines.append("\nClosest passages (they do **not** answer the question):")
    return trim("\n".join(lines), 2000)


def answer_footer(answer: Answer) -> str:
    footer = f"{answer.mode} \u00b7 {answer.timings_ms.get('total', 0):.0f} ms"
    if answer.fallback_reason:
        import discord

        reason = discord.utils.escape_mentions(_one_line(answer.fallback_reason))
        footer += f" \u00b7 fell back: {reason}"
    return trim(footer, 200)


def answer_embed(answer: Answer, read_as: str | None = None) -> discord.Embed:
    """The answer as Discord shows it: span in bold, then up to 5 numbered citations, one
    field per article (its title once, its passages beneath).

    `read_as` is the self-contained question a follow-up was rewritten to, shown so the
    asker can see what was searched.
    """
    import discord

    embed = discord.Embed(
        description=_answer_description(answer, read_as),
        colour=ABSTAIN_COLOUR if answer.abstained else ANSWER_COLOUR,
    )
    groups = citation_groups(answer.citations[:DISCORD_CITATIONS])
    names = [_group_name(group, answer.abstained) for group in groups]
    footer = answer_footer(answer)
    used = len(embed.description or "") + len(footer) + sum(len(n) for n in names)
    per_field = min(FIELD_VALUE, (EMBED_TOTAL - 100 - used) // max(1, len(groups)))
    for group, name in zip(groups, names, strict=True):
        embed.add_field(name=name, value=_group_value(group, per_field) or "\u2014", inline=False)
    embed.set_footer(text=footer)
    return embed


def citation_marker(answers: bool, abstained: bool) -> str:
    """How a citation that is not evidence is labelled: beside an answer it is related
    reading; beside an abstention it is one of the closest passages."""
    if answers:
        return ""
    return " (not an answer)" if abstained else " (related)"


def sources_embed(answer_data: dict[str, Any]) -> discord.Embed:
    """The full passages behind an answer (the "Sources" button), from its stored JSON."""
    import discord

    embed = discord.Embed(title="Sources", colour=ANSWER_COLOUR)
    citations = list(answer_data.get("citations") or [])[:DISCORD_CITATIONS]
    if not citations:
        embed.description = "No passages were found for this question."
        return embed
    per_field = min(FIELD_VALUE, (EMBED_TOTAL - 400) // len(citations) - FIELD_NAME)
    first_of: dict[Any, Any] = {}  # article id -> the number of its first passage
    for c in citations:
        name = discord_escape(_one_line(str(c.get("title") or "untitled")))
        marker = citation_marker(
            c.get("answers", True) is not False, bool(answer_data.get("abstained"))
        )
        first = first_of.setdefault(c.get("article_id"), c.get("n"))
        if c.get("article_id") is not None and first != c.get("n"):
            # The title, source and date were said above; the full passage is what is new.
            name = f"[{c.get('n')}] same article as [{first}]"
            passage = discord_escape(_one_line(str(c.get("passage") or "")))
            value = trim(passage, per_field) or "\u2014"
            embed.add_field(name=name + marker, value=value, inline=False)
            continue
        title = trim(f"[{c.get('n')}] {name}", FIELD_NAME - len(marker)) + marker
        meta = [discord_escape(str(c.get("source") or "unknown source"))]
        meta.append(str(c.get("published") or UNKNOWN_DATE))
        url = _safe_url(c.get("url"))
        if url:
            meta.append(f"[link]({url})")
        head = " \u00b7 ".join(meta)
        passage = discord_escape(_one_line(str(c.get("passage") or "")))
        value = trim(head, 300) + "\n" + trim(passage, per_field - min(len(head), 300) - 1)
        embed.add_field(name=title, value=value.strip() or "\u2014", inline=False)
    return embed


def outcome_message(outcome: AddOutcome) -> str:
    """The reply to /add: what was stored, or why not; the store's note (for example
    "already added as #12" or "updated #3: ...") below it in small print."""
    if outcome.status == "skipped":
        said = discord_escape(_one_line(naming(outcome.origin, outcome.note or "")))
        hint = " \u2014 to keep both, add it again with allow_duplicate: True"
        return trim(f"Skipped {trim(said, MESSAGE_CHARS - len(hint) - 10)}{hint}", MESSAGE_CHARS)
    if outcome.status == "failed" or outcome.article is None:
        reason = discord_escape(_one_line(outcome.error or outcome.origin))
        return trim(f"Could not add it: {reason}", MESSAGE_CHARS)
    a = outcome.article
    verb = {
        "added": "Added",
        "replaced": "Updated",
        "updated": "Updated the details of",
        "unchanged": "Already present (nothing changed):",
    }.get(outcome.status, outcome.status)
    title = trim(discord_escape(_one_line(a.title)), 300)
    source = discord_escape(a.source or "unknown source")
    url = _safe_url(a.url)
    link = f" \u00b7 <{url}>" if url else ""
    line = (
        f"{verb} **#{a.id}** {title} \u2014 {source}, {date_label(a)} \u00b7 "
        f"{chunk_count(a.chunk_count)}{link}"
    )
    if outcome.note:
        line += "\n-# " + trim(discord_escape(_one_line(outcome.note)), 600)
    return trim(line, MESSAGE_CHARS)


def article_list_embed(articles: list[Article], page: int, pages: int, total: int) -> discord.Embed:
    """One page of /articles, newest first."""
    import discord

    embed = discord.Embed(title=f"Articles ({total})", colour=ANSWER_COLOUR)
    if not articles:
        embed.description = "No articles yet. Add one with /add."
    else:
        lines = []
        for a in articles:
            title = trim(discord_escape(_one_line(a.title)), 150)
            source = trim(discord_escape(a.source or "unknown source"), 60)
            count = chunk_count(a.chunk_count)
            lines.append(f"**#{a.id}** {title} \u2014 {source}, {date_label(a)} ({count})")
        embed.description = trim("\n".join(lines), EMBED_DESCRIPTION)
    embed.set_footer(text=f"page {page + 1} of {max(pages, 1)}")
    return embed


def article_embed(article: Article, text: str, preview_chars: int = 1200) -> discord.Embed:
    """/article: metadata, a link when there is one, and the first lines of the text."""
    import discord

    embed = discord.Embed(
        title=trim(f"#{article.id} {discord_escape(_one_line(article.title))}", EMBED_TITLE),
        url=_safe_url(article.url),
        description=trim(discord_escape(text.strip()), preview_chars) or "(no text)",
        colour=ANSWER_COLOUR,
    )
    embed.add_field(
        name="Source", value=trim(discord_escape(article.source or "unknown"), 200), inline=True
    )
    embed.add_field(name="Published", value=date_label(article), inline=True)
    embed.add_field(name="Chunks", value=str(article.chunk_count), inline=True)
    embed.set_footer(text=f"added {article.added_at:%Y-%m-%d %H:%M} UTC")
    return embed


def feedback_embed(items: list[dict[str, Any]]) -> discord.Embed:
    """/unanswered: recent questions the bot could not answer or that got a thumbs down."""
    import discord

    embed = discord.Embed(title="Questions to follow up", colour=ABSTAIN_COLOUR)
    if not items:
        embed.description = "Nothing unanswered or disliked recently."
        return embed
    lines = []
    for item in items:
        label = "not answered" if item["kind"] == "abstained" else "\U0001f44e"
        when = str(item["created_at"])[:16].replace("T", " ")
        question = trim(discord_escape(_one_line(item["question"])), 200)
        lines.append(f"\u2022 {question} ({label}, {when})")
    embed.description = trim("\n".join(lines), EMBED_DESCRIPTION)
    return embed


def embed_problems(embed: discord.Embed) -> list[str]:
    """Which of Discord's embed limits `embed` breaks (empty when it is fine to send)."""
    data = embed.to_dict()
    problems = []
    if len(data.get("title", "")) > EMBED_TITLE:
        problems.append("title too long")
    if len(data.get("description", "")) > EMBED_DESCRIPTION:
        problems.append("description too long")
    fields = data.get("fields", [])
    if len(fields) > EMBED_FIELDS:
        problems.append("too many fields")
    for f in fields:
        if not f["name"] or len(f["name"]) > FIELD_NAME:
            problems.append(f"field name length {len(f['name'])}")
        if not f["value"] or len(f["value"]) > FIELD_VALUE:
            problems.append(f"field value length {len(f['value'])}")
    if len(data.get("footer", {}).get("text", "")) > EMBED_FOOTER:
        problems.append("footer too long")
    if len(embed) > EMBED_TOTAL:
        problems.append(f"embed total {len(embed)}")
    return problems
