"""Threads adding, removing and asking at once on one knowledge base (processes: test_torture)."""

from __future__ import annotations

import threading

from index.errors import NotFoundError
from index.models import RawArticle
from tests.conftest import search

WORDS = [
    "troops",
    "border",
    "bank",
    "rates",
    "strike",
    "port",
    "flood",
    "river",
    "fire",
    "council",
    "vote",
    "budget",
]


def make(tag: str, n: int) -> RawArticle:
    body = " ".join(
        f"The {WORDS[(n + i) % len(WORDS)]} report {tag}n{n} mentions item {i}." for i in range(12)
    )
    return RawArticle(text=body, title=f"{tag} {n}", origin=f"{tag}-{n}")


def test_threads_add_remove_and_ask_at_once(kb):
    added: dict[int, str] = {}
    removed: set[int] = set()
    errors: list[str] = []
    lock = threading.Lock()
    writers_done = threading.Event()

    def writer(tag: str) -> None:
        for n in range(15):
            outcome = kb.add([make(tag, n)])[0]
            if outcome.status != "added" or outcome.article is None:
                errors.append(f"{tag}-{n}: {outcome.status} {outcome.error}")
                continue
            with lock:
                if outcome.article.id in added:
                    errors.append(f"duplicate id {outcome.article.id}")
                added[outcome.article.id] = outcome.article.content_hash

    def remover() -> None:
        while not writers_done.is_set() or len(removed) < 5:
            with lock:
                victims = sorted(set(added) - removed)[:1]
            if victims:
                with lock:
                    removed.add(victims[0])  # before the removal: readers may see it at once
                kb.remove("default", victims[0])
            if len(removed) >= 10:
                return
            writers_done.wait(0.01)

    def reader() -> None:
        asked = 0
        while not writers_done.is_set() or asked < 5:
            asked += 1
            cache = kb.caches.get("default")
            vector_ids, lexical_ids = set(cache.vectors.ids()), set(cache.lexical.ids())
            if vector_ids != lexical_ids:
                errors.append("a reader saw vectors and lexical entries of different chunks")
            for passage in search(kb, "default", "troops border report", k=5):
                try:
                    text = kb.store.article_text(passage.article.id)
                except NotFoundError:  # removed after this search read it: must be a removal
                    with lock:
                        if passage.article.id not in removed:
                            errors.append(f"#{passage.article.id} vanished without a removal")
                    continue
                if text[passage.start : passage.end] != passage.text:
                    errors.append(f"passage of #{passage.article.id} does not quote its article")

    writers = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(3)]
    readers = [threading.Thread(target=reader) for _ in range(3)]
    others = [threading.Thread(target=remover), *readers]
    for thread in writers + others:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    writers_done.set()
    for thread in others:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in writers + others)
    assert errors == []
    assert len(added) == 45 and removed
    stored = {a.id: a.content_hash for a in kb.list("default")}
    assert stored == {i: h for i, h in added.items() if i not in removed}  # no lost writes
    assert kb.verify().ok


def test_reader_is_not_blocked_by_a_held_writer_lock(kb):
    """Asking needs no writer lock: it answers while another writer holds it."""
    kb.add([make("a", 1)])
    with kb.writing():
        result: list[int] = []
        thread = threading.Thread(
            target=lambda: result.append(len(search(kb, "default", "troops")))
        )
        thread.start()
        thread.join(timeout=30)
        assert not thread.is_alive() and result == [1]
