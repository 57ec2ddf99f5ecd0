"""Holding caches within BRIEFBOT_CACHE_MAX_MB (issue 18, item 2): collections are loaded on
first use, the least recently used dropped past the budget and reloaded with the same answers;
an answer holding a dropped cache finishes with it; a collection bigger than the budget alone is
still served, with one warning."""

from __future__ import annotations

import logging
import threading

import pytest

import index.knowledge
from index.caches import estimated_bytes
from index.embedding import HashingEmbedder
from index.knowledge import KnowledgeBase
from index.models import RawArticle
from tests.conftest import search

TOPICS = {
    "guild-1": ("ferry", "harbour", "tides", "pier"),
    "guild-2": ("orchard", "apples", "frost", "harvest"),
    "guild-3": ("tram", "rails", "depot", "timetable"),
}
QUESTION = {"guild-1": "ferry tides", "guild-2": "orchard frost", "guild-3": "tram depot"}


def articles(words: tuple[str, ...]) -> list[RawArticle]:
    first, second, third, fourth = words
    return [
        RawArticle(
            text=f"The {first} service near the {second} changed on day {n}. Officials said "
            f"the {third} and the {fourth} set the schedule, and {n} crews were on duty.",
            title=f"{first.title()} report {n}",
            origin=f"{first}-{n}",
        )
        for n in range(6)
    ]


def knowledge(settings, **changes) -> KnowledgeBase:
    return KnowledgeBase(settings.model_copy(update=changes), embedder=HashingEmbedder())


@pytest.fixture
def sizes(settings) -> dict[str, int]:
    """The three collections, written and saved by a writer (a `briefbot add`); their sizes."""
    writer = knowledge(settings)
    for collection, words in TOPICS.items():
        writer.add(articles(words), collection)
    found = {name: estimated_bytes(writer.caches.get(name)) for name in TOPICS}
    writer.close()
    return found


def fitting_two(settings, sizes: dict[str, int]) -> KnowledgeBase:
    values = sorted(sizes.values())
    assert values[1] + values[2] < sum(values)
    return knowledge(settings, cache_max_mb=(values[1] + values[2] + 1) / 2**20)


def passages(kb: KnowledgeBase, collection: str) -> list[tuple[int, float]]:
    return [(p.chunk_id, round(p.score, 6)) for p in search(kb, collection, QUESTION[collection])]


def test_nothing_is_loaded_before_it_is_used(settings, sizes):
    kb = knowledge(settings, cache_max_mb=1000)
    assert kb.caches.held() == []
    passages(kb, "guild-2")
    assert kb.caches.held() == ["guild-2"]
    kb.close()


def test_the_least_recently_used_is_dropped_and_reloaded_with_the_same_answers(settings, sizes):
    kb = fitting_two(settings, sizes)
    first = {name: passages(kb, name) for name in TOPICS}  # 1, 2, 3: guild-1 dropped
    assert all(first.values())
    assert kb.caches.held() == ["guild-2", "guild-3"]
    passages(kb, "guild-2")  # now guild-3 is the least recently used
    assert passages(kb, "guild-1") == first["guild-1"]  # reloaded
    assert kb.caches.held() == ["guild-2", "guild-1"]
    kb.close()


def test_without_a_budget_every_used_collection_stays(settings, sizes):
    kb = knowledge(settings)
    for name in TOPICS:
        passages(kb, name)
    assert kb.caches.held() == list(TOPICS)
    kb.close()


def test_an_answer_keeps_the_cache_it_holds_while_it_is_dropped(settings, sizes, monkeypatch):
    """A question in a worker thread has its cache; meanwhile two other collections are used
    and its cache is dropped from the manager: the question still finishes with it."""
    kb = fitting_two(settings, sizes)
    expected = passages(kb, "guild-1")
    holding, go_on = threading.Event(), threading.Event()
    search_with = index.knowledge.hybrid_search

    def slow_search(store, cache, *args, **kwargs):
        holding.set()
        assert go_on.wait(10)
        return search_with(store, cache, *args, **kwargs)

    monkeypatch.setattr(index.knowledge, "hybrid_search", slow_search)
    found: list[list[tuple[int, float]]] = []
    worker = threading.Thread(target=lambda: found.append(passages(kb, "guild-1")))
    worker.start()
    assert holding.wait(10)
    monkeypatch.setattr(index.knowledge, "hybrid_search", search_with)
    passages(kb, "guild-2")
    passages(kb, "guild-3")
    assert "guild-1" not in kb.caches.held()
    go_on.set()
    worker.join(10)
    assert found == [expected]
    kb.close()


def test_a_collection_bigger_than_the_budget_is_held_alone_with_one_warning(
    settings, sizes, caplog
):
    kb = knowledge(settings, cache_max_mb=min(sizes.values()) / 2 / 2**20)
    with caplog.at_level(logging.WARNING, logger="index.caches"):
        answers = [passages(kb, name) for name in TOPICS]
        assert kb.caches.held() == ["guild-3"]
        assert passages(kb, "guild-1") == answers[0]
        assert kb.caches.held() == ["guild-1"]
    warned = [r.getMessage() for r in caplog.records if "BRIEFBOT_CACHE_MAX_MB" in r.getMessage()]
    assert len(warned) == len(TOPICS)  # one per collection, not one per use
    assert "'guild-1'" in warned[0] and "held alone" in warned[0]
    kb.close()


def test_an_add_holds_the_collection_it_wrote_within_the_budget(settings, sizes):
    """The writer's own refresh counts too: with room for one collection, adding to another
    drops the one in use."""
    kb = knowledge(settings, cache_max_mb=max(sizes.values()) * 1.5 / 2**20)
    passages(kb, "guild-1")
    assert kb.caches.held() == ["guild-1"]
    kb.add(articles(("orchard", "pears", "hail", "cider"))[:1], "guild-2")
    assert kb.caches.held() == ["guild-2"]
    kb.close()
