"""The reader's span head at the edges: training labels and run-time decoding agree on the
tokens of an answer, and the answer engine marks a span head's span only where it says
something the question did not (the shipped model's own spans: test_reader_model.py)."""

from collections.abc import Sequence

import numpy as np

from bot.answer.extractive import ReaderPolicy, Weights, answer_question
from bot.answer.reader import (
    MODEL_DIR,
    AnswerSpan,
    ReaderInput,
    Reading,
    answer_tokens,
    best_span,
    open_tokenizer,
    pair_texts,
)
from tests.bot.test_extractive import EMB, passage

SENTENCE = " The treaty was signed by Margaret Okafor in Lagos on Tuesday."


def _encoding(question: str, sentence: str, max_tokens: int = 64):
    tokenizer = open_tokenizer(MODEL_DIR, max_tokens)
    return tokenizer.encode(*pair_texts(question, ReaderInput(sentence, "Treaty", "Before.")))


def _peaked(encoding, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    starts = np.full(len(encoding.ids), -5.0, dtype=np.float32)
    ends = starts.copy()
    starts[first], ends[last] = 8.0, 8.0
    return starts, ends


def test_labels_and_decoding_agree_on_the_answer_characters():
    answer = SENTENCE.index("Margaret Okafor")
    encoding = _encoding("Who signed the treaty?", SENTENCE)
    tokens = answer_tokens(encoding, SENTENCE, answer, answer + len("Margaret Okafor"))
    assert tokens is not None
    span = best_span(encoding, SENTENCE, *_peaked(encoding, *tokens))
    assert span is not None
    assert SENTENCE[span.start : span.end] == "Margaret Okafor"
    assert span.probability > 0.9


def test_a_word_piece_is_widened_to_its_whole_word():
    encoding = _encoding("Who signed the treaty?", SENTENCE)
    inside = [
        i
        for i, (seq, (a, b)) in enumerate(zip(encoding.sequence_ids, encoding.offsets, strict=True))
        if seq == 1 and b - a > 0
    ]
    okafor = SENTENCE.strip().index("Okafor")
    pieces = [i for i in inside if okafor <= encoding.offsets[i][0] < okafor + 6]
    assert len(pieces) > 1  # "Okafor" is cut into word pieces
    span = best_span(encoding, SENTENCE, *_peaked(encoding, pieces[1], pieces[1]))
    assert span is not None and SENTENCE[span.start : span.end] == "Okafor"


def test_spans_never_reach_into_the_question_or_the_context():
    encoding = _encoding("Who signed the treaty in Lagos?", SENTENCE)
    starts = np.full(len(encoding.ids), -5.0, dtype=np.float32)
    starts[1] = 9.0  # a question token: outside the sentence
    ends = starts.copy()
    ends[len(encoding.ids) - 2] = 9.0  # the context's last token
    span = best_span(encoding, SENTENCE, starts, ends)
    assert span is not None
    assert 0 < span.start < span.end <= len(SENTENCE)


def test_an_answer_cut_off_by_the_token_limit_gets_no_label():
    long = " ".join(["word"] * 80) + " and then Margaret Okafor signed."
    answer = long.index("Margaret")
    encoding = _encoding("Who signed?", long)
    assert answer_tokens(encoding, long, answer, answer + len("Margaret Okafor")) is None


class SpanReader:
    """Every sentence gets `probability`; the span head marks `words` wherever they occur."""

    abstain_below = 0.5

    def __init__(self, words: str, span_probability: float = 0.8) -> None:
        self.words = words
        self.span_probability = span_probability

    def read(self, question: str, items: Sequence[ReaderInput]) -> Reading:
        spans = []
        for item in items:
            at = item.sentence.find(self.words)
            found = AnswerSpan(at, at + len(self.words), self.span_probability)
            spans.append(None if at < 0 else found)
        self.asked: list[int] = []

        def finder(rows):
            self.asked += rows
            return [spans[row] for row in rows]

        return Reading(np.array([0.9 if s else 0.1 for s in spans]), finder)


TEXT = "The treaty was signed by Margaret Okafor in Lagos. It ends a decade of talks."


def ask(question: str, reader: SpanReader, **policy) -> object:
    return answer_question(
        question,
        EMB.encode([question])[0],
        [passage(TEXT, title="Treaty")],
        EMB.encode,
        Weights(abstain_below=0.5),
        reader=reader,
        policy=ReaderPolicy(**policy),
    )


def test_the_span_head_marks_what_the_rules_cannot():
    reader = SpanReader("a decade of talks")
    answer = ask("What does the treaty end?", reader)
    assert answer.text == "It ends a decade of talks."
    assert answer.highlight == "a decade of talks"
    assert len(reader.asked) == 1  # the span head reads the answer sentence only


def test_an_unsure_span_or_one_of_the_questions_own_words_is_not_marked():
    question = "What does the treaty end?"
    assert ask(question, SpanReader("a decade of talks", 0.1)).highlight is None
    assert ask(question, SpanReader("treaty")).highlight is None
    never = ask(question, SpanReader("a decade of talks"), model_spans="never")
    assert never.highlight is None


def test_a_sure_span_head_is_preferred_to_the_rules_unless_told_otherwise():
    question = "Who signed the treaty?"
    assert ask(question, SpanReader("in Lagos")).highlight == "in Lagos"
    unsure = SpanReader("in Lagos", 0.4)
    assert ask(question, unsure).highlight == "Margaret Okafor"
    fallback = ask(question, SpanReader("in Lagos"), model_spans="fallback")
    assert fallback.highlight == "Margaret Okafor"


def test_the_answer_spans_setting_keeps_the_span_head_from_reading(tmp_path):
    from bot.answer.answerers import choose_answerer
    from bot.settings import Settings

    def chosen(value):
        settings = Settings(data_dir=tmp_path, answer_spans=value)
        return choose_answerer(settings, None, 0.5, lambda: None).policy.model_spans

    assert chosen("model") == "prefer"
    assert chosen("rules") == "never"
    reader = SpanReader("a decade of talks")
    answer = ask("What does the treaty end?", reader, model_spans="never")
    assert answer.highlight is None and reader.asked == []


def test_an_abstention_never_runs_the_span_head():
    """The span head runs when a citation shows its span, so a declined question (which shows
    none) does not pay for it."""
    reader = SpanReader("a decade of talks")
    answered = ask("What does the treaty end?", reader)
    assert not answered.abstained and len(reader.asked) == 1
    unsure = SpanReader("nowhere in the text")  # every sentence 0.1: below the threshold
    declined = ask("What does the treaty end?", unsure)
    assert declined.abstained and declined.abstain_reason == "low_score"
    assert unsure.asked == []
