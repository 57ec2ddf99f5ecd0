"""The extractive answer: the sentence that answers, the span within it, or an honest abstention.

Each sentence of the top passages is scored by a small logistic model (FEATURES): how close
its meaning is to the question (cosine), how many of the question's rarer words it and its
neighbours contain, whether it holds something of the wanted type (a number for "how many"),
and how well its passage ranked. A question that names something the passages never mention,
whose best evidence comes from a passage not mentioning what it names, or whose best sentence
scores below the threshold, is not answered: the closest passages are still shown, marked as
such. Beside an answer, the next passages are shown as related reading, never as support.

With the trained answer reader (bot/answer/reader.py, the default), the logistic model only
shortlists and breaks ties: the reader reads the best sentences against the question and its
probability decides whether to answer (`ReaderPolicy`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

import numpy as np

from bot.answer.briefing import conflicting_figures, newest_first
from bot.answer.models import Answer, Citation
from bot.answer.qtypes import Candidate, QType, candidates, classify, with_unit
from bot.answer.quantities import Kind, quantity_at, wanted_kinds
from bot.answer.reader import AnswerSpan, ReaderInput, Reading
from index.lexical import QUESTION_WORDS, term_coverage, tokenize
from index.models import Passage, Sentence, Span

SentenceEncoder = Callable[[list[str]], np.ndarray]
# For these, a sentence holding the wanted thing (a number, a date) comes before any without.
_PREFER_TYPE = frozenset({QType.NUMBER, QType.DATE})
# A "how many" question whose evidence has no number is not answered at all. Not so for
# "when": on the SQuAD tuning half that rule abstained on 13 answerable date questions for
# 10 unanswerable ones (worse than chance), since "when" is often answered by an event
# ("after the war") rather than a date.
_MUST_HAVE_TYPE = frozenset({QType.NUMBER})

FEATURES = (
    "dense",  # cosine of sentence and question
    "lexical",  # share of the question's content words (idf-weighted) in the sentence
    "typed",  # holds something of the wanted type (a number for "how many"...)
    "passage",  # the passage's fused score relative to the best passage
    "passage_dense",  # the passage's own cosine with the question
    "passage_lexical",  # the passage's BM25, relative to the best candidate
    "rank",  # 1 / (passage rank + 1)
    "context",  # best lexical share of the neighbouring sentences (same passage)
)


# Sentences of this many top passages compete for the answer. Measured on SQuAD 2.0 (sentence
# accuracy, no abstention): 4 passages 0.768 tune / 0.785 test, 6: 0.773 / 0.790, 8: 0.772 /
# 0.788; the gold sentence is among them for 0.942 / 0.959 / 0.969 of the tuning half.
SENTENCE_PASSAGES = 6

# A passage that does not answer is still shown as related reading when its retrieval score
# is at least this share of the top passage's (below it: other stories, not context).
RELATED_SHARE = 0.4


@dataclass(frozen=True)
class ReaderPolicy:
    """How the trained reader (bot/answer/reader.py) and the rules share the decision.

    `candidates`: the reader reads this many sentences, the rules' best first (its cost grows
    with each one, about 6 ms a sentence on one core). `rules_weight`: the rules' log-odds
    added to the reader's, so a sentence's final probability weighs what the reader read with
    how well its passage was retrieved, which the reader cannot see. `confidence_rules_weight`:
    the same for the probability abstention is decided on. `rank_weight`: added to the
    log-odds of a sentence of the k-th passage as `rank_weight / k`: the retrieval order,
    which the rules' passage score only partly carries, settles near ties between passages
    (0.5 chosen on the SQuAD tuning half: hit@1 +0.2 there and +0.5 on the test half).
    `names_in_evidence`: whether the evidence must come from a passage naming what the
    question names (a rule for the rules reader; the trained reader reads names itself).
    """

    candidates: int = 6
    rules_weight: float = 1.0
    rank_weight: float = 0.5
    confidence_rules_weight: float = 0.0
    names_in_evidence: bool = False
    prefer_typed: bool = False
    # Where the reader's span head marks the answer ("never": the span rules alone;
    # "fallback": where the rules mark nothing; "prefer": before the rules), and the least
    # probability its span needs to be shown. Chosen on the SQuAD tuning half (READER.md).
    model_spans: Literal["never", "fallback", "prefer"] = "prefer"
    span_min_probability: float = 0.5


# The default abstention threshold of the rules alone (chosen on the SQuAD tuning half).
RULES_THRESHOLD = 0.40


class SentenceScorer(Protocol):
    """What answering needs of a reader: the probability that each candidate answers."""

    @property
    def abstain_below(self) -> float: ...

    def read(self, question: str, items: Sequence[ReaderInput]) -> Reading: ...


@dataclass(frozen=True)
class Weights:
    """A logistic model over FEATURES: the probability that a sentence holds the answer.

    The coefficients are hand-set; a fit on the tuning half of SQuAD 2.0
    (benchmarks/fit_weights.py) did no better on the test half, see docs/BENCHMARKS.md. The
    service passes the configured threshold (BRIEFBOT_ABSTAIN_THRESHOLD) as `abstain_below`.

    The passage's weight went from 0.9 to 2.0 (intercept -4.2 to -5.3, so that a sentence of
    the top passage keeps about the same probability) once retrieval re-scored passages by
    their best sentence (index/rerank.py), which made the passage score more telling: on both
    SQuAD halves hit@1 +0.4/+0.6, answer accuracy +0.2/+0.4 and more abstention at the same
    threshold (docs/BENCHMARKS.md).
    """

    coefficients: tuple[float, ...] = (4.0, 3.0, 0.9, 2.0, 0.0, 0.0, 0.0, 0.0)
    intercept: float = -5.3
    abstain_below: float = 0.30


class SpanOnDemand:
    """The span head's reading of one sentence, run the first time it is asked for: an
    abstention shows no span, so it no longer pays the head's ~3.3 ms (`ms`: what it took)."""

    def __init__(self, reading: Reading, row: int) -> None:
        self._reading = reading
        self._row = row
        self._span: AnswerSpan | None = None
        self._done = False
        self.ms = 0.0

    def __call__(self) -> AnswerSpan | None:
        if not self._done:
            started = time.perf_counter()
            self._span = self._reading.spans([self._row])[0]
            self.ms = (time.perf_counter() - started) * 1000
            self._done = True
        return self._span


