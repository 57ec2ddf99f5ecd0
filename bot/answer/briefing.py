"""What a news desk needs beyond the right sentence: the newest report first, and a warning
when articles give different figures for the same question.

Fast-moving stories are revised (10,000 troops one week, 11,000 the next); silently picking
one figure would hide that. Both rules only look at citations that answer about as well as
the best one, so an old article that merely mentions a number does not trigger them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from bot.answer.checks import numbers_in
from bot.answer.models import Citation, Conflict
from bot.answer.quantities import Quantity, quantity_at

# A citation answers "about as well" as the best when its probability is at least this share
# of the best one's (0.6 keeps a second report of the same figure, drops passing mentions).
CONTENDER_RATIO = 0.6


def _published(c: Citation) -> date | None:
    """The article's publication date, None when unknown: the date it was added says nothing
    about which report is newer."""
    return c.passage.article.published


def _contenders(citations: list[Citation]) -> list[Citation]:
    if not citations:
        return []
    best = citations[0].score
    return [
        c
        for c in citations
        if c.answers and c.sentence is not None and c.score >= best * CONTENDER_RATIO
    ]


def newest_first(citations: list[Citation]) -> list[Citation]:
    """When another article answers about as well as the lead and is known to be newer, it
    leads. An undated lead, or an undated contender, is never said to be older or newer."""
    lead = citations[0] if citations else None
    lead_date = _published(lead) if lead is not None else None
    dated = [(d, c) for c in _contenders(citations) if (d := _published(c)) is not None]
    if lead is None or lead_date is None or not dated:
        return citations
    newest_date, newest = max(dated, key=lambda pair: (pair[0], pair[1].score))
    if newest is lead or newest_date <= lead_date:
        return citations
    ordered = [newest] + [c for c in citations if c is not newest]
    return [replace(c, n=i + 1) for i, c in enumerate(ordered)]


def conflicting_figures(citations: list[Citation]) -> tuple[Conflict, ...]:
    """Different figures of the same kind as the lead's (money with money in one currency,
    counts of one thing, ...), marked in answering citations from different articles, newest
    first; a figure of another kind ("six" of "six months" beside a sum) is no rival answer.
    Groups whose articles are all undated come after the dated ones, in citation order."""
    marked = [(c, _quantity(c)) for c in _contenders(citations) if c.highlight]
    if not marked:
        return ()
    reference = marked[0][1]
    if reference.unit is None:  # "12,000" alone: the first like figure that says what it counts
        reference = next((q for _c, q in marked if q.unit and q.comparable(reference)), reference)
    by_value: dict[frozenset[Decimal], list[Citation]] = {}
    for c, quantity in marked:
        values = numbers_in(c.highlight_text)
        if values and quantity.comparable(reference):
            by_value.setdefault(frozenset(values), []).append(c)
    if len(by_value) < 2:
        return ()
    articles = {c.passage.article.id for group in by_value.values() for c in group}
    if len(articles) < 2:
        return ()
    groups = _newest_groups_first(list(by_value.values()))
    values = tuple(group[0].highlight_text for group in groups)
    refs = tuple(c.n for group in groups for c in group)
    return (Conflict(values, refs),)


def _quantity(c: Citation) -> Quantity:
    """The kind of the citation's marked figure, read in its sentence."""
    assert c.highlight is not None and c.sentence is not None
    offset = c.sentence.start
    return quantity_at(c.sentence_text, c.highlight.start - offset, c.highlight.end - offset)


def _newest_groups_first(groups: list[list[Citation]]) -> list[list[Citation]]:
    """Groups by their newest known publication date; undated groups last, order kept."""
    dated = [(d, g) for g in groups if (d := max(_dates(g), default=None)) is not None]
    undated = [g for g in groups if not _dates(g)]
    dated.sort(key=lambda pair: pair[0], reverse=True)
    return [g for _d, g in dated] + undated


def _dates(group: list[Citation]) -> list[date]:
    return [d for c in group if (d := _published(c)) is not None]
