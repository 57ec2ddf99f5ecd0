from bot.service import Briefbot
from index.knowledge import KnowledgeBase
from tests.conftest import EXAMPLES, HashingEmbedder


def test_answering_encodes_only_the_question(settings):
    embedder = HashingEmbedder()
    app = Briefbot(settings, KnowledgeBase(settings, embedder=embedder))
    app.add_sources([str(EXAMPLES)])
    before = embedder.calls
    answer = app.ask("How many members joined the Port Calder strike?")
    assert embedder.calls == before + 1  # sentence vectors come from the store
    assert "3,400" in answer.text
    assert answer.as_of is not None and answer.as_of.isoformat() == "2026-11-12"
    assert answer.timings_ms["total"] >= answer.timings_ms["retrieve"]


def test_upload_and_pasted_text(settings):
    app = Briefbot(settings, KnowledgeBase(settings, embedder=HashingEmbedder()))
    added = app.add_upload(b"Storm update\n\nThe storm cut power to 40,000 homes.", "s.md")
    assert added.status == "added" and added.article.title == "Storm update"
    assert app.add_upload(b"x", "s.pdf").status == "failed"
    pasted = app.add_text("Budget vote\n\nThe council approved the budget on Monday by 30 votes.")
    assert pasted.status == "added" and pasted.article.title == "Budget vote"
    assert app.add_text("   ").error == "pasted text: no article text found"
