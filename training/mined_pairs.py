"""Negatives mined with Briefbot's own shortlist: what the reader really meets at run time.

The other negatives of training/reader_data.py come from the question's own paragraph and
article. At run time the reader reads the six sentences that retrieval and the rules put first
(`extractive.read_sentences`), often from other paragraphs, sometimes from other articles, and
for an unanswerable question every one of them is a sentence that looks like an answer and is
not. This module adds the training articles to a throwaway Briefbot collection (the bundled
embedding model, the default settings), asks every training question through the real answer
path with a recorder in the reader's place, and labels what it was given: a sentence holding
none of the question's answers is a negative (kind "mined"); the answer sentence and any other
sentence holding an answer string are left out (the first is already a positive, the others
may answer too). Unanswerable questions give all six. The synthetic unanswerables of
reader_data (a question with a name, word or number swapped) can be asked too: what the
shortlist offers them is exactly what the reader must decline, so up to `per_swap` of their
sentences become negatives (kind "mined:swap"), except a sentence holding a word the swap put
in, which might answer the changed question. Nothing here runs at run time.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bot.answer.answerers import ExtractiveAnswerer
from bot.answer.extractive import ReaderPolicy
from bot.answer.reader import ReaderInput, Reading
from bot.service import Briefbot
from bot.settings import Settings
from index.embedding import Embedder
from index.knowledge import KnowledgeBase
from index.lexical import tokenize
from index.models import RawArticle
from training.reader_data import Pair, article_title, question_text


class ShortlistRecorder:
    """Stands where the reader stands (`extractive.SentenceScorer`): keeps what it is asked to
    read and scores everything alike, so the rules' order decides, as it does before reading."""

    def __init__(self) -> None:
        self.items: list[ReaderInput] = []

    def read(self, question: str, items: Sequence[ReaderInput]) -> Reading:
        self.items = list(items)
        return Reading(np.full(len(items), 0.5))


def mined_pairs(
    articles: list[dict],
    per_question: int,
    known: set[tuple[str, str]],
    embedder: Embedder | None = None,
    swaps: Sequence[Pair] = (),
    per_swap: int = 0,
) -> list[Pair]:
    """Up to `per_question` mined negatives for each answerable question of `articles` (the
    best-placed first), every shortlisted sentence of each unanswerable one, and up to
    `per_swap` for each synthetic unanswerable of `swaps` (reader_data's "swap:" pairs); pairs
    whose (question, sentence) is in `known` are skipped. `embedder`: the settings' model (the
    bundled one) unless given."""
    recorder = ShortlistRecorder()
    pairs: list[Pair] = []
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder) / "data", answer_mode="extractive")
        knowledge = KnowledgeBase(settings, embedder=embedder)
        knowledge.add([_raw_article(a) for a in articles])
        answerer = ExtractiveAnswerer(recorder, 0.0, ReaderPolicy(model_spans="never"))
        app = Briefbot(settings, knowledge, answerer=answerer)
        try:
            for article in articles:
                title = article_title(article)
                for qa in (qa for p in article["paragraphs"] for qa in p["qas"]):
                    question = question_text(qa)
                    recorder.items = []
                    app.ask(question)
                    pairs += _label(question, qa, recorder.items, title, per_question, known)
            for swap in swaps if per_swap else ():
                recorder.items = []
                app.ask(swap.question)
                pairs += _label_swap(swap, recorder.items, per_swap, known)
        finally:
            knowledge.close()
    return pairs


def _label(
    question: str,
    qa: dict,
    items: list[ReaderInput],
    title: str,
    per_question: int,
    known: set[tuple[str, str]],
) -> list[Pair]:
    answers = [a["text"].lower() for a in qa.get("answers") or []]
    impossible = bool(qa.get("is_impossible")) or not answers
    return _negatives(
        question,
        items,
        None if impossible else per_question,
        lambda sentence: any(a in sentence.lower() for a in answers),
        "mined",
        title,
        known,
    )


def _label_swap(
    swap: Pair, items: list[ReaderInput], per_swap: int, known: set[tuple[str, str]]
) -> list[Pair]:
    """Negatives for a swapped question. The words the swap put in are the question's words
    that its original answer sentence (and context) never uses; a shortlisted sentence holding
    one of them might answer the changed question, so it is left out."""
    seen = swap.candidate
    original = set(tokenize([f"{seen.title} {seen.previous} {seen.sentence}"])[0])
    new_words = set(tokenize([swap.question])[0]) - original
    return _negatives(
        swap.question,
        items,
        per_swap,
        lambda sentence: bool(set(tokenize([sentence])[0]) & new_words),
        "mined:swap",
        swap.article,
        known,
    )


def _negatives(
    question: str,
    items: list[ReaderInput],
    cap: int | None,
    may_answer: Callable[[str], bool],
    kind: str,
    title: str,
    known: set[tuple[str, str]],
) -> list[Pair]:
    """Up to `cap` (None: all) of the shortlisted sentences as negatives, best-placed first,
    leaving out pairs in `known` (which gains those taken) and sentences that `may_answer`."""
    out: list[Pair] = []
    for item in items:
        if cap is not None and len(out) >= cap:
            break
        if (question, item.sentence) in known or may_answer(item.sentence):
            continue
        known.add((question, item.sentence))
        out.append(Pair(question, item, 0, kind, title))
    return out


def _raw_article(article: dict) -> RawArticle:
    """One training article as Briefbot stores it: its paragraphs joined, as the benchmark
    adds its articles."""
    text = "\n\n".join(p["context"] for p in article["paragraphs"])
    title = article_title(article)
    return RawArticle(text=text, title=title, source="SQuAD 2.0 (training)", origin=title)