@dataclass(frozen=True)
class ScoredSentence:
    passage_index: int
    sentence: Sentence
    text: str
    score: float  # probability that it answers (what chooses among sentences)
    features: tuple[float, ...]
    # What the abstention threshold is compared with, when it differs from `score`.
    confidence: float | None = None
    # Where the reader's span head puts the answer in `text`, read only if a citation shows it.
    span_on_demand: SpanOnDemand | None = field(default=None, compare=False, repr=False)

    @property
    def typed(self) -> bool:
        return self.features[2] > 0.5

    @property
    def sure(self) -> float:
        return self.score if self.confidence is None else self.confidence


def answer_question(
    question: str,
    question_vector: np.ndarray,
    passages: Sequence[Passage],
    encode: SentenceEncoder,
    weights: Weights | None = None,
    max_citations: int = 5,
    sentence_passages: int = SENTENCE_PASSAGES,
    reader: SentenceScorer | None = None,
    policy: ReaderPolicy | None = None,
) -> Answer:
    """Pick evidence from `passages` (best first) and build the Answer with its citations.

    With a `reader`, the rules shortlist and the reader reads (`policy`): its log-odds plus the
    rules' choose the answer, and its own probability (`policy.confidence_rules_weight` 0) is
    what `weights.abstain_below` is compared with."""
    weights = weights or Weights()
    qtype = classify(question)
    if not passages:
        return _abstain(
            question, qtype, [], "empty", "no articles have been added to this collection yet"
        )
    scored = score_sentences(
        question, question_vector, passages[:sentence_passages], encode, qtype, weights
    )
    read_by, timings = "rules", {}
    policy = policy or ReaderPolicy()
    if reader is not None and scored:
        started = time.perf_counter()
        scored = read_sentences(question, scored, passages, reader, policy)
        read_by = "model"
        timings["reader"] = round((time.perf_counter() - started) * 1000, 1)
    # What the question names, and what a quantity question counts: each passage is read once.
    names = question_names(question)
    wanted = names + focus_words(question)
    mentioned = [_mentioned(wanted, p) for p in passages[:sentence_passages]]
    naming = {i for i, found in enumerate(mentioned) if set(names) <= found}
    if read_by == "model" and not policy.names_in_evidence:
        naming = set(range(len(mentioned)))
    # A sentence holding a number (a date) comes first for "how many" ("when"), then one from
    # a passage that mentions what the question names: "the population of Glasgow" is not
    # answered by a sentence about Warsaw's population.
    prefer_type = qtype in _PREFER_TYPE and (read_by == "rules" or policy.prefer_typed)
    scored.sort(key=lambda s: (prefer_type and not s.typed, s.passage_index not in naming))
    best = scored[0] if scored else None
    # Named (or counted) by the question, mentioned by no passage: the articles cannot answer.
    missing = [w for w in wanted if not any(w in found for found in mentioned)]
    untyped = best is not None and qtype in _MUST_HAVE_TYPE and not best.typed
    reason = (
        "missing_terms"
        if missing
        else "no_typed_evidence"
        if untyped
        else "names_not_in_evidence"
        if best is not None and best.passage_index not in naming
        else "low_score"
        if best is None or best.sure < weights.abstain_below
        else None
    )
    if reason is not None:
        closest = _closest(passages, scored, max_citations)
        abstention = _abstain(question, qtype, closest, reason, None, best.sure if best else 0.0)
        return replace(abstention, reader=read_by, timings_ms=timings)
    span_policy = policy if read_by == "model" else None
    citations = newest_first(
        _citations(
            question, qtype, passages, scored, max_citations, weights.abstain_below, span_policy
        )
    )
    lead = citations[0]
    spans_read = [s.span_on_demand.ms for s in scored if s.span_on_demand is not None]
    if spans_read and "reader" in timings:  # the reader's cost includes its span head's
        timings["reader"] = round(timings["reader"] + sum(spans_read), 1)
    return Answer(
        question=question,
        text=lead.sentence_text,
        abstained=False,
        citations=tuple(citations),
        qtype=qtype.value,
        highlight=lead.highlight_text or None,
        confidence=round(best.sure, 4),
        conflicts=conflicting_figures(citations) if qtype is QType.NUMBER else (),
        reader=read_by,
        timings_ms=timings,
    )


