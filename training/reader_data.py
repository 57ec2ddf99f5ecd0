"""Training pairs for the answer reader, built from SQuAD 2.0-format files.

Each pair is (question, candidate sentence, the sentence's context, label): 1 when the sentence
holds the answer, 0 when it does not. The negatives are what the reader meets in use:

- the other sentences of the same paragraph (the answer is near, the sentence is not it);
- the sentence of another paragraph of the same article that shares most words with the
  question (what retrieval puts beside the right passage);
- the sentence holding the "plausible answer" of a SQuAD 2.0 unanswerable question;
- synthetic unanswerables: an answerable question with what it names swapped for something
  the paragraph never mentions (a name, a number, a content word, an antonym, a negation),
  asked against the very sentence that answered the original, so "How many South Korean
  troops" against a sentence about North Korean troops is learned as not answering.

Sentences are split with Briefbot's own splitter, so training sees the units it scores at
run time. Nothing here is imported by Briefbot at run time.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.answer.reader import ReaderInput
from index.chunking import split_sentences
from index.lexical import QUESTION_WORDS, tokenize

SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench"
TRAIN_PATH = SHARED / "squad2-train10.json"
# Evaluation only: training must share no article with it (checked, not assumed).
BENCH_PATHS = (SHARED / "squad2-dev16.json",)


@dataclass(frozen=True)
class Pair:
    question: str
    candidate: ReaderInput
    label: int
    kind: str  # "gold", "paragraph", "article", "plausible", "swap:<what>"
    article: str
    # Where the answer lies in `candidate.sentence` (start, end), for the span head; only on
    # answer sentences whose answer is a part of the sentence (not SelQA's whole sentences).
    answer: tuple[int, int] | None = None


@dataclass(frozen=True)
class _Paragraph:
    article: str
    text: str
    sentences: tuple[tuple[int, int], ...]

    def sentence_at(self, offset: int) -> int | None:
        for i, (start, end) in enumerate(self.sentences):
            if start <= offset < end:
                return i
        return None

    def answer_span(self, i: int, answer: dict) -> tuple[int, int] | None:
        """The answer's offsets within sentence `i`, when it lies inside it and is a part of
        it (a whole sentence given as the answer teaches a span head nothing)."""
        start, end = self.sentences[i]
        offset = int(answer["answer_start"]) - start
        length = len(answer["text"])
        if offset < 0 or start + offset + length > end or length >= 0.8 * (end - start):
            return None
        if self.text[start + offset : start + offset + length] != answer["text"]:
            return None
        return offset, offset + length

    def candidate(self, i: int) -> ReaderInput:
        start, end = self.sentences[i]
        previous = ""
        if i > 0:
            p_start, p_end = self.sentences[i - 1]
            previous = self.text[p_start:p_end]
        return ReaderInput(self.text[start:end], self.article, previous)


def article_title(article: dict) -> str:
    """An article's title as Briefbot shows it (SQuAD writes "Solar_energy")."""
    return str(article["title"]).replace("_", " ")


def question_text(qa: dict) -> str:
    """A question as pairs hold it, whitespace collapsed (pairs are matched on it)."""
    return " ".join(str(qa["question"]).split())


def load_articles(path: Path) -> list[dict]:
    return list(json.loads(path.read_text(encoding="utf-8"))["data"])


def check_disjoint(train: list[dict], benchmarks: Iterable[Path]) -> None:
    """Refuse training data that shares an article (by title or by any paragraph) with a
    benchmark file; a benchmark that is absent cannot be checked and is skipped."""
    titles = {a["title"] for a in train}
    contexts = {p["context"] for a in train for p in a["paragraphs"]}
    for path in benchmarks:
        if not path.is_file():
            continue
        for article in load_articles(path):
            if article["title"] in titles:
                raise ValueError(f"{path.name} shares the article {article['title']!r}")
            for paragraph in article["paragraphs"]:
                if paragraph["context"] in contexts:
                    raise ValueError(f"{path.name} shares a paragraph of {article['title']!r}")


def build_pairs(
    articles: list[dict], seed: int = 13, other_sentences: int = 3, swaps: int = 1
) -> list[Pair]:
    """Every question of `articles` as labelled pairs (positives, hard and synthetic negatives);
    `swaps`: synthetic unanswerables made from each answerable question (different changes)."""
    rng = random.Random(seed)
    vocab = _Vocabulary(articles)
    pairs: list[Pair] = []
    for article in articles:
        title = article_title(article)
        paragraphs = [
            _Paragraph(
                title,
                p["context"],
                tuple((s.start, s.end) for s in split_sentences(p["context"])),
            )
            for p in article["paragraphs"]
        ]
        bags = [[set(tokenize([p.text[s:e]])[0]) for s, e in p.sentences] for p in paragraphs]
        raws = article["paragraphs"]
        for index, (raw, paragraph) in enumerate(zip(raws, paragraphs, strict=True)):
            for qa in raw["qas"]:
                question = question_text(qa)
                pairs += _question_pairs(
                    question,
                    qa,
                    paragraph,
                    index,
                    paragraphs,
                    bags,
                    vocab,
                    rng,
                    other_sentences,
                    swaps,
                )
    rng.shuffle(pairs)
    return pairs


