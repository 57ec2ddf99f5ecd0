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

# A citation answers "about as well" as the best when its probability is at least this share
# of the best one's (0.6 keeps a second report of the same figure, drops passing mentions).
CONTENDER_RATIO = 0.6


def _published(c: Citation) -> date:
    article = c.passage.article
    return article.published or article.added_at.date()


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
    """When another article answers about as well as the lead and is newer, it leads."""
    contenders = _contenders(citations)
    if len(contenders) < 2:
        return citations
    lead = citations[0]
    newest = max(contenders, key=lambda c: (_published(c), c.score))
    if newest is lead or _published(newest) <= _published(lead):
        return citations
    ordered = [newest] + [c for c in citations if c is not newest]
    return [replace(c, n=i + 1) for i, c in enumerate(ordered)]


def conflicting_figures(citations: list[Citation]) -> tuple[Conflict, ...]:
    """Different figures marked in answering citations from different articles, newest first."""
    by_value: dict[frozenset[Decimal], list[Citation]] = {}
    for c in _contenders(citations):
        values = numbers_in(c.highlight_text) if c.highlight else set()
        if values:
            by_value.setdefault(frozenset(values), []).append(c)
    if len(by_value) < 2:
        return ()
    articles = {c.passage.article.id for group in by_value.values() for c in group}
    if len(articles) < 2:
        return ()
    groups = sorted(by_value.values(), key=lambda g: max(_published(c) for c in g), reverse=True)
    values = tuple(group[0].highlight_text for group in groups)
    refs = tuple(c.n for group in groups for c in group)
    return (Conflict(values, refs),)
