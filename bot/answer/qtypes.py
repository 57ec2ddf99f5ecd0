"""What kind of answer a question wants, and where such answers sit in a sentence.

"How many troops" wants a number, "when" a date, "who" a name. Knowing that lets the engine
prefer sentences that contain such a thing, and mark the exact span instead of a whole line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from index.models import Span


class QType(StrEnum):
    NUMBER = "number"  # how many, how much, what percentage
    DATE = "date"  # when, what year
    PERSON = "person"  # who, whom, whose
    PLACE = "place"  # where
    REASON = "reason"  # why
    OTHER = "other"  # what, which, how...


_NUMBER_Q = re.compile(
    r"\b(how (many|much|long|far|old|big|large|often|high|tall|deep|fast)|what (percentage|"
    r"percent|proportion|number|amount|share|size|rate)|how many"
    r"|what (?:is|was|are|were) the (?:population|number|amount|cost|price|size|total|death toll|"
    r"value|budget|salary|fine|turnout|majority))\b",
    re.I,
)
_DATE_Q = re.compile(
    r"\b(when|what (year|date|day|month|time|decade|century)|which (year|date|day|month|"
    r"decade|century)|since when|how long ago)\b",
    re.I,
)
_PERSON_Q = re.compile(
    r"\b(who|whom|whose|which (person|leader|official|minister|president))\b", re.I
)
_PLACE_Q = re.compile(
    r"\b(where|what (country|city|place|region|town|state)|which (country|"
    r"city|place|region|town|state))\b",
    re.I,
)
_REASON_Q = re.compile(r"\b(why|what (caused|led to|is the reason|was the reason))\b", re.I)

_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|a dozen|dozens|hundreds|thousands|millions|half|a third|a quarter)"
)
_SCALE = r"(?:\s?(?:thousand|million|billion|trillion|bn|mn|m|k|per ?cent|percent)\b|\s?%)?"
_FIGURE = r"(?:[$£€¥]\s?)?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?" + _SCALE
# "75,000 to 100,000", "10-12 percent", "between 5 and 10": a range is one answer.
_RANGE = r"(?:\s?(?:-|–|—|to)\s?" + _FIGURE + r")?"
_NUMBER = re.compile(
    r"\bbetween\s" + _FIGURE + r"\sand\s" + _FIGURE + r"|"
    r"(?:(?:about|around|nearly|almost|more than|less than|fewer than|at least|at most|over|"
    r"up to|some|roughly|approximately)\s)?" + _FIGURE + _RANGE + r"(?:-\w+)?"
    r"|\b" + _NUMBER_WORDS + r"\b(?:[- ]" + _NUMBER_WORDS + r")*",
    re.I,
)
_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = re.compile(
    r"\b(?:" + _MONTHS + r"\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTHS + r"(?:,?\s+\d{4})?"
    r"|" + _MONTHS + r"\s+\d{4}"
    r"|(?:in |since |by |until )?(?:the )?(?:early |mid-?|late )?(?:1[0-9]|20)\d{2}s?"
    r"(?:\s?(?:-|–|—|to)\s?(?:1[0-9]|20)\d{2})?"
    r"|\d{4}-\d{2}-\d{2}"
    r"|(?:last|next|this|on|early|late) (?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|"
    r"Sunday|week|month|year|spring|summer|autumn|fall|winter)"
    r"|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    r"|(?:yesterday|today|tomorrow)"
    r"|(?:the )?(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|"
    r"ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|"
    r"eighteenth|nineteenth|twentieth|twenty-first) century)\b",
    re.I,
)
# A run of capitalized words (allowing small joiners), the usual shape of a name or a place.
_NAME_WORD = r"(?:(?:St|Mt|Ft|Jr|Sr)\.|[A-Z][\w'’.-]*\w)"
_PROPER = re.compile(
    r"\b"
    + _NAME_WORD
    + r"(?:\s+(?:(?:of|the|de|von|van|der|den|al|bin|da|del|di|du|la|le|and)\s+){0,2}"
    + _NAME_WORD
    + r")*"
)
_TITLES = re.compile(
    r"^(?:Mr|Mrs|Ms|Dr|Prof|President|Prime|Minister|Secretary|Chancellor|General|Gen|Sir|"
    r"Lord|Lady|King|Queen|Pope|Senator|Sen|Rep|Governor|Gov|Judge|Chairman|Chief)\.?\s+"
)
_NOT_NAMES = frozenset(
    [
        "The",
        "A",
        "An",
        "In",
        "On",
        "At",
        "For",
        "And",
        "But",
        "Or",
        "If",
        "When",
        "While",
        "However",
        "It",
        "He",
        "She",
        "They",
        "We",
        "I",
        "This",
        "That",
        "These",
        "Those",
        "His",
        "Her",
        "Their",
        "Its",
        "There",
        "Here",
        "As",
        "After",
        "Before",
        "During",
        "Last",
        "Next",
        "According",
        "Meanwhile",
        # Capitalized only because they open a sentence:
        "Since",
        "Until",
        "Many",
        "Some",
        "Most",
        "Several",
        "Both",
        "Each",
        "All",
        "Other",
        "Such",
        "Although",
        "Because",
        "Despite",
        "Following",
        "Under",
        "Unlike",
        "Among",
        "Between",
        "From",
        "To",
        "With",
        "Without",
        "Within",
        "By",
        "Of",
        "Once",
        "Then",
        "Today",
        "Also",
        "Yet",
        "So",
        "Not",
        "No",
        "Few",
        "Mondays",
        "Tuesdays",
        "Wednesdays",
        "Thursdays",
        "Fridays",
        "Saturdays",
        "Sundays",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Sept",
        "Oct",
        "Nov",
        "Dec",
    ]
)


def classify(question: str) -> QType:
    for qtype, pattern in (
        (QType.NUMBER, _NUMBER_Q),
        (QType.DATE, _DATE_Q),
        (QType.PERSON, _PERSON_Q),
        (QType.PLACE, _PLACE_Q),
        (QType.REASON, _REASON_Q),
    ):
        if pattern.search(question):
            return qtype
    return QType.OTHER


@dataclass(frozen=True)
class Candidate:
    """A span of a sentence that has the shape of the wanted answer (sentence-relative)."""

    span: Span
    text: str


def candidates(sentence: str, qtype: QType) -> list[Candidate]:
    """Spans of the sentence with the answer's shape; empty for types that have none."""
    if qtype is QType.NUMBER:
        found = [
            m
            for m in _NUMBER.finditer(sentence)
            if not _is_year_only(m.group(0)) and not _is_pronoun_one(sentence, m)
        ]
    elif qtype is QType.DATE:
        found = list(_DATE.finditer(sentence))
    elif qtype in (QType.PERSON, QType.PLACE):
        found = [m for m in _PROPER.finditer(sentence) if _looks_like_name(m.group(0))]
    else:
        return []
    result = []
    for match in found:
        raw = match.group(0)
        lead = _LEAD_WORDS.match(raw)
        text = raw[lead.end() if lead else 0 :].strip()
        start = match.start() + raw.find(text)
        if qtype in (QType.PERSON, QType.PLACE) and not _looks_like_name(text):
            continue  # "Since September" is not a name once "Since" is gone
        if text:
            result.append(Candidate(Span(start, start + len(text)), text))
    return result