def _question_pairs(
    question: str,
    qa: dict,
    paragraph: _Paragraph,
    index: int,
    paragraphs: list[_Paragraph],
    bags: list[list[set[str]]],
    vocab: _Vocabulary,
    rng: random.Random,
    other_sentences: int,
    swaps: int = 1,
) -> list[Pair]:
    title = paragraph.article
    answers = qa.get("answers") or []
    plausible = qa.get("plausible_answers") or []
    impossible = bool(qa.get("is_impossible"))
    source = plausible if impossible else answers
    gold = paragraph.sentence_at(source[0]["answer_start"]) if source else None
    out: list[Pair] = []
    if gold is not None:
        kind = "plausible" if impossible else "gold"
        span = None if impossible else paragraph.answer_span(gold, source[0])
        out.append(
            Pair(question, paragraph.candidate(gold), int(not impossible), kind, title, span)
        )
    others = [i for i in range(len(paragraph.sentences)) if i != gold]
    for i in rng.sample(others, min(other_sentences, len(others))):
        out.append(Pair(question, paragraph.candidate(i), 0, "paragraph", title))
    near = _closest_elsewhere(question, index, paragraphs, bags)
    if near is not None:
        out.append(Pair(question, paragraphs[near[0]].candidate(near[1]), 0, "article", title))
    if gold is not None and not impossible:
        made: set[str] = set()
        # The first swap is drawn exactly as with one swap a question, so `swaps=1` (the
        # shipped recipe) keeps its data; the others get a second try each for a new change.
        for _ in range(1 + 2 * (swaps - 1)):
            if len(made) == swaps:
                break
            swapped = perturb(question, paragraph.text, vocab, rng)
            if swapped is None or swapped[0] in made:
                continue
            changed, what = swapped
            made.add(changed)
            out.append(Pair(changed, paragraph.candidate(gold), 0, f"swap:{what}", title))
    return out


def _closest_elsewhere(
    question: str, index: int, paragraphs: list[_Paragraph], bags: list[list[set[str]]]
) -> tuple[int, int] | None:
    """The sentence of another paragraph sharing most content words with the question."""
    wanted = set(tokenize([question])[0]) - QUESTION_WORDS
    best, best_overlap = None, 1
    for p, sentences in enumerate(bags):
        if p == index:
            continue
        for s, bag in enumerate(sentences):
            overlap = len(wanted & bag)
            if overlap > best_overlap:
                best, best_overlap = (p, s), overlap
    return best


# -- synthetic unanswerables ---------------------------------------------------------------
_ANTONYMS = dict(
    pair
    for a, b in [
        ("first", "last"),
        ("largest", "smallest"),
        ("biggest", "smallest"),
        ("highest", "lowest"),
        ("most", "least"),
        ("before", "after"),
        ("earliest", "latest"),
        ("increase", "decrease"),
        ("increased", "decreased"),
        ("rise", "fall"),
        ("won", "lost"),
        ("win", "lose"),
        ("north", "south"),
        ("east", "west"),
        ("northern", "southern"),
        ("eastern", "western"),
        ("older", "younger"),
        ("oldest", "youngest"),
        ("longest", "shortest"),
        ("best", "worst"),
        ("more", "fewer"),
        ("early", "late"),
        ("begin", "end"),
        ("began", "ended"),
        ("start", "end"),
        ("started", "ended"),
        ("open", "closed"),
        ("public", "private"),
        ("major", "minor"),
        ("positive", "negative"),
        ("supported", "opposed"),
        ("accepted", "rejected"),
        ("allowed", "banned"),
        ("maximum", "minimum"),
        ("import", "export"),
        ("imports", "exports"),
    ]
    for pair in ((a, b), (b, a))
)
_AUXILIARY = re.compile(r"\b(did|does|do|was|were|is|are|has|have|had|can|could|will|would)\b")
_NAME = re.compile(r"\b[A-Z][a-zA-Z'\u2019-]+(?:\s+[A-Z][a-zA-Z'\u2019-]+)*")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")


