"""Markdown to plain-text blocks with markdown-it-py (CommonMark, plus GitHub tables).

Markup never reaches the store: a link keeps its text, emphasis and heading markers go, a
table becomes one readable row per line. Inline HTML tags and images are dropped, the text
around them stays; a block of HTML keeps its text (lxml), without scripts or comments.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from index.ingest.structure import HEADING, ITEM, PARAGRAPH, Block, table_row

_LISTS = ("bullet_list", "ordered_list")
_CODE = ("fence", "code_block")
_SKIPPED = ("hr",)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def markdown_blocks(source: str) -> list[Block]:
    """The blocks of a Markdown document, in order."""
    return list(_blocks(SyntaxTreeNode(_parser().parse(source))))


def _blocks(node: SyntaxTreeNode) -> Iterator[Block]:
    for child in node.children:
        if child.type == "paragraph":
            yield Block(PARAGRAPH, _inline(child))
        elif child.type == "heading":
            yield Block(HEADING, _inline(child))
        elif child.type in _LISTS:
            yield from _list_items(child)
        elif child.type == "table":
            yield from (table_row(_inline(cell) for cell in row.children) for row in _rows(child))
        elif child.type in _CODE:
            yield Block(PARAGRAPH, child.content.rstrip("\n"))
        elif child.type == "html_block":
            yield from _html_blocks(child.content)
        elif child.type not in _SKIPPED:  # blockquote and anything else that holds blocks
            yield from _blocks(child)


def _list_items(node: SyntaxTreeNode) -> Iterator[Block]:
    """One line per item, "- " or its number in front; nested lists follow as their own lines."""
    start = node.attrs.get("start", 1) if node.type == "ordered_list" else None
    for number, item in enumerate(node.children, int(start) if start is not None else 1):
        marker = f"{number}. " if start is not None else "- "
        for block in _blocks(item):
            if block.kind == ITEM:  # a nested list's own item
                yield block
            else:
                yield Block(ITEM, marker + block.text)
                marker = ""  # a second paragraph of the item continues its line


def _html_blocks(html: str) -> Iterator[Block]:
    """The text of a raw HTML block, one paragraph per top-level element.

    Parsed inside a <div> of a whole document: lxml's fragment parsing raises on a lone
    doctype or comment, and on a stray <body>.
    """
    import lxml.html

    root = lxml.html.document_fromstring(f"<div>{html}</div>").body[0]
    for unwanted in root.xpath(".//script|.//style"):
        unwanted.drop_tree()
    yield Block(PARAGRAPH, root.text or "")
    for element in root:
        if isinstance(element.tag, str):  # not a comment or processing instruction
            yield Block(PARAGRAPH, element.text_content())
        yield Block(PARAGRAPH, element.tail or "")


def _rows(table: SyntaxTreeNode) -> Iterator[SyntaxTreeNode]:
    for section in table.children:  # thead, tbody
        yield from section.children


def _inline(node: SyntaxTreeNode) -> str:
    """The text of a node's inline content: markers dropped, link text kept, breaks as lines."""
    parts: list[str] = []
    for child in node.children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type not in ("image", "html_inline"):
            parts.append(_inline(child))  # inline, link, em, strong, s: their text
    return "".join(parts)
