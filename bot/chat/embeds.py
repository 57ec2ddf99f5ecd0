"""Discord's view of answers, adds and articles: embeds and one-line replies within Discord's
limits, every text escaped (no markdown from articles, no mentions, no pings)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bot.answer.models import Answer, Citation
from bot.render import (
    UNKNOWN_DATE,
    CitationGroup,
    as_of_line,
    chunk_count,
    citation_groups,
    citation_marker,
    conflict_parts,
    date_label,
    footer_parts,
    headline,
    quote_window,
    safe_url,
    source_meta,
)
from index.errors import naming
from index.models import AddOutcome, Article

if TYPE_CHECKING:  # imported where used: importing this module stays cheap
    import discord

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


def _title_line(title: object) -> str:
    """A title on one line; one of only spaces or line breaks ("\r") would leave a field
    without a name, which Discord refuses."""
    return _one_line(str(title or "")) or "untitled"


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


def citation_line(c: Citation) -> str:
    """Source, date and link of a citation, escaped, for a field value."""
    a = c.passage.article
    return _meta_line(source_meta(a.source, date_label(a), a.url))


def _meta_line(parts: list[str]) -> str:
    """Source and date escaped, the link (when there is one) as a markdown link."""
    source, dated, *link = parts
    shown = [discord_escape(source), dated] + [f"[link]({url})" for url in link]
    return " \u00b7 ".join(shown)


def _citation_quote(c: Citation, limit: int, label: str = "") -> str:
    """`> [n] quote` on one line (a Discord block quote), the answering span in bold."""
    quote, _s0, _s1, h0, h1 = quote_window(c, limit)
    body = _marked(quote, h0, h1) if c.answers else discord_escape(quote)
    return f"> [{c.n}] {label}" + _one_line(body)


def _group_name(group: CitationGroup, abstained: bool) -> str:
    """The field name: the article's title, said once, marked when none of it is evidence."""
    marker = citation_marker(group.answers, abstained)
    return trim(discord_escape(_title_line(group.article.title)), FIELD_NAME - len(marker)) + marker


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
    line = headline(answer)
    shown = _one_line(_marked(line.text, line.start, line.end))
    if len(shown) > 1500:
        shown = trim(discord_escape(_one_line(line.text)), 1500)
    lines = [shown + (" [1]" if line.cites_lead else "")]
    if read_as:
        lines.insert(0, f"*Follow-up read as: {trim(discord_escape(_one_line(read_as)), 300)}*")
    dated = as_of_line(answer, discord_escape(answer.as_of_source or ""))
    if dated:
        lines.append(f"*{dated}*")
    for conflict in answer.conflicts:
        values, refs = conflict_parts(conflict)
        shown = " vs ".join(discord_escape(v) for v in values)
        lines.append(trim(f"Sources disagree: {shown} ({refs})", 300))
    if answer.abstained and answer.citations:
        lines.append("\nClosest passages (they do **not** answer the question):")
    return trim("\n".join(lines), 2000)


def answer_footer(answer: Answer) -> str:
    footer, fell_back = footer_parts(answer)
    if fell_back:
        import discord

        reason = discord.utils.escape_mentions(_one_line(fell_back))
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
        name = discord_escape(_title_line(c.get("title")))
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
        dated = str(c.get("published") or UNKNOWN_DATE)
        head = _meta_line(source_meta(c.get("source"), dated, c.get("url")))
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
    url = safe_url(a.url)
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
        url=safe_url(article.url),
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
