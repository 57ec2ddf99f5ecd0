"""The plain text a parsed document is stored as: one layout for Markdown files and web pages.

Parsers (markdown.py for Markdown, html.py for trafilatura's reading of a page) turn a
document into blocks; `render` lays them out the way `index.normalize` reads plain text: a
blank line between paragraphs and headings, list items and table rows one per line. So the
structure survives normalizing (no headline glued to the first sentence, no table collapsed
into one line) and the stored text, the only text citations quote, is free of markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PARAGRAPH = "paragraph"
HEADING = "heading"
ITEM = "item"  # a list item, its marker ("- ", "2. ") already in the text
ROW = "row"  # a table row, cells joined by CELL_SEPARATOR
CELL_SEPARATOR = " | "


@dataclass(frozen=True)
class Block:
    """One paragraph, heading, list item or table row of a document, as plain text."""

    kind: str
    text: str


def table_row(cells: Iterable[str]) -> Block:
    """A row as one line; a one-column row is a paragraph (nothing to separate)."""
    texts = [" ".join(cell.split()) for cell in cells]
    if len(texts) > 1:
        return Block(ROW, CELL_SEPARATOR.join(texts))
    return Block(PARAGRAPH, texts[0] if texts else "")


def render(blocks: Iterable[Block]) -> str:
    """Blocks as plain text: consecutive items (or rows) on their own lines, the rest apart."""
    out: list[str] = []
    previous: Block | None = None
    for block in blocks:
        text = block.text.strip()
        if not text:
            continue
        if previous is not None:
            together = block.kind == previous.kind and block.kind in (ITEM, ROW)
            out.append("\n" if together else "\n\n")
        out.append(text)
        previous = block
    return "".join(out)


def split_title(blocks: list[Block], title: str | None) -> tuple[str | None, list[Block]]:
    """(title, body blocks): a heading that opens a document is its headline, so it is the
    title and leaves the body, unless the metadata names another headline (then it stays)."""
    if len(blocks) > 1 and blocks[0].kind == HEADING:
        heading = blocks[0].text
        if not title or same_heading(heading, title):
            return title or heading, blocks[1:]
    return title, blocks


def same_heading(heading: str, title: str) -> bool:
    """Whether a document's first heading is its title ("Storm hits" vs "Storm hits | Site")."""
    a = " ".join(heading.split()).casefold()
    b = " ".join(title.split()).casefold()
    return bool(a) and (a == b or b.startswith(a) or a.startswith(b))
