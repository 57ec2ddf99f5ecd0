"""The terminal's view of answers and adds (rich): the answering span bold, each cited article
headed once with its numbered passages beneath, quotes indented under their marker."""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.markup import escape
from rich.text import Text

from bot.answer.models import Answer, Citation
from bot.render import (
    article_heading,
    as_of_line,
    chunk_count,
    citation_groups,
    conflict_parts,
    footer_parts,
    headline,
    quote_window,
)
from index.errors import naming
from index.models import AddOutcome


def answer_rich(answer: Answer) -> Group:
    parts: list[RenderableType] = [_headline_text(answer)]
    dated = as_of_line(answer)
    if dated:
        parts.append(Text(dated, style="dim"))
    for conflict in answer.conflicts:
        values, refs = conflict_parts(conflict)
        parts.append(Text(f"Sources disagree: {' vs '.join(values)} ({refs})", style="bold yellow"))
    parts.extend(_sources_rich(answer))
    footer, fell_back = footer_parts(answer)
    if fell_back:
        footer += f" \u00b7 fell back: {fell_back}"
    parts.append(Text(footer, style="dim"))
    return Group(*parts)


def _headline_text(answer: Answer) -> Text:
    line = headline(answer)
    text = Text()
    if not line.stated:
        text.append(line.text, style="yellow")
    elif line.start >= 0:
        text.append(line.text[: line.start])
        text.append(line.text[line.start : line.end], style="bold reverse")
        text.append(line.text[line.end :])
    else:
        text.append(line.text)
    if line.cites_lead:
        text.append(" [1]", style="cyan")
    else:
        text.highlight_regex(r"\[\d+\]", "cyan")  # a written answer's own markers
    return text


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