def score_sentences(
    question: str,
    question_vector: np.ndarray,
    passages: Sequence[Passage],
    encode: SentenceEncoder,
    qtype: QType,
    weights: Weights,
) -> list[ScoredSentence]:
    """Every distinct sentence of the passages, scored, best first."""
    items = sentence_items(passages)
    if not items:
        return []
    matrix = sentence_features(question, question_vector, passages, items, encode, qtype)
    coefficients = np.asarray(weights.coefficients, dtype=np.float64)
    logits = matrix @ coefficients + weights.intercept
    probabilities = _sigmoid(logits)
    scored = [
        ScoredSentence(index, sentence, text, float(p), tuple(float(x) for x in row))
        for (index, sentence, text), p, row in zip(items, probabilities, matrix, strict=True)
    ]
    scored.sort(key=lambda s: -s.score)
    return scored


def read_sentences(
    question: str,
    scored: list[ScoredSentence],
    passages: Sequence[Passage],
    reader: SentenceScorer,
    policy: ReaderPolicy,
) -> list[ScoredSentence]:
    """`scored` re-scored by the reader (with the rules' log-odds, `policy.rules_weight`),
    best first. The sentences it did not read keep their rules score, capped below the lowest
    it read: they are never preferred to one it read."""
    chosen, rest = scored[: policy.candidates], scored[policy.candidates :]
    previous = _previous_sentences(passages)
    inputs = [
        ReaderInput(
            s.text,
            passages[s.passage_index].article.title,
            previous.get((passages[s.passage_index].article.id, s.sentence.start), ""),
        )
        for s in chosen
    ]
    reading = reader.read(question, inputs)
    reader_logits = _logit(reading.probabilities)
    rules_logits = _logit(np.array([s.score for s in chosen]))
    rank_prior = policy.rank_weight / np.array([s.passage_index + 1.0 for s in chosen])
    scores = _sigmoid(reader_logits + policy.rules_weight * rules_logits + rank_prior)
    sure = _sigmoid(reader_logits + policy.confidence_rules_weight * rules_logits)
    read = [
        replace(s, score=float(p), confidence=float(c))
        for s, p, c in zip(chosen, scores, sure, strict=True)
    ]
    if policy.model_spans != "never":  # the span head reads only the answer sentence
        lead = int(np.argmax(scores))
        read[lead] = replace(read[lead], span_on_demand=SpanOnDemand(reading, lead))
    floor = min(s.score for s in read)
    unread = [replace(s, score=min(s.score, floor * 0.99), confidence=0.0) for s in rest]
    return sorted(read, key=lambda s: -s.score) + unread


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _previous_sentences(passages: Sequence[Passage]) -> dict[tuple[int, int], str]:
    """The sentence before each sentence of the passages (by article id and start), where the
    passages hold it: what "he" or "the deal" in a sentence refers to."""
    by_article: dict[int, dict[int, tuple[int, str]]] = {}
    for passage in passages:
        spans = by_article.setdefault(passage.article.id, {})
        for sentence, text in passage.sentence_texts():
            spans[sentence.start] = (sentence.end, text)
    previous: dict[tuple[int, int], str] = {}
    for article_id, spans in by_article.items():
        starts = sorted(spans)
        for before, after in zip(starts, starts[1:], strict=False):
            end, text = spans[before]
            if 0 <= after - end <= 4:  # adjacent: only whitespace between them
                previous[(article_id, after)] = text
    return previous


