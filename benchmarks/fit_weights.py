"""Fit the answer engine's sentence model on the tuning half of SQuAD 2.0; report the test half.

    python -m benchmarks.fit_weights [--index-dir DIR] [--limit N]

For every question, the sentences of its top passages get Briefbot's FEATURES; a sentence is a
positive when it contains a gold answer (every sentence of an unanswerable question is a
negative). A logistic regression fitted on the tuning half gives the coefficients pasted into
`bot.answer.extractive.Weights`; the test half is only ever evaluated.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.quality import MODEL_CACHE, build_briefbot
from benchmarks.squad import DEFAULT_PATH, BenchQuestion, contains_answer, load, sample
from bot.answer.extractive import SENTENCE_PASSAGES
from index.offline import quiet_offline_libraries

quiet_offline_libraries()


def collect(app, questions: list[BenchQuestion], sentence_passages: int = SENTENCE_PASSAGES):
    """Per question: (features matrix, labels, typed flags), from the real retrieval path."""
    from bot.answer.extractive import sentence_features, sentence_items
    from bot.answer.qtypes import classify

    rows = []
    for q in questions:
        result = app.knowledge.retrieve("default", q.question, k=8)
        passages = result.passages[:sentence_passages]
        stored = app.knowledge.sentence_vectors(passages)
        items = [item for item in sentence_items(passages) if item[2] in stored]
        if not items:
            rows.append((q, np.zeros((0, 8)), np.zeros(0)))
            continue
        matrix = sentence_features(
            q.question,
            result.query_vector,
            passages,
            items,
            lambda texts, stored=stored: np.vstack([stored[t] for t in texts]),
            classify(q.question),
        )
        labels = np.asarray(
            [0.0 if q.impossible else float(contains_answer(t, q.answers)) for _, _, t in items]
        )
        rows.append((q, matrix, labels))
    return rows


def evaluate(rows, coefficients, intercept, thresholds=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)):
    from bot.answer.qtypes import QType, classify

    must_type = (QType.NUMBER, QType.DATE)
    best = []
    for q, matrix, labels in rows:
        if not len(labels):
            best.append((q, 0.0, False))
            continue
        p = 1 / (1 + np.exp(-(matrix @ coefficients + intercept)))
        order = np.argsort(-p)
        if classify(q.question) in must_type:
            order = sorted(order, key=lambda i: (matrix[i, 2] < 0.5, -p[i]))
        top = order[0]
        best.append((q, float(p[top]), bool(labels[top])))
    answerable = [b for b in best if not b[0].impossible]
    impossible = [b for b in best if b[0].impossible]
    print(f"  sentence accuracy (no abstention): {np.mean([b[2] for b in answerable]):.3f}")
    for t in thresholds:
        acc = np.mean([b[2] and b[1] >= t for b in answerable])
        fa = np.mean([b[1] < t for b in answerable])
        ab = np.mean([b[1] < t for b in impossible]) if impossible else 0.0
        print(
            f"  threshold {t:.2f}: accuracy {acc:.3f}  false abstention {fa:.3f}  "
            f"abstain on unanswerable {ab:.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", type=Path, default=DEFAULT_PATH)
    parser.add_argument(
        "--index-dir", type=Path, default=None, help="reuse (or build) the SQuAD index here"
    )
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    if not args.bench.exists():
        print(f"skipped: {args.bench} not found")
        return 0
    from sklearn.linear_model import LogisticRegression

    from bot.answer.extractive import FEATURES, Weights
    from index.embedder_factory import make_embedder
    from index.settings import IndexSettings

    articles, questions = load(args.bench)
    tune = sample([q for q in questions if q.half == "tune"], args.limit)
    test = sample([q for q in questions if q.half == "test"], args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        embedder = make_embedder(IndexSettings(model_cache_dir=MODEL_CACHE))
        app = build_briefbot(articles, args.index_dir or Path(tmp) / "data", embedder)
        tune_rows, test_rows = collect(app, tune), collect(app, test)
    x = np.vstack([m for _, m, _ in tune_rows if len(m)])
    y = np.concatenate([lab for _, m, lab in tune_rows if len(m)])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    coefficients, intercept = model.coef_[0], float(model.intercept_[0])
    print("fitted on", len(tune), "tuning questions,", len(y), "sentences")
    print("coefficients = (" + ", ".join(f"{c:.3f}" for c in coefficients) + ")")
    print(f"intercept = {intercept:.3f}")
    for name, c in zip(FEATURES, coefficients, strict=True):
        print(f"  {name:>16}: {c:+.3f}")
    default = Weights()
    for label, rows in (("tune", tune_rows), ("test", test_rows)):
        print(f"{label} half, current defaults:")
        evaluate(rows, np.asarray(default.coefficients), default.intercept)
        print(f"{label} half, fitted:")
        evaluate(rows, coefficients, intercept)
    return 0


if __name__ == "__main__":
    sys.exit(main())
