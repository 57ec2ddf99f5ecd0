"""Loading the SQuAD 2.0 benchmark file and SQuAD's own answer scoring."""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "shared" / "bench" / "squad2-dev16.json"


@dataclass(frozen=True)
class BenchArticle:
    title: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        """Paragraphs joined into one article, as a user would paste it."""
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class BenchQuestion:
    id: str
    article: str
    question: str
    answers: tuple[str, ...]
    impossible: bool

    @property
    def half(self) -> str:
        """A fixed split: 'tune' (used to set weights and thresholds) or 'test' (reported only)."""
        digest = hashlib.sha1(self.id.encode()).digest()
        return "tune" if digest[0] % 2 == 0 else "test"

    @property
    def bucket(self) -> str:
        q = self.question.lower()
        for name, pattern in (
            ("how many/much", r"\bhow (many|much)\b"),
            ("when", r"\bwhen\b|\bwhat (year|date|century|decade)\b|\bwhich (year|century)\b"),
            ("who", r"\bwho(m|se)?\b"),
            ("where", r"\bwhere\b"),
            ("why", r"\bwhy\b"),
            ("what/which", r"\bwhat\b|\bwhich\b"),
        ):
            if re.search(pattern, q):
                return name
        return "other"


def load(path: Path = DEFAULT_PATH) -> tuple[list[BenchArticle], list[BenchQuestion]]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    articles, questions = [], []
    for entry in data:
        title = entry["title"].replace("_", " ")
        articles.append(BenchArticle(title, tuple(p["context"] for p in entry["paragraphs"])))
        for paragraph in entry["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                questions.append(
                    BenchQuestion(
                        qa["id"], title, qa["question"], answers, bool(qa.get("is_impossible"))
                    )
                )
    return articles, questions


def sample(questions: list[BenchQuestion], limit: int | None, seed: int = 7) -> list[BenchQuestion]:
    """A fixed random sample keeping the share of unanswerable questions."""
    if not limit or limit >= len(questions):
        return questions
    rng = random.Random(seed)
    answerable = [q for q in questions if not q.impossible]
    impossible = [q for q in questions if q.impossible]
    n_answerable = round(limit * len(answerable) / len(questions))
    return rng.sample(answerable, n_answerable) + rng.sample(impossible, limit - n_answerable)


# -- SQuAD's official normalization and scores -------------------------------------------
def normalize_answer(text: str) -> str:
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: tuple[str, ...]) -> float:
    return max(
        (float(normalize_answer(prediction) == normalize_answer(g)) for g in gold), default=0.0
    )


def f1(prediction: str, gold: tuple[str, ...]) -> float:
    def score(pred: str, truth: str) -> float:
        p, t = normalize_answer(pred).split(), normalize_answer(truth).split()
        common = Counter(p) & Counter(t)
        same = sum(common.values())
        if same == 0:
            return 0.0
        precision, recall = same / len(p), same / len(t)
        return 2 * precision * recall / (precision + recall)

    return max((score(prediction, g) for g in gold), default=0.0)


def contains_answer(text: str, gold: tuple[str, ...]) -> bool:
    """A gold answer occurs in the text (whitespace folded)."""
    folded = " ".join(text.split())
    return any(" ".join(g.split()) in folded for g in gold)