def sentence_items(passages: Sequence[Passage]) -> list[tuple[int, Sentence, str]]:
    """(passage index, sentence, text) of every distinct non-blank sentence, in passage order
    (overlapping chunks share sentences; each is scored once, under its best passage)."""
    seen: set[tuple[int, int, int]] = set()
    items: list[tuple[int, Sentence, str]] = []
    for index, passage in enumerate(passages):
        for sentence, text in passage.sentence_texts():
            key = (passage.article.id, sentence.start, sentence.end)
            if key not in seen and text.strip():
                seen.add(key)
                items.append((index, sentence, text))
    return items


def sentence_features(
    question: str,
    question_vector: np.ndarray,
    passages: Sequence[Passage],
    items: list[tuple[int, Sentence, str]],
    encode: SentenceEncoder,
    qtype: QType,
) -> np.ndarray:
    """One row of FEATURES per (passage index, sentence, text) item."""
    vectors = encode([text for _, _, text in items])
    dense = vectors @ question_vector
    lexical = term_coverage(question, [text for _, _, text in items])
    top_passage = max(passages[0].score, 1e-9)
    question_lower = question.lower()
    rows = []
    for position, ((index, _sentence, text), d, lex) in enumerate(
        zip(items, dense, lexical, strict=True)
    ):
        typed = any(c.text.lower() not in question_lower for c in candidates(text, qtype))
        neighbours = [
            lexical[j]
            for j in (position - 1, position + 1)
            if 0 <= j < len(items) and items[j][0] == index
        ]
        passage = passages[index]
        rows.append(
            (
                float(d),
                lex,
                float(typed),
                passage.score / top_passage,
                passage.dense_score,
                passage.lexical_score,
                1.0 / (index + 1),
                max(neighbours, default=0.0),
            )
        )
    return np.asarray(rows, dtype=np.float64)


_FOCUS = re.compile(
    r"\b(?:how many|how much|number of|population of|percentage of|share of|amount of|"
    r"the (population|death toll|turnout|budget|salary|price|cost)\b)\s*(\w+)?",
    re.I,
)