# Words a span starts with that are not the answer itself: "about 15,000" marks "15,000",
# "in 2007" marks "2007" (the sentence around the mark still shows the qualifier).
_LEAD_WORDS = re.compile(
    r"^(?:(?:about|around|nearly|almost|more than|less than|fewer than|at least|at most|over|"
    r"up to|some|roughly|approximately|in|on|since|by|until|the)\s+)+",
    re.I,
)


def _is_pronoun_one(sentence: str, match: re.Match[str]) -> bool:
    """'one of which', 'the one', 'no one': not a count."""
    if match.group(0).lower() != "one":
        return False
    before = sentence[: match.start()].rstrip().lower()
    after = sentence[match.end() :].lstrip().lower()
    return after.startswith(("of ", "another", "who", "that", "which")) or before.endswith(
        ("the", "no", "any", "every", "each", "this", "that")
    )


def _is_year_only(text: str) -> bool:
    return bool(re.fullmatch(r"(?:1[5-9]|20)\d{2}", text.strip()))


def _looks_like_name(text: str) -> bool:
    words = _TITLES.sub("", text).split()
    return bool(words) and not all(w in _NOT_NAMES for w in words)


_MEASURE_Q = re.compile(r"\bhow (long|far|old|tall|high|deep|big|large|heavy|wide)\b", re.I)
_UNIT = re.compile(
    r"[\s-]?(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|century|"
    r"miles?|kilometres?|kilometers?|km|metres?|meters?|feet|foot|ft|inches|inch|yards?|acres?|"
    r"hectares?|tons?|tonnes?|kilograms?|kg|pounds?|lbs?)\b",
    re.I,
)


def with_unit(sentence: str, span: Span, question: str) -> Span:
    """'three hundred years', not 'three hundred', when asked how long (far, old...): the
    figure means nothing without its unit. Spans are sentence-relative."""
    if not _MEASURE_Q.search(question):
        return span
    unit = _UNIT.match(sentence, span.end)
    return Span(span.start, unit.end()) if unit else span
