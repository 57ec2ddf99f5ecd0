"""What kind of quantity a marked figure is: money, a percentage, a duration, a year or a
count of something. Pure functions, no I/O.

Two figures only disagree when they measure the same thing: "£1,500" and "£1,400" are rival
sums, "six" (of "six months") is not a third sum, and "15,000 troops" does not contradict
"12,000 residents". The kind is read from the figure and the words right around it; where the
text does not tell (a bare "12,000"), it stays unknown rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    MONEY = "money"
    PERCENT = "percent"
    DURATION = "duration"
    YEAR = "year"
    COUNT = "count"


@dataclass(frozen=True)
class Quantity:
    """A figure's kind and what it is measured in: the currency for money, the time unit for a
    duration, the counted noun for a count (None when the text does not say)."""

    kind: Kind
    unit: str | None = None

    def comparable(self, other: Quantity) -> bool:
        """Same kind, and the same unit when both are known."""
        if self.kind is not other.kind:
            return False
        return self.unit is None or other.unit is None or self.unit == other.unit


_SYMBOLS = {"$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY", "₩": "KRW", "₹": "INR"}
_CURRENCY_WORDS = {
    "dollar": "USD",
    "pound": "GBP",
    "sterling": "GBP",
    "euro": "EUR",
    "yen": "JPY",
    "rupee": "INR",
    "franc": "CHF",
    "yuan": "CNY",
    "usd": "USD",
    "gbp": "GBP",
    "eur": "EUR",
    "pence": "GBP",
    "cent": "USD",
}
_TIME_UNITS = {
    "second": "second",
    "minute": "minute",
    "hour": "hour",
    "day": "day",
    "week": "week",
    "fortnight": "fortnight",
    "month": "month",
    "year": "year",
    "decade": "decade",
    "century": "century",
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SCALE_WORDS = _words(
    "thousand thousands million millions billion billions trillion bn mn m k hundred"
)
# Words between a figure and the noun it counts that do not name the thing counted.
_QUALIFIERS = _words(
    "more additional extra new other further fewer some such full young old former armed "
    "local foreign"
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_YEAR = re.compile(r"(?:1[5-9]|20)\d{2}s?")


def _singular(word: str) -> str:
    word = word.lower().rstrip("'’")
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def quantity_at(sentence: str, start: int, end: int) -> Quantity:
    """The kind of the figure at sentence[start:end] (a highlight span), from the figure and
    the words around it."""
    figure = sentence[start:end]
    before = sentence[max(0, start - 4) : start]
    for symbol, code in _SYMBOLS.items():
        if symbol in figure or before.rstrip().endswith(symbol):
            return Quantity(Kind.MONEY, code)
    if re.search(r"%|per ?cent", figure, re.I):
        return Quantity(Kind.PERCENT)
    # The words of the same clause after the figure ("by 2007, Ms Hewitt said": none).
    clause = re.split(r"[,.;:!?()\[\]\"\u201c\u201d]", sentence[end:], maxsplit=1)[0]
    words = [w for w in _WORD.findall(clause)[:4] if w.lower() not in _SCALE_WORDS]
    quantity = _from_following(figure, words)
    if quantity == Quantity(Kind.COUNT) and _YEAR.fullmatch(figure.strip()):
        return Quantity(Kind.YEAR)  # "in 2007"; "2000 kilometres" counts kilometres
    return quantity


def _from_following(figure: str, words: list[str]) -> Quantity:
    """The kind told by the words after a figure: "percent", "pounds", "months", "troops"."""
    attached = re.search(r"[-\s]([A-Za-z]+)$", figure)  # "48-hour", "three hundred years"
    if attached and _singular(attached.group(1)) in _TIME_UNITS:
        return Quantity(Kind.DURATION, _TIME_UNITS[_singular(attached.group(1))])
    if not words:
        return Quantity(Kind.COUNT)
    first = words[0].lower()
    if first in ("percent", "per") or first == "percentage":
        return Quantity(Kind.PERCENT)
    if _singular(first) in _CURRENCY_WORDS:
        return Quantity(Kind.MONEY, _CURRENCY_WORDS[_singular(first)])
    if _singular(first) in _TIME_UNITS:
        return Quantity(Kind.DURATION, _TIME_UNITS[_singular(first)])
    return Quantity(Kind.COUNT, _counted_noun(words))


def _counted_noun(words: list[str]) -> str | None:
    """The noun a count counts ("11,000 North Korean troops": troop), None when the next word
    is not a plain noun ("12,000 a day", "six of those months")."""
    for word in words:
        if word[0].isupper() or word.lower() in _QUALIFIERS:
            continue  # "North Korean", "additional"
        lowered = word.lower()
        if lowered in _FUNCTION_WORDS:
            return None
        return _singular(lowered)
    return None


_FUNCTION_WORDS = _words(
    "a an the of to in on at by for from with and or but as than that which who were was is "
    "are be been had have has said says will would could may might more less up down out "
    "over under about into per each"
)

_TIME_Q = re.compile(
    r"\bhow (?:long|much (?:longer|time|older|younger)|many (?:[a-z]+ ){0,2}"
    r"(?:second|minute|hour|day|week|month|year|decade)s?)\b",
    re.I,
)
# "In kilometers, how long is the route?": a length, not a time.
_LENGTH_Q = re.compile(r"\b(?:kilomet|km\b|miles?\b|met(?:er|re)s?\b|feet\b|foot\b|inch)", re.I)
_PERCENT_Q = re.compile(r"\bwhat (?:percentage|percent|proportion|share)\b|\bper ?cent\b", re.I)
_MONEY_Q = re.compile(
    r"\bwhat (?:is|was|are|were|will be) the (?:cost|price|budget|salary|fine|value)\b"
    r"|\bhow much\b.*\b(?:money|cash|pay|paid|cost|price|spend|spent|fund|funding|budget|"
    r"salary|wage|fine|worth|tax|fee|bill|raise|raised|earn|earned)\b",
    re.I,
)
_COUNT_Q = re.compile(r"\bhow many\b", re.I)


def wanted_kinds(question: str) -> frozenset[Kind] | None:
    """The kinds of quantity a number question can be answered with; None when it does not
    say ("how far", "how big": the engine's other rules decide)."""
    if _TIME_Q.search(question):
        return None if _LENGTH_Q.search(question) else frozenset({Kind.DURATION})
    if _PERCENT_Q.search(question):
        return frozenset({Kind.PERCENT})
    if _MONEY_Q.search(question):
        return frozenset({Kind.MONEY, Kind.PERCENT})  # "rise by 2 percent" answers it too
    if _COUNT_Q.search(question):
        return frozenset({Kind.COUNT})
    if re.search(r"\bhow much\b", question, re.I):
        return frozenset({Kind.MONEY, Kind.PERCENT, Kind.COUNT})
    return None