def focus_words(question: str) -> list[str]:
    """What a quantity question counts: 'troops' in 'how many troops', 'population'."""
    match = _FOCUS.search(question)
    if not match:
        return []
    if match.group(1):
        return [match.group(1)]
    word = match.group(2) or ""
    return [word] if word and tokenize([word])[0] and word.lower() not in _AUXILIARIES else []


_AUXILIARIES = frozenset(
    [
        "will",
        "would",
        "did",
        "does",
        "do",
        "is",
        "are",
        "was",
        "were",
        "has",
        "have",
        "had",
        "can",
        "could",
    ]
)


def question_names(question: str) -> list[str]:
    """Capitalized words of the question other than its first: the names it asks about."""
    words = re.findall(r"\b[A-Z][a-zA-Z'’-]+", question)
    return [w for i, w in enumerate(words) if not (i == 0 and question.strip().startswith(w))]


def _mentioned(words: list[str], passage: Passage) -> set[str]:
    """Those of `words` the passage or its article's title mentions, by stem or as written
    (a word with no stem, a stopword, counts as mentioned)."""
    haystack = (passage.article.title + " " + passage.text).lower()
    known = set(tokenize([haystack])[0])
    found = set()
    for word in words:
        stems = tokenize([word])[0]
        if not stems or any(s in known for s in stems) or word.lower() in haystack:
            found.add(word)
    return found


def highlight(sentence_text: str, question: str, qtype: QType) -> Span | None:
    """The span of the sentence that answers, for types with a shape; None otherwise.

    Among candidates not already in the question, the one closest to the question's words
    wins ("11,000 ... troops" when asked about troops, not "two" of "a day or two").
    """
    terms = set(tokenize([question])[0]) - QUESTION_WORDS
    found = [
        c
        for c in candidates(sentence_text, qtype)
        if c.text.lower() not in question.lower() and not set(tokenize([c.text])[0]) & terms
    ]
    if qtype is QType.NUMBER:
        found = _of_wanted_kind(sentence_text, found, question)
    if not found:
        return None
    anchors = [
        m.start()
        for m in re.finditer(r"\w+", sentence_text)
        if set(tokenize([m.group(0)])[0]) & terms
    ]

    def distance(span: Span) -> int:
        return min(min(abs(a - span.start), abs(a - span.end)) for a in anchors)

    best = min(found, key=lambda c: distance(c.span)).span if anchors else found[0].span
    return with_unit(sentence_text, best, question) if qtype is QType.NUMBER else best


def choose_highlight(
    item: ScoredSentence, question: str, qtype: QType, policy: ReaderPolicy | None
) -> Span | None:
    """The span to mark in the item's sentence: the span rules' (figures, dates, names of the
    wanted type) and the reader's span head's, as `policy.model_spans` says. A model span
    made only of the question's own words, or most of the sentence, is not an answer."""
    rules = highlight(item.text, question, qtype)
    if policy is None or policy.model_spans == "never":
        return rules
    model = _model_span(item, question, policy.span_min_probability)
    if policy.model_spans == "prefer":
        return model or rules
    return rules or model


def _model_span(item: ScoredSentence, question: str, min_probability: float) -> Span | None:
    found = item.span_on_demand() if item.span_on_demand is not None else None
    if found is None or found.probability < min_probability or found.end <= found.start:
        return None
    if found.end - found.start >= 0.8 * len(item.text.strip()):
        return None
    words = set(tokenize([item.text[found.start : found.end]])[0])
    if not words or words <= set(tokenize([question])[0]):
        return None
    return Span(found.start, found.end)


def _of_wanted_kind(sentence: str, found: list[Candidate], question: str) -> list[Candidate]:
    """The figures of the kind the question asks for ("how much ... pay": a sum, not the "six"
    of "six months"); else those not plainly of another kind (a duration or a year where
    neither was asked for); a question that does not say keeps them all."""
    wanted = wanted_kinds(question)
    if wanted is None:
        return found
    kinds = [quantity_at(sentence, c.span.start, c.span.end).kind for c in found]
    preferred = [c for c, kind in zip(found, kinds, strict=True) if kind in wanted]
    if preferred:
        return preferred
    wrong = {Kind.DURATION, Kind.YEAR} - wanted
    return [c for c, kind in zip(found, kinds, strict=True) if kind not in wrong]


