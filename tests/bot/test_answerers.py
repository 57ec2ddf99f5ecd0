"""Answer strategies behind one protocol, chosen in one place; the service takes any."""

from __future__ import annotations

from dataclasses import replace

from bot.answer.answerers import (
    Evidence,
    ExtractiveAnswerer,
    WrittenAnswerer,
    choose_answerer,
    wants_llm,
)
from bot.answer.models import Answer
from bot.service import Briefbot
from bot.settings import Settings
from index.knowledge import KnowledgeBase
from index.models import RawArticle
from tests.conftest import HashingEmbedder


def no_client():
    raise AssertionError("no LLM client may be made")


def test_the_choice_follows_the_settings(tmp_path):
    plain = Settings(data_dir=tmp_path)
    assert not wants_llm(plain)
    assert isinstance(choose_answerer(plain, None, 0.4, no_client), ExtractiveAnswerer)
    local = Settings(data_dir=tmp_path, openai_base_url="http://127.0.0.1:9/v1")
    chosen = choose_answerer(local, None, 0.4, no_client)
    assert isinstance(chosen, WrittenAnswerer) and chosen.streams
    off = Settings(data_dir=tmp_path, openai_base_url="http://x/v1", answer_mode="extractive")
    assert not choose_answerer(off, None, 0.4, no_client).streams


def test_llm_mode_without_an_endpoint_falls_back_without_a_client(tmp_path):
    settings = Settings(data_dir=tmp_path, answer_mode="llm")
    kb = KnowledgeBase(settings, embedder=HashingEmbedder())
    kb.add([RawArticle("Dock workers voted to end a nine-day strike on Friday.", title="Strike")])
    app = Briefbot(settings, kb, choose_answerer(settings, None, 0.0, no_client))
    answer = app.ask("How long was the strike?")
    assert answer.mode == "extractive" and answer.fallback_reason.startswith("no LLM is config")
    assert set(answer.timings_ms) >= {"retrieve", "answer", "llm", "total"}
    app.close()


class Scripted:
    """Any strategy fits the seam: this one echoes the top passage's article title."""

    streams = False

    def __init__(self) -> None:
        self.seen: list[Evidence] = []

    def answer(self, evidence, on_partial=None):
        self.seen.append(evidence)
        top = evidence.passages[0]
        return Answer(evidence.question, top.article.title, abstained=False, citations=())


def test_the_service_uses_the_answerer_it_is_given(tmp_path):
    settings = Settings(data_dir=tmp_path)
    kb = KnowledgeBase(settings, embedder=HashingEmbedder())
    kb.add([RawArticle("Dock workers voted to end a nine-day strike on Friday.", title="Strike")])
    scripted = Scripted()
    app = Briefbot(settings, kb, scripted)
    answer = app.ask("strike vote", k=2)
    assert answer.text == "Strike" and not app.writes_answers
    assert scripted.seen[0].max_citations == 2 and scripted.seen[0].question == "strike vote"
    assert replace(answer, timings_ms={}).question == "strike vote"
    app.close()
