import json

import pytest

from index.errors import CorruptStoreError, IndexMismatchError, InputError, NotFoundError
from index.knowledge import KnowledgeBase
from index.models import RawArticle
from tests.conftest import HashingEmbedder, search

# The same behaviour on both stores (tests/conftest.py `backend`).
pytestmark = pytest.mark.usefixtures("backend")


def article(text, title="A title", url=None, origin="t"):
    return RawArticle(text=text, title=title, source="Wire", url=url, origin=origin)


TROOPS = (
    "At least 11,000 North Korean troops have been deployed to Russia, officials said. "
    "Some were sent to the western region near the border with Ukraine."
)
PAY = "Maternity pay for new mothers is to rise by 1,400 pounds under new proposals."


def test_add_search_and_passage_metadata(kb):
    outcomes = kb.add([article(TROOPS, "Troops"), article(PAY, "Pay")])
    assert [o.status for o in outcomes] == ["added", "added"]
    passages = search(kb, "default", "how many troops were deployed to Russia", k=5)
    assert passages[0].article.title == "Troops"
    top = passages[0]
    assert top.text == kb.text("default", top.article.id)[top.start : top.end]
    assert len({p.chunk_id for p in passages}) == len(passages)
    assert kb.verify().ok


def test_readding_same_content_is_a_noop(kb, fake_embedder):
    kb.add([article(TROOPS)])
    calls = fake_embedder.calls
    change = kb.store.change_id("default")
    again = kb.add([article("  " + TROOPS.replace(" ", "  ") + "\n")])
    assert again[0].status == "unchanged"
    assert kb.store.change_id("default") == change
    assert fake_embedder.calls == calls  # nothing re-embedded
    assert kb.stats("default").articles == 1


def test_changed_article_with_same_url_replaces_it(kb):
    first = kb.add([article(TROOPS, url="https://example.org/a")])[0].article
    second = kb.add(
        [article(TROOPS + " More news arrived later today.", url="https://example.org/a")]
    )
    assert second[0].status == "replaced"
    assert second[0].article.id == first.id
    assert kb.stats("default").articles == 1
    assert "More news" in kb.text("default", first.id)
    assert kb.verify().ok


def test_collections_never_cross(kb):
    kb.add([article(TROOPS, "Troops")], collection="guild-1")
    kb.add([article(PAY, "Pay")], collection="guild-2")
    assert all(p.article.collection == "guild-2" for p in search(kb, "guild-2", "troops", k=10))
    assert search(kb, "guild-3", "troops") == []
    with pytest.raises(NotFoundError):
        kb.get("guild-2", kb.list("guild-1")[0].id)
    with pytest.raises(InputError):
        kb.add([article(PAY)], collection="../etc")


def test_remove_makes_article_unretrievable(kb):
    added = kb.add([article(TROOPS, "Troops"), article(PAY, "Pay")])
    kb.remove("default", added[0].article.id)
    assert all(p.article.title == "Pay" for p in search(kb, "default", "troops Russia", k=10))
    assert kb.verify().ok
    with pytest.raises(NotFoundError):
        kb.remove("default", added[0].article.id)


def test_bad_items_fail_alone(kb):
    outcomes = kb.add([article("   "), InputError("x.txt: binary file"), article(PAY)])
    assert [o.status for o in outcomes] == ["failed", "failed", "added"]
    assert "no article text" in outcomes[0].error
    assert outcomes[1].error == "x.txt: binary file"


def test_k_larger_than_collection_and_empty_collection(kb):
    assert search(kb, "default", "anything", k=50) == []
    kb.add([article(PAY)])
    assert len(search(kb, "default", "pay", k=50)) == 1


def test_caches_survive_reopen_and_stale_caches_are_rebuilt(settings, fake_embedder):
    first = KnowledgeBase(settings, embedder=fake_embedder)
    first.add([article(TROOPS)])
    first.close()
    folder = settings.data_dir / "collections" / "default"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["model"] == "hashing:64" and manifest["chunk_count"] >= 1
    # Damage: truncate the FAISS file.
    (folder / manifest["vectors"]).write_bytes(b"garbage")
    second = KnowledgeBase(settings, embedder=fake_embedder)
    report = second.verify()
    assert not report.ok and "unreadable" in " ".join(report.problems)
    repaired = second.verify(repair=True)
    assert repaired.ok and repaired.repaired
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / manifest["vectors"]).write_bytes(b"garbage")
    third = KnowledgeBase(settings, embedder=fake_embedder)
    assert search(third, "default", "troops")  # rebuilt, saved (no writer busy), answers
    assert third.verify().ok
    (folder / "manifest.json").unlink()
    assert KnowledgeBase(settings, embedder=fake_embedder).verify(repair=True).ok


def test_other_model_is_refused(settings, fake_embedder):
    KnowledgeBase(settings, embedder=fake_embedder).add([article(PAY)])
    with pytest.raises(IndexMismatchError, match="reindex"):
        KnowledgeBase(settings, embedder=HashingEmbedder(name="other/model"))
    with pytest.raises(IndexMismatchError, match="dimension"):
        KnowledgeBase(settings, embedder=HashingEmbedder(dimension=32, name="hashing:64")).caches  # noqa: B018


def test_corrupt_sqlite_gives_clear_error(settings, fake_embedder, backend):
    if backend != "sqlite":
        pytest.skip("about the SQLite file; a server checks its own pages")
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "briefbot.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(CorruptStoreError, match="damaged"):
        KnowledgeBase(settings, embedder=fake_embedder)


def test_store_rows_are_consistent(kb):
    kb.add([article(TROOPS), article(PAY)])
    chunks = kb.store.rows("SELECT COUNT(*), SUM(length(vector)) FROM chunks")[0]
    assert chunks[1] == chunks[0] * 64 * 4
