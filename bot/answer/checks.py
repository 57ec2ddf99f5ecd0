"""Checks on an LLM's written answer before anyone sees it. Pure functions, no I/O.

A reader must be able to trust every [n]: a marker that points at no passage is removed, and a
sentence stating a figure that none of its cited passages contains is dropped (the model
invented or altered it). An answer left with no valid citation is not used at all; the caller
falls back to the extractive answer. When the model says the passages do not answer, the
result is an abstention, whatever else it wrote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# The sentence the prompt asks for when the passages do not answer (see bot/answer/llm.py).
NOT_ANSWERED = "The passages do not answer this question."

# [1], [1, 2], [1-3], [1][2], and the common variants [Passage 1], [passage 2, 3].
_MARKER = re.compile(
    r"\[\s*(?:passages?\s*)?(\d+(?:\s*[,;\-\u2013]\s*(?:passage\s*)?\d+)*)\s*\]", re.I
)
_RANGE = re.compile(r"(\d+)\s*[-\u2013]\s*(\d+)")
# Thousands separators: comma, apostrophe, no-break / thin / narrow no-break spaces.
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:[,'\u00a0\u2009\u202f]\d{3})+|\d+)(?:\.(\d+))?")
_SCALE = re.compile(r"\s*(thousand|million|billion|trillion|bn|m|k)\b", re.I)
_SCALES = {
    "thousand": 10**3,
    "k": 10**3,
    "million": 10**6,
    "m": 10**6,
    "billion": 10**9,
    "bn": 10**9,
    "trillion": 10**12,
}
_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_WORD_NUMBERS = {word: n for n, word in enumerate(_UNITS.split(" "))} | {
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "dozen": 12,
}
_ORDINALS = "first second third fourth fifth sixth seventh eighth ninth tenth"
_WORD_NUMBERS |= {word: n for n, word in enumerate(_ORDINALS.split(" "), start=1)}
# A sentence ends at . ! ? (and any markers right after it) followed by space, or at a newline.
_SENTENCE = re.compile(r"\S.*?(?:[.!?]+[\"\u201d')]*(?:\s*\[[^\]]{1,30}\])*(?=\s|$)|$)")
_NOT_ANSWERED = re.compile(
    r"\b(passages?|articles?|sources?|context)\b[^.]{0,40}\b(do|does|did)\s*(not|n't)\s+"
    r"(answer|say|mention|contain|state|provide|include|specify|address)",
    re.I,
)


@dataclass(frozen=True)
class CheckedAnswer:
    """The answer text after checking, and what was done to it.

    `cited` lists passage numbers (1-based, as sent to the model) in order of first use.
    `problem` is set when the answer must not be used; it says why, for `fallback_reason`.
    """

    text: str
    cited: tuple[int, ...]
    abstained: bool = False
    removed_markers: tuple[int, ...] = ()
    dropped_sentences: tuple[str, ...] = ()
    problem: str | None = None


def check_answer(raw: str, passages: Sequence[str]) -> CheckedAnswer:
    """Check `raw` against the numbered `passages` (passage n is `passages[n - 1]`).

    Each passage string should hold everything the model saw for it (title, source, date and
    text), so a figure taken from the title or the date counts as supported. A sentence with
    no marker of its own is checked against every passage the answer cites.
    """
    text, removed = remove_invalid_markers(raw.strip(), len(passages))
    if not strip_markers(text).strip():
        return CheckedAnswer("", (), problem="the LLM returned an empty answer")
    all_cited = cited_numbers(text)
    if says_not_answered(text, all_cited):
        return CheckedAnswer(NOT_ANSWERED, (), abstained=True, removed_markers=removed)
    if not all_cited:
        return CheckedAnswer(text, (), False, removed, problem="the LLM answer cited no passage")
    paragraphs: list[str] = []
    dropped: list[str] = []
    for paragraph in text.split("\n"):
        kept = []
        for sentence in split_sentences(paragraph):
            sources = cited_numbers(sentence) or all_cited
            if unsupported_numbers(sentence, [passages[n - 1] for n in sources]):
                dropped.append(sentence.strip())
            else:
                kept.append(sentence.strip())
        if kept or not paragraph.strip():
            paragraphs.append(" ".join(kept))
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(paragraphs)).strip()
    cited = cited_numbers(text)
    problem = None if cited else "the LLM answer stated figures its sources do not contain"
    return CheckedAnswer(text, cited, False, removed, tuple(dropped), problem)


def says_not_answered(text: str, cited: Sequence[int] = ()) -> bool:
    """True when the answer opens with the agreed "The passages do not answer this question.",
    or, citing nothing, opens with its own words for it ("The articles do not say ...")."""
    first = split_sentences(strip_markers(text).strip())[:1]
    if not first:
        return False
    lead = " ".join(first[0].split()).lower()
    if lead.startswith(NOT_ANSWERED.lower().rstrip(".")):
        return True
    return not cited and bool(_NOT_ANSWERED.search(lead))


def remove_invalid_markers(text: str, count: int) -> tuple[str, tuple[int, ...]]:
    """Rewrite every marker to keep only numbers 1..count; drop a marker left empty."""
    removed: list[int] = []

    def rewrite(match: re.Match[str]) -> str:
        numbers = _expand(match.group(1))
        valid = [n for n in numbers if 1 <= n <= count]
        removed.extend(n for n in numbers if not 1 <= n <= count)
        return "".join(f"[{n}]" for n in dict.fromkeys(valid))

    out = _MARKER.sub(rewrite, text)
    out = re.sub(r"[ \t]+([.,;:!?])", r"\1", out)  # "troops [9]." -> "troops."
    out = re.sub(r"[ \t]{2,}", " ", out).strip()
    return out, tuple(removed)


def cited_numbers(text: str) -> tuple[int, ...]:
    """Passage numbers cited in `text`, in order of first appearance."""
    seen: dict[int, None] = {}
    for match in _MARKER.finditer(text):
        for n in _expand(match.group(1)):
            seen.setdefault(n, None)
    return tuple(seen)


def strip_markers(text: str) -> str:
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", _MARKER.sub("", text))


def split_sentences(text: str) -> list[str]:
    """Sentences with their trailing markers ("... troops. [1]" stays one sentence).

    A decimal point ("4.25") does not end a sentence: the next character is not a space.
    """
    return [
        m.group(0)
        for line in text.split("\n")
        for m in _SENTENCE.finditer(line)
        if m.group(0).strip()
    ]


@dataclass(frozen=True)
class Figure:
    """A figure written in digits: where, its value, and its value with the scale word
    that follows it ("1.2 million": 1.2 and 1200000; None without a scale word)."""

    start: int
    end: int  # after the digits
    scale_end: int  # after the scale word, if any; else `end`
    written: str
    value: Decimal
    scaled: Decimal | None


def figures(text: str) -> list[Figure]:
    out = []
    for match in _NUMBER.finditer(text):
        value = _value(match.group(1), match.group(2))
        if value is None:
            continue
        scale = _SCALE.match(text, match.end())
        scaled = (value * _SCALES[scale.group(1).lower()]).normalize() if scale else None
        scale_end = scale.end() if scale else match.end()
        out.append(Figure(match.start(), match.end(), scale_end, match.group(0), value, scaled))
    return out


def numbers_in(text: str) -> set[Decimal]:
    """Every figure in `text` as a value: separators removed, decimals normalised, and a
    figure with a scale word also counted scaled ("1.2 million" gives 1.2 and 1200000).
    Number words up to twenty, the tens, "dozen" and ordinals to "tenth" count too."""
    values: set[Decimal] = set()
    for figure in figures(text):
        values.add(figure.value)
        if figure.scaled is not None:
            values.add(figure.scaled)
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _WORD_NUMBERS:
            values.add(Decimal(_WORD_NUMBERS[word]))
    return values


def answer_figures(text: str) -> list[Figure]:
    """The figures an answer states, its citation markers aside."""
    return figures(strip_markers(text))


def figure_spans(text: str, values: set[Decimal]) -> list[tuple[int, int]]:
    """Where `text` writes one of `values` in digits (with its scale word, if any)."""
    return [
        (f.start, f.scale_end if f.scaled in values else f.end)
        for f in figures(text)
        if f.value in values or f.scaled in values
    ]


def unsupported_numbers(sentence: str, sources: Sequence[str]) -> list[str]:
    """Figures in `sentence` (digits only; markers ignored) found in none of `sources`.

    A figure with a scale word must match at that scale ("1.2 billion" is not "1.2 million").
    """
    available: set[Decimal] = set()
    for source in sources:
        available |= numbers_in(source)
    return [
        f.written
        for f in answer_figures(sentence)
        if (f.value if f.scaled is None else f.scaled) not in available
    ]


def _value(integer: str, fraction: str | None) -> Decimal | None:
    digits = re.sub(r"[,'\u00a0\u2009\u202f]", "", integer)
    try:
        value = Decimal(f"{digits}.{fraction}" if fraction else digits)
    except InvalidOperation:
        return None
    return value.normalize()


def _expand(group: str) -> list[int]:
    """ "1, 2" -> [1, 2]; "1-3" -> [1, 2, 3] (a silly range like 1-900 is kept as its ends)."""
    numbers: list[int] = []
    group = re.sub(r"passage\s*", "", group, flags=re.I)
    for part in re.split(r"\s*[,;]\s*", group):
        span = _RANGE.fullmatch(part.strip())
        if span:
            lo, hi = int(span.group(1)), int(span.group(2))
            numbers.extend(range(lo, hi + 1) if 0 <= hi - lo <= 10 else (lo, hi))
        elif part.strip().isdigit():
            numbers.append(int(part))
    return numbers


def renumber(text: str, mapping: dict[int, int]) -> str:
    """Rewrite markers through `mapping` (passage number -> citation number)."""

    def rewrite(match: re.Match[str]) -> str:
        numbers = [mapping[n] for n in _expand(match.group(1)) if n in mapping]
        return "".join(f"[{n}]" for n in dict.fromkeys(numbers))

    return _MARKER.sub(rewrite, text)


def claims_citing(text: str, n: int) -> list[str]:
    """The sentences of `text` that cite passage `n`, markers removed."""
    return [strip_markers(s).strip() for s in split_sentences(text) if n in cited_numbers(s)]


def preview(raw: str, count: int) -> str:
    """A streamed, not yet checked answer as it may be shown while it is being written:
    markers beyond the passages removed, the rest numbered in order of first use as the final
    citations will be, and a marker still being typed ("... troops [") held back."""
    text = re.sub(r"\[[^\]]{0,30}$", "", raw)
    text, _ = remove_invalid_markers(text, count)
    return renumber(text, {old: new for new, old in enumerate(cited_numbers(text), 1)})