class _Vocabulary:
    """Names, numbers and content words of the whole training corpus, to swap in."""

    def __init__(self, articles: list[dict]) -> None:
        names: set[str] = set()
        words: set[str] = set()
        for article in articles:
            for paragraph in article["paragraphs"]:
                text = paragraph["context"]
                names.update(m.group(0) for m in _NAME.finditer(text))
                words.update(w for w in re.findall(r"\b[a-z]{5,}\b", text))
        self.names = sorted(names)
        self.words = sorted(words - set(_ANTONYMS))


def perturb(
    question: str, paragraph: str, vocab: _Vocabulary, rng: random.Random
) -> tuple[str, str] | None:
    """The question changed so that the paragraph no longer answers it, and what was changed;
    None when no change can be made safely."""
    lower = paragraph.lower()
    options = []
    names = [m for m in _NAME.finditer(question) if m.start() > 0 and m.group(0).lower() in lower]
    if names:
        options.append("name")
    if any(m.group(0) in paragraph for m in _NUMBER.finditer(question)):
        options.append("number")
    antonyms = [w for w in re.findall(r"\b[a-z]+\b", question) if w in _ANTONYMS]
    if antonyms:
        options.append("antonym")
    if _AUXILIARY.search(question):
        options.append("negation")
    content = [
        w
        for w in re.findall(r"\b[a-z]{5,}\b", question)
        if w in lower and w not in _ANTONYMS and tokenize([w])[0]
    ]
    if content:
        options.append("word")
    if not options:
        return None
    # Negations are inserted after the auxiliary, which reads clumsily ("where did not X
    # live"); drawn less often so the model does not learn that any "not" is unanswerable.
    weights = [0.3 if o == "negation" else 1.0 for o in options]
    what = rng.choices(options, weights)[0]
    if what == "name":
        target = rng.choice(names).group(0)
        size = len(target.split())
        replacement = _absent(
            vocab.names, lower, rng, lambda n: n != target and len(n.split()) == size
        )
        changed = question.replace(target, replacement, 1) if replacement else None
    elif what == "number":
        target = rng.choice([m.group(0) for m in _NUMBER.finditer(question)])
        changed = question.replace(target, _other_number(target, lower, rng), 1)
    elif what == "antonym":
        target = rng.choice(antonyms)
        changed = re.sub(rf"\b{target}\b", _ANTONYMS[target], question, count=1)
    elif what == "negation":
        changed = _AUXILIARY.sub(lambda m: m.group(0) + " not", question, count=1)
        changed = None if " not" in question or "n't" in question else changed
    else:
        target = rng.choice(content)
        # Same ending, roughly the same part of speech: "troops" for "ships", not "damming".
        replacement = _absent(
            vocab.words, lower, rng, lambda w: w != target and w[-3:] == target[-3:]
        )
        changed = re.sub(rf"\b{target}\b", replacement, question, count=1) if replacement else None
    if not changed or changed == question:
        return None
    return changed, what


def _absent(pool: list[str], paragraph_lower: str, rng: random.Random, keep) -> str | None:
    """A random entry of the pool that the paragraph never mentions."""
    for _ in range(200):
        candidate = rng.choice(pool)
        if keep(candidate) and candidate.lower() not in paragraph_lower:
            return candidate
    return None


def _other_number(target: str, paragraph_lower: str, rng: random.Random) -> str:
    digits = target.replace(",", "")
    try:
        value = float(digits)
    except ValueError:
        return target
    for _ in range(20):
        if value.is_integer() and 1000 <= value <= 2100:  # a year: move it by a few
            new = str(int(value) + rng.choice([-11, -7, -3, 2, 5, 9, 14]))
        else:
            factor = rng.choice([0.5, 0.7, 1.3, 2, 3])
            new = f"{round(value * factor):,}" if value >= 1 else f"{value * factor:.2f}"
        if new not in paragraph_lower and new != target:
            return new
    return target


def first_articles(articles: list[dict], limit: int | None, keep: set[str]) -> list[dict]:
    """The first `limit` articles (all when None) and, after them, any titled in `keep`.

    Why: SQuAD 2.0's whole training file (442 articles, 130k questions, 43k of them
    unanswerable) would train for most of a day on 2 cores; a slice of it still has to hold the
    held-out article that the printed figures are measured on."""
    if limit is None:
        return list(articles)
    head = articles[:limit]
    return head + [a for a in articles[limit:] if article_title(a) in keep]


def split_by_article(pairs: list[Pair], held_out: set[str]) -> tuple[list[Pair], list[Pair]]:
    """Pairs of the held-out articles apart, for validation that shares no article."""
    train = [p for p in pairs if p.article not in held_out]
    valid = [p for p in pairs if p.article in held_out]
    return train, valid
