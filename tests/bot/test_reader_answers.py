"""The answer engine with a reader: the reader's probability chooses the sentence and decides
abstention; the rules only shortlist. A scripted reader stands in for the model here (the
shipped model itself is tested in test_reader_model.py)."""

from collections.abc import Sequence

import numpy as np

from bot.answer.extractive import ReaderPolicy, Weights, answer_question
from bot.answer.reader import ReaderInput, Reading
from tests.bot.test_extractive import EMB, TROOPS, passage


class ScriptedReader:
    """Gives each sentence containing a key the key's probability; others get `rest`."""

    abstain_below = 0.5

    def __init__(self, scores: dict[str, float], rest: float = 0.01) -> None:
        self.scores = scores
        self.rest = rest
        self.seen: list[ReaderInput] = []

    def read(self, question: str, items: Sequence[ReaderInput]) -> Reading:
        self.seen += items
        probabilities = np.array(
            [
                next((p for key, p in self.scores.items() if key in item.sentence), self.rest)
                for item in items
            ]
        )
        return Reading(probabilities)


def ask(question, passages, reader, threshold=0.5, candidates=8, rules_weight=0.0, rank_weight=0.0):
    qv = EMB.encode([question])[0]
    return answer_question(
        question,
        qv,
        passages,
        EMB.encode,
        Weights(abstain_below=threshold),
        reader=reader,
        policy=ReaderPolicy(
            candidates=candidates,
            rules_weight=rules_weight,
            rank_weight=rank_weight,
            confidence_rules_weight=rules_weight,
        ),
    )


def test_the_readers_choice_is_the_answer_and_its_probability_the_confidence():
    reader = ScriptedReader({"talks begin": 0.9, "11,000": 0.2})
    answer = ask("When do the talks begin?", [passage(TROOPS)], reader)
    assert not answer.abstained
    assert answer.text == "The office said talks begin this week."
    assert answer.confidence == 0.9
    assert answer.reader == "model"
    assert answer.citations[0].score == 0.9


def test_the_reader_declines_what_no_sentence_answers():
    reader = ScriptedReader({"11,000": 0.3})
    answer = ask("How many troops were deployed?", [passage(TROOPS)], reader)
    assert answer.abstained
    assert answer.abstain_reason == "low_score"
    assert answer.reader == "model"
    assert not any(c.answers for c in answer.citations)


def test_the_reader_sees_title_and_previous_sentence_as_context():
    reader = ScriptedReader({"11,000": 0.95})
    ask("How many troops were deployed?", [passage(TROOPS, title="Korea")], reader)
    item = next(i for i in reader.seen if "11,000" in i.sentence)
    assert item.title == "Korea"
    assert item.previous == "The office said talks begin this week."
    first = next(i for i in reader.seen if i.sentence.startswith("The office"))
    assert first.previous == ""


def test_only_the_shortlist_is_read_and_unread_sentences_rank_below_it():
    text = " ".join(f"Sentence number {i} says troops moved." for i in range(12))
    reader = ScriptedReader({}, rest=0.7)
    answer = ask("Where did troops move?", [passage(text)], reader, candidates=3)
    assert len(reader.seen) == 3
    assert answer.confidence == 0.7


def test_without_a_reader_the_rules_answer():
    qv = EMB.encode(["How many troops were deployed?"])[0]
    answer = answer_question(
        "How many troops were deployed?", qv, [passage(TROOPS)], EMB.encode, Weights()
    )
    assert answer.reader == "rules"
    assert "11,000" in answer.text


def test_the_rules_break_the_readers_ties_and_the_reader_alone_decides_abstention():
    # The reader likes both sentences equally; the rules prefer the one that shares the
    # question's words, so it is chosen, and the confidence is the reader's own 0.6.
    reader = ScriptedReader({"11,000": 0.6, "talks begin": 0.6})
    question = "How many North Korean troops have been deployed to Russia?"
    policy = ReaderPolicy(rules_weight=1.0, confidence_rules_weight=0.0)

    def answer(threshold):
        qv = EMB.encode([question])[0]
        weights = Weights(abstain_below=threshold)
        return answer_question(
            question, qv, [passage(TROOPS)], EMB.encode, weights, reader=reader, policy=policy
        )

    answered = answer(0.5)
    assert "11,000" in answered.text
    assert answered.confidence == 0.6
    declined = answer(0.7)
    assert declined.abstained and declined.confidence == 0.6


def test_the_retrieval_rank_weighs_in_and_leaves_confidence_to_the_reader():
    # Two reports say the same thing in nearly the same words; the reader slightly prefers
    # the second passage's sentence. Without the rank prior it wins; with it, the first
    # passage's does, and the confidence is still that sentence's own reader probability.
    reader = ScriptedReader({"senior official said at least 11,000": 0.55, "aide said": 0.6})
    first = passage(TROOPS, article_id=1, title="Korea")
    second = passage(TROOPS.replace("senior official", "aide"), article_id=2, title="Korea")
    question = "How many North Korean troops have been deployed to Russia?"
    qv = EMB.encode([question])[0]

    def lead(rank_weight):
        policy = ReaderPolicy(rules_weight=1.0, rank_weight=rank_weight)
        weights = Weights(abstain_below=0.5)
        answer = answer_question(
            question, qv, [first, second], EMB.encode, weights, reader=reader, policy=policy
        )
        return answer.citations[0].passage.article.id, answer.confidence

    assert lead(0.0) == (2, 0.6)
    assert lead(1.0) == (1, 0.55)