def _citations(
    question: str,
    qtype: QType,
    passages: Sequence[Passage],
    scored: list[ScoredSentence],
    limit: int,
    min_score: float,
    span_policy: ReaderPolicy | None = None,
) -> list[Citation]:
    """Citations in evidence order: each passage once, with its own best sentence (its answer
    span marked by the rules or, per `span_policy`, the reader's span head)."""
    best_by_passage = _best_by_passage(scored)
    # `scored` is in evidence order (typed sentences first where a type is required), so the
    # passages come out of `_best_by_passage` in that order too.
    order = list(best_by_passage)
    order += [i for i in range(len(passages)) if i not in best_by_passage]
    citations: list[Citation] = []
    cited_sentences: set[tuple[int, int]] = set()
    weak: list[int] = []
    floor = max(min_score, 0.5 * scored[0].score)
    for index in order:
        passage = passages[index]
        item = best_by_passage.get(index)
        if citations and (item is None or item.score < floor):
            weak.append(index)  # not evidence beside a real answer; maybe related reading
            continue
        sentence = item.sentence if item else None
        if sentence is not None:
            key = (passage.article.id, sentence.start)
            if key in cited_sentences:
                continue
            cited_sentences.add(key)
        span = None
        if item is not None:
            local = choose_highlight(item, question, qtype, span_policy)
            if local is not None:
                span = Span(sentence.start + local.start, sentence.start + local.end)  # type: ignore[union-attr]
        score = item.score if item else passage.score
        citations.append(Citation(len(citations) + 1, passage, sentence, span, round(score, 4)))
        if len(citations) == limit:
            break
    return citations + _related(passages, weak, best_by_passage, citations, limit)


def _related(
    passages: Sequence[Passage],
    weak: list[int],
    best_by_passage: dict[int, ScoredSentence],
    citations: list[Citation],
    limit: int,
) -> list[Citation]:
    """The next passages by retrieval rank, up to `limit` citations in all, marked as not
    answering: a reader checking the answer sees what else the articles say nearby (and the
    evidence, when the scorer picked the wrong sentence), never presented as support."""
    cited = {c.passage.chunk_id for c in citations}
    floor = RELATED_SHARE * passages[0].score
    related: list[Citation] = []
    for index in sorted(weak):
        if len(citations) + len(related) >= limit:
            break
        passage = passages[index]
        if passage.chunk_id in cited or passage.score < floor:
            continue
        cited.add(passage.chunk_id)
        n = len(citations) + len(related) + 1
        related.append(_not_answering(n, passage, best_by_passage.get(index)))
    return related


def _not_answering(n: int, passage: Passage, item: ScoredSentence | None) -> Citation:
    """A passage shown for context, with its best sentence if it had one scored."""
    return Citation(
        n,
        passage,
        item.sentence if item else None,
        None,
        round(item.score if item else passage.score, 4),
        answers=False,
    )


def _best_by_passage(scored: list[ScoredSentence]) -> dict[int, ScoredSentence]:
    """Each passage's best sentence, keyed by passage index, in the order of `scored`."""
    best: dict[int, ScoredSentence] = {}
    for item in scored:
        best.setdefault(item.passage_index, item)
    return best


def _closest(
    passages: Sequence[Passage], scored: list[ScoredSentence], limit: int
) -> list[Citation]:
    best_by_passage = _best_by_passage(scored)
    return [
        _not_answering(index + 1, passage, best_by_passage.get(index))
        for index, passage in enumerate(passages[:limit])
    ]


def _abstain(
    question: str,
    qtype: QType,
    closest: list[Citation],
    reason: str,
    explanation: str | None,
    confidence: float = 0.0,
) -> Answer:
    text = (
        f"The articles I have don't say: \u201c{question.strip()}\u201d"
        if explanation is None
        else f"I can't answer yet: {explanation}."
    )
    return Answer(
        question=question,
        text=text,
        abstained=True,
        citations=tuple(closest),
        qtype=qtype.value,
        confidence=round(confidence, 4),
        abstain_reason=reason,
    )
