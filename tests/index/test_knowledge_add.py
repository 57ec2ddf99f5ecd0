"""Adding in small batches: each article is committed and reported as soon as it is embedded,
an interrupt keeps what was committed and leaves `verify` passing, and explicit metadata
updates an article already stored."""

from __future__ import annotations

from datetime import date

import pytest

from bot.settings import Settings
from index.knowledge import KnowledgeBase
from index.models import Overrides, RawArticle
from tests.conftest import HashingEmbedder, search

# The same behaviour on both stores (tests/conftest.py `backend`).
pytestmark = pytest.mark.usefixtures("backend")


def story(n: int, sentences: int = 6) -> RawArticle:
    body = " ".join(
        f"Harbour crews in district {n} cleared {n * 10 + i} tonnes of debris on day {i}."
        for i in range(sentences)
    )
    return RawArticle(body, title=f"Storm clean-up {n}", origin=f"story-{n}.txt")


class RecordingEmbedder(HashingEmbedder):
    """Records encode calls into a shared event list; raises on the `interrupt_at`-th call."""

    def __init__(self, events: list[str], interrupt_at: int | None = None) -> None:
        super().__init__()
        self.events = events
        self.interrupt_at = interrupt_at

    def encode(self, texts):
        if self.interrupt_at is not None and self.calls + 1 == self.interrupt_at:
            raise KeyboardInterrupt
        self.events.append("embed")
        return super().encode(texts)


def knowledge(tmp_path, embedder, batch: int = 1) -> KnowledgeBase:
    settings = Settings(data_dir=tmp_path / "data", embed_batch_size=batch)
    return KnowledgeBase(settings, embedder=embedder)


def test_each_article_is_reported_as_soon_as_its_batch_is_embedded(tmp_path):
    events: list[str] = []
    kb = knowledge(tmp_path, RecordingEmbedder(events))
    kb.add([story(n) for n in range(5)], progress=lambda o: events.append(o.status))
    # Six sentences an article, rounds of 12 x 1 sentences (one core): two articles a round, so
    # the first article is stored and reported before the last one is embedded.
    assert events.index("added") < len(events) - 1 - events[::-1].index("embed")
    assert events.count("embed") >= 3 and events.count("added") == 5
    kb.close()


def test_an_interrupted_add_keeps_committed_articles_and_verify_passes(tmp_path):
    kb = knowledge(tmp_path, HashingEmbedder())
    kb.add([story(90)])  # caches saved once: the interrupted add below leaves them behind
    kb.close()

    reported = []
    kb = knowledge(tmp_path, RecordingEmbedder([], interrupt_at=2))
    with pytest.raises(KeyboardInterrupt):
        kb.add([story(n) for n in range(6)], progress=reported.append)
    kb.close()

    assert [o.status for o in reported] == ["added", "added"]
    kb = knowledge(tmp_path, HashingEmbedder())
    report = kb.verify()
    assert report.ok, report.problems
    assert kb.stats("default").articles == 3
    titles = {p.article.title for p in search(kb, "default", "district 1 debris tonnes", k=10)}
    assert "Storm clean-up 1" in titles  # the committed rows are searchable
    kb.close()


def test_an_interrupted_replace_is_behind_not_damage(tmp_path):
    """A replaced article removes chunks the saved caches hold: the caches are merely behind
    the store (rebuilt on next use), which verify must not call damage."""
    kb = knowledge(tmp_path, HashingEmbedder())
    kb.add([story(1), story(2)])
    # What an add interrupted between its commit and its cache refresh leaves behind:
    kb.store.delete_article("default", 1)
    report = kb.verify()
    assert report.ok, report.problems
    assert report.notes == (
        "default: caches built at change 2, the store is at 3; they catch up on next use "
        "(not damage)",
    )
    assert [a.title for a in kb.list("default")] == ["Storm clean-up 2"]
    assert search(kb, "default", "district 1 debris", k=5)[0].article.id == 2
    kb.close()


def test_explicit_metadata_updates_a_stored_article(tmp_path):
    kb = knowledge(tmp_path, HashingEmbedder())
    first = kb.add([story(3)])[0]
    assert first.article.source is None and first.article.published is None

    given = Overrides(source="BBC", published=date(2005, 3, 1))
    again = RawArticle(
        story(3).text,
        title="Storm clean-up 3",
        source="BBC",
        published=date(2005, 3, 1),
        origin="story-3.txt",
    )
    outcome = kb.add([again], overrides=given)[0]
    assert outcome.status == "updated" and outcome.article.id == first.article.id
    assert outcome.article.source == "BBC" and outcome.article.published == date(2005, 3, 1)
    assert outcome.note == "already added as #1; updated its source 'BBC', published 2005-03-01"
    assert kb.get("default", 1).source == "BBC"

    # The same values again: nothing to update. No explicit metadata: the file's own
    # (here: none) never overwrites what the user set.
    assert kb.add([again], overrides=given)[0].status == "unchanged"
    assert kb.add([story(3)])[0].status == "unchanged"
    assert kb.get("default", 1).source == "BBC"
    assert kb.verify().ok
    kb.close()


def test_a_new_title_is_searchable_and_verify_passes(tmp_path):
    kb = knowledge(tmp_path, HashingEmbedder())
    kb.add([story(4), story(5)])
    renamed = RawArticle(story(4).text, title="Quayside salvage zeppelin", origin="x")
    outcome = kb.add([renamed], overrides=Overrides(title="Quayside salvage zeppelin"))[0]
    assert outcome.status == "updated" and outcome.article.title == "Quayside salvage zeppelin"
    assert outcome.article.chunk_count == 1
    top = search(kb, "default", "zeppelin quayside salvage", k=1)[0]
    assert top.article.title == "Quayside salvage zeppelin"
    assert top.text == kb.text("default", top.article.id)[top.start : top.end]
    assert kb.verify().ok
    kb.close()


def test_a_first_add_interrupted_before_any_cache_was_saved_passes_verify(tmp_path):
    kb = knowledge(tmp_path, RecordingEmbedder([], interrupt_at=2))
    with pytest.raises(KeyboardInterrupt):
        kb.add([story(n) for n in range(6)])
    kb.close()
    kb = knowledge(tmp_path, HashingEmbedder())
    report = kb.verify()
    assert report.ok, report.problems
    assert report.notes == ("default: no caches saved yet; they catch up on next use (not damage)",)
    assert kb.stats("default").articles == 2
    kb.close()


def test_verify_of_a_collection_never_written_is_ok_without_notes(tmp_path):
    kb = knowledge(tmp_path, HashingEmbedder())
    report = kb.verify("default")
    assert report.ok and report.notes == () and report.checked == {"default": 0}
    kb.close()
