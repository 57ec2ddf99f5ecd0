from datetime import UTC, date, datetime

import numpy as np

from bot.answer.extractive import Weights, answer_question, focus_words, highlight
from bot.answer.qtypes import QType
from index.chunking import split_sentences
from index.models import Article, Passage
from tests.conftest import HashingEmbedder

EMB = HashingEmbedder()


def passage(text, article_id=1, title="Troops", score=1.0, published=None):
    art = Article(
        article_id,
        "default",
        title,
        "Wire",
        None,
        published,
        datetime(2026, 1, 1, tzinfo=UTC),
        "h",
        1,
    )
    return Passage(article_id * 100, art, text, 0, len(text), tuple(split_sentences(text)), score)


TROOPS = (
    "The office said talks begin this week. A senior official said at least 11,000 North "
    "Korean troops have been deployed to Russia. It will take a day or two to name an envoy."
)


def ask(question, passages, **kw):
    qv = EMB.encode([question])[0]
    return answer_question(question, qv, passages, EMB.encode, Weights(**kw))


def test_picks_the_sentence_with_the_number_and_marks_it():
    answer = ask("How many troops were deployed?", [passage(TROOPS)])
    assert not answer.abstained
    assert "11,000" in answer.text
    assert answer.highlight == "11,000"
    c = answer.citations[0]
    assert c.sentence_text == answer.text
    assert c.passage.text[c.highlight.start : c.highlight.end] == "11,000"


def test_abstains_when_the_thing_counted_is_never_mentioned():
    answer = ask(
        "What is the population of Glasgow?",
        [passage("A super-casino in Glasgow could be located at Ibrox, eight sites.")],
    )
    assert answer.abstained
    assert "don't say" in answer.text
    assert answer.citations and not any(c.answers for c in answer.citations)


def test_abstains_on_no_passages_and_on_low_scores():
    assert ask("Anything?", []).abstained
    weak = ask("What did the envoy eat?", [passage(TROOPS)], abstain_below=1.5)
    assert weak.abstained


def test_number_question_needs_a_number():
    answer = ask("How many envoys were named?", [passage("The envoy was named on Tuesday.")])
    assert answer.abstained


def test_highlight_prefers_candidate_near_question_words():
    sentence = "It will take a day or two, but at least 11,000 troops were deployed."
    span = highlight(sentence, "How many troops were deployed?", QType.NUMBER)
    assert sentence[span.start : span.end] == "11,000"


def test_highlight_skips_names_already_in_the_question():
    sentence = (
        "During a call with President Yoon on Tuesday, Ukrainian President Zelenskyy said "
        "he will send a special delegation to South Korea."
    )
    span = highlight(sentence, "Who will send a delegation to South Korea?", QType.PERSON)
    assert "Zelenskyy" in sentence[span.start : span.end]


def test_focus_words():
    assert focus_words("How many troops were deployed?") == ["troops"]
    assert focus_words("What is the population of Glasgow?") == ["population"]
    assert focus_words("How much will pay rise?") == []


def test_citations_are_distinct_and_numbered():
    p1 = passage(TROOPS, 1, score=1.0, published=date(2024, 11, 4))
    p2 = passage(
        "Officials said 10,000 troops were deployed to Russia last month.",
        2,
        title="Older",
        score=0.9,
    )
    answer = ask("How many troops were deployed to Russia?", [p1, p2])
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    keys = [(c.passage.article.id, c.sentence.start) for c in answer.citations]
    assert len(keys) == len(set(keys))
    assert np.isfinite(answer.confidence)


def test_related_passages_fill_the_citations_but_never_count_as_evidence():
    answering = passage(TROOPS, 1, score=1.0)
    nearby = [
        passage(f"Talks on the border region {i} resumed on Tuesday.", 10 + i, score=s)
        for i, s in enumerate((0.8, 0.6, 0.5, 0.45, 0.42))
    ]
    unrelated = passage("The harvest festival opens on Friday.", 30, score=0.2)
    answer = ask("How many troops were deployed?", [answering, *nearby, unrelated])
    assert not answer.abstained
    assert len(answer.citations) == 5
    assert [c.n for c in answer.citations] == [1, 2, 3, 4, 5]
    assert answer.citations[0].answers and "11,000" in answer.text
    related = [c for c in answer.citations if not c.answers]
    assert related and all(c.highlight is None for c in related)
    # In retrieval order after the evidence; an off-topic passage (score below 0.4 of the
    # top one) is never shown as related reading.
    assert [c.passage.score for c in related] == sorted(
        (c.passage.score for c in related), reverse=True
    )
    assert unrelated.chunk_id not in {c.passage.chunk_id for c in answer.citations}


def test_no_related_passages_when_only_off_topic_ones_remain():
    answer = ask(
        "How many troops were deployed?",
        [passage(TROOPS, 1, score=1.0), passage("The harvest festival opens.", 2, score=0.3)],
    )
    assert [c.answers for c in answer.citations] == [True]


def test_evidence_must_come_from_a_passage_naming_what_the_question_names():
    warsaw = passage(
        "Warsaw's population was more than 1.7 million in 2014, the city office said.",
        1,
        title="Warsaw",
        score=1.0,
    )
    glasgow = passage("Glasgow council approved a casino plan on Tuesday.", 2, title="Casino")
    answer = ask("What is the population of Glasgow?", [warsaw, glasgow])
    assert answer.abstained and answer.abstain_reason == "names_not_in_evidence"

    named = passage(
        "Glasgow has a population of about 630,000, the council said.", 3, title="City", score=0.8
    )
    answer = ask("What is the population of Glasgow?", [warsaw, named])
    assert not answer.abstained
    assert "630,000" in answer.text and answer.citations[0].passage is named


def test_when_may_be_answered_by_an_event_but_how_many_needs_a_number():
    text = "The treaty was signed after the war ended, the ministry said."
    when = ask("When was the treaty signed?", [passage(text, title="Treaty")], abstain_below=0.0)
    assert not when.abstained and when.text == text and when.highlight is None
    count = ask("How many treaties were signed?", [passage(text, title="Treaty")])
    assert count.abstained and count.abstain_reason in ("no_typed_evidence", "missing_terms")
