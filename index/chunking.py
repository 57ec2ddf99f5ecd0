"""Sentence splitting and sentence-aware chunking; every span indexes the article's clean text.

A chunk is a run of whole sentences up to a size, overlapping its neighbour by a sentence or
so, because an answer that straddles a chunk border must still be found in one piece.
"""

from __future__ import annotations

import re

from index.models import ChunkDraft, Sentence

# Words whose trailing period does not end a sentence ("Mr. Kim", "Nov. 4", "U.S. troops").
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "jr",
        "sr",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "cmdr",
        "adm",
        "maj",
        "gov",
        "sen",
        "rep",
        "rev",
        "hon",
        "pres",
        "no",
        "nos",
        "vs",
        "etc",
        "inc",
        "corp",
        "ltd",
        "co",
        "dept",
        "univ",
        "approx",
        "est",
        "fig",
        "al",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thur",
        "thurs",
        "fri",
        "sat",
        "sun",
        "e.g",
        "i.e",
        "u.s",
        "u.k",
        "u.n",
        "e.u",
        "a.k.a",
        "ph.d",
        "mt",
        "ft",
    ]
)
# A sentence ends at . ! ? (or …), possibly followed by closing quotes or brackets.
_BOUNDARY = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c\u2018(\[]?[A-Z0-9])")
_TOKEN_BEFORE = re.compile(r"([A-Za-z.]+)\.$")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Sentence]:
    """Sentences of text[start:end], as spans of `text`, without surrounding whitespace."""
    end = len(text) if end is None else end
    spans: list[Sentence] = []
    for para_start, para_end in _paragraphs(text, start, end):
        cursor = para_start
        for match in _BOUNDARY.finditer(text, para_start, para_end):
            if _is_abbreviation(text, cursor, match.start() + 1):
                continue
            _append(spans, text, cursor, match.end())
            cursor = match.end()
        _append(spans, text, cursor, para_end)
    return spans


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    result = []
    cursor = start
    for match in re.finditer(r"\n+", text[start:end]):
        result.append((cursor, start + match.start()))
        cursor = start + match.end()
    result.append((cursor, end))
    return result


def _is_abbreviation(text: str, sentence_start: int, period_end: int) -> bool:
    """True when the period closing text[..period_end] belongs to an abbreviation or an initial."""
    if text[period_end - 1] != ".":
        return False
    match = _TOKEN_BEFORE.search(text, sentence_start, period_end)
    if not match:
        return False
    token = match.group(1).lower().rstrip(".")
    if token in _ABBREVIATIONS:
        return True
    # A single capital letter ("J. Smith") or dotted initials ("U.S.") are not sentence ends.
    return len(token) == 1 and token.isalpha() or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", token))


def _append(spans: list[Sentence], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append(Sentence(start, end))


def _split_long(text: str, sentence: Sentence, max_chars: int) -> list[Sentence]:
    """Cut a sentence longer than max_chars at spaces, so no chunk grows without bound."""
    pieces: list[Sentence] = []
    start = sentence.start
    while sentence.end - start > max_chars:
        cut = text.rfind(" ", start + 1, start + max_chars)
        if cut <= start:
            cut = start + max_chars
        _append(pieces, text, start, cut)
        start = cut
    _append(pieces, text, start, sentence.end)
    return pieces


def chunk_text(text: str, max_chars: int = 700, overlap_sentences: int = 1) -> list[ChunkDraft]:
    """Group sentences into chunks of at most max_chars (a longer sentence is cut first)."""
    sentences: list[Sentence] = []
    for sentence in split_sentences(text):
        sentences.extend(_split_long(text, sentence, max_chars))
    chunks: list[ChunkDraft] = []
    first = 0
    while first < len(sentences):
        last = first
        while (
            last + 1 < len(sentences)
            and sentences[last + 1].end - sentences[first].start <= max_chars
        ):
            last += 1
        group = tuple(sentences[first : last + 1])
        start, end = group[0].start, group[-1].end
        chunks.append(ChunkDraft(len(chunks), start, end, text[start:end], group))
        if last + 1 >= len(sentences):
            break
        first = max(first + 1, last + 1 - overlap_sentences)
    return chunks
