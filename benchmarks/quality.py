"""Answer quality on SQuAD 2.0: Briefbot against dense-only, lexical-only and txtai's hybrid.

    python -m benchmarks.quality [--limit N] [--half tune|test|all] [--no-peer] [--write-docs]

Each of the 16 articles is added as a user would add it (paragraphs joined, Briefbot's own
chunker). Every system answers every question; figures are printed as tables, and with
--write-docs stored in docs/BENCHMARKS.md (and the abstention trade-off as a PNG).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.news import run_news_check
from benchmarks.squad import (
    DEFAULT_PATH,
    BenchArticle,
    BenchQuestion,
    contains_answer,
    exact_match,
    f1,
    load,
    sample,
)
from index.offline import quiet_offline_libraries

quiet_offline_libraries()

DOCS = Path(__file__).resolve().parents[1] / "docs"
# The one-time ONNX export of the model, kept between benchmark runs (keyed by its weights).
MODEL_CACHE = Path(tempfile.gettempdir()) / "briefbot-bench-models"
THRESHOLDS = [round(x, 2) for x in np.arange(0.0, 1.01, 0.05)]
# Questions about things no benchmark article covers: these must (almost) always be abstained on.
OFF_CORPUS = [
    "How many residents were ordered to evacuate Harlow Ridge?",
    "What interest rate did the Bank of Norland set in November?",
    "Who claimed responsibility for the Westbrook Health ransomware attack?",
    "How many dock workers joined the Port Calder strike?",
    "What pay rise is the Calder Dockers Union asking for?",
    "How many hectares has the Harlow Ridge wildfire burned?",
    "When did the Port Calder strike begin?",
    "How much ransom did Gravel Spider demand?",
    "Who is the governor of the Bank of Norland?",
    "How many North Korean troops were deployed to Russia?",
    "What is the population of Glasgow?",
    "How much will maternity pay rise by in 2007?",
    "Who won the 2022 FIFA World Cup?",
    "What is the boiling point of ethanol?",
    "How many moons does Neptune have?",
    "When was the Eiffel Tower completed?",
    "Who wrote the novel War and Peace?",
    "What is the capital of Australia?",
    "How many people live in Lagos?",
    "What did the central bank of Japan decide about yield curve control?",
    "How many ships were delayed by the strike?",
    "Who is the chief executive of Westbrook Health?",
    "What caused the wildfire near Harlow Ridge?",
    "How fast does a cheetah run?",
    "When did the Berlin Wall fall?",
    "Who painted the Mona Lisa?",
    "How many players are on a rugby union team?",
    "What is the inflation rate in Norland?",
    "Which company operates Port Calder?",
    "How many appointments were cancelled after the hospital attack?",
]


@dataclass(frozen=True)
class Prediction:
    passages: tuple[str, ...]
    answer: str
    highlight: str | None
    confidence: float
    hard_abstain: bool = False  # abstains whatever the threshold (Briefbot's rules)
    seconds: float = 0.0


@dataclass
class Report:
    name: str
    predictions: dict[str, Prediction] = field(default_factory=dict)
    default_threshold: float | None = None  # None: never abstains


class CachingEmbedder:
    """Wraps the real model: each distinct text is encoded once for the whole run."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.cache: dict[str, np.ndarray] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            for text, vector in zip(missing, self.inner.encode(missing), strict=True):
                self.cache[text] = vector
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([self.cache[t] for t in texts])


# -- systems ----------------------------------------------------------------------------
def build_briefbot(articles: list[BenchArticle], data_dir: Path, embedder):
    from bot.service import Briefbot
    from bot.settings import Settings
    from index.knowledge import KnowledgeBase
    from index.models import RawArticle

    settings = Settings(data_dir=data_dir, abstain_threshold=0.0)
    knowledge = KnowledgeBase(settings, embedder=embedder)
    outcomes = knowledge.add(
        [
            RawArticle(text=a.text, title=a.title, source="Wikipedia (SQuAD 2.0)", origin=a.title)
            for a in articles
        ]
    )
    assert all(o.status in ("added", "unchanged") for o in outcomes), outcomes
    return Briefbot(settings, knowledge)


def briefbot_predict(app) -> Callable[[str], Prediction]:
    def predict(question: str) -> Prediction:
        start = time.perf_counter()
        answer = app.ask(question)
        seconds = time.perf_counter() - start
        hard = answer.abstained and answer.abstain_reason != "low_score"
        return Prediction(
            tuple(c.passage.text for c in answer.citations),
            "" if hard else answer.text,
            None if hard else answer.highlight,
            answer.confidence,
            hard,
            seconds,
        )

    return predict


def _sentences_of_chunks(app, chunk_ids: list[int]) -> list[tuple[str, list[str]]]:
    chunks = app.knowledge.store.chunks_by_ids(chunk_ids)
    result = []
    for chunk_id in chunk_ids:
        chunk = chunks[chunk_id]
        texts = [chunk.text[s.start - chunk.start : s.end - chunk.start] for s in chunk.sentences]
        result.append((chunk.text, texts))
    return result


def _top_chunk_predictor(app, hits, sentence_scores) -> Callable[[str], Prediction]:
    """A baseline: `hits(question)` ranks chunk ids; the answer is the top chunk's sentence
    that `sentence_scores(question, sentences)` rates highest."""

    def predict(question: str) -> Prediction:
        start = time.perf_counter()
        chunks = _sentences_of_chunks(app, [i for i, _ in hits(question)])
        sentences = chunks[0][1] if chunks else []
        scores = list(sentence_scores(question, sentences)) if sentences else []
        best = int(np.argmax(scores)) if scores else -1
        return Prediction(
            tuple(c for c, _ in chunks),
            sentences[best] if best >= 0 else "",
            None,
            float(scores[best]) if best >= 0 else 0.0,
            False,
            time.perf_counter() - start,
        )

    return predict


def dense_predict(app, embedder) -> Callable[[str], Prediction]:
    """MiniLM + FAISS alone: best-cosine chunk, then its best-cosine sentence."""
    vectors = app.knowledge.caches.get("default").vectors

    def hits(question: str) -> list[tuple[int, float]]:
        return vectors.search(embedder.encode([question])[0], 5)

    def cosines(question: str, sentences: list[str]) -> np.ndarray:
        return embedder.encode(sentences) @ embedder.encode([question])[0]

    return _top_chunk_predictor(app, hits, cosines)


def lexical_predict(app) -> Callable[[str], Prediction]:
    """bm25s alone: best BM25 chunk, then its sentence sharing most (idf-weighted) terms."""
    from index.lexical import term_coverage

    lexical = app.knowledge.caches.get("default").lexical
    return _top_chunk_predictor(app, lambda q: lexical.search(q, 5), term_coverage)


def txtai_predict(articles: list[BenchArticle], embedder, model_path: str):
    """txtai Embeddings(hybrid=True): BM25 + dense, same MiniLM, one chunk per paragraph;
    the answer is the top hit's most similar sentence."""
    from txtai import Embeddings

    from index.chunking import split_sentences

    paragraphs = [p for a in articles for p in a.paragraphs]
    index = Embeddings(path=model_path, hybrid=True, content=True)
    index.index([(i, text, None) for i, text in enumerate(paragraphs)])

    def predict(question: str) -> Prediction:
        start = time.perf_counter()
        hits = index.search(question, 5)
        texts = tuple(h["text"] for h in hits)
        sentences = [texts[0][s.start : s.end] for s in split_sentences(texts[0])] if texts else []
        qv = embedder.encode([question])[0]
        sims = embedder.encode(sentences) @ qv if sentences else np.zeros(0)
        best = int(np.argmax(sims)) if len(sims) else -1
        return Prediction(
            texts,
            sentences[best] if best >= 0 else "",
            None,
            float(hits[0]["score"]) if hits else 0.0,
            False,
            time.perf_counter() - start,
        )

    return predict


# -- scoring ----------------------------------------------------------------------------
def abstains(p: Prediction, threshold: float | None) -> bool:
    return p.hard_abstain or (threshold is not None and p.confidence < threshold)


def score(report: Report, questions: list[BenchQuestion]) -> dict[str, float]:
    answerable = [q for q in questions if not q.impossible and q.id in report.predictions]
    impossible = [q for q in questions if q.impossible and q.id in report.predictions]
    t = report.default_threshold
    preds = report.predictions
    row: dict[str, float] = {"n": len(answerable)}
    for k in (1, 3, 5):
        row[f"hit@{k}"] = _mean(
            any(contains_answer(p, q.answers) for p in preds[q.id].passages[:k]) for q in answerable
        )
    row["accuracy"] = _mean(
        not abstains(preds[q.id], t) and contains_answer(preds[q.id].answer, q.answers)
        for q in answerable
    )
    spans = [q for q in answerable if preds[q.id].highlight and not abstains(preds[q.id], t)]
    row["span_n"] = len(spans)
    row["span_em"] = _mean(exact_match(preds[q.id].highlight or "", q.answers) for q in spans)
    row["span_f1"] = _mean(f1(preds[q.id].highlight or "", q.answers) for q in spans)
    counts = [q for q in spans if q.bucket == "how many/much"]
    row["number_span_ok"] = _mean(f1(preds[q.id].highlight or "", q.answers) > 0 for q in counts)
    row["abstain_unanswerable"] = _mean(abstains(preds[q.id], t) for q in impossible)
    row["false_abstain"] = _mean(abstains(preds[q.id], t) for q in answerable)
    seconds = [p.seconds for p in preds.values()]
    row["p50_ms"] = 1000 * statistics.median(seconds) if seconds else 0.0
    row["p95_ms"] = 1000 * float(np.percentile(seconds, 95)) if seconds else 0.0
    return row


def tradeoff(
    report: Report, questions: list[BenchQuestion]
) -> list[tuple[float, float, float, float]]:
    """(threshold, abstain on unanswerable, false abstention, accuracy) for each threshold."""
    rows = []
    for threshold in THRESHOLDS:
        trial = Report(report.name, report.predictions, threshold)
        s = score(trial, questions)
        rows.append((threshold, s["abstain_unanswerable"], s["false_abstain"], s["accuracy"]))
    return rows


def by_bucket(report: Report, questions: list[BenchQuestion]) -> dict[str, dict[str, float]]:
    buckets: dict[str, list[BenchQuestion]] = {}
    for q in questions:
        buckets.setdefault(q.bucket, []).append(q)
    return {name: score(report, qs) for name, qs in sorted(buckets.items())}


def _mean(values) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else 0.0


# -- output -----------------------------------------------------------------------------
COLUMNS = [
    ("hit@1", "hit@1"),
    ("hit@3", "hit@3"),
    ("hit@5", "hit@5"),
    ("accuracy", "answer acc"),
    ("span_em", "span EM"),
    ("span_f1", "span F1"),
    ("number_span_ok", "number span"),
    ("abstain_unanswerable", "abstain unans."),
    ("false_abstain", "false abstain"),
    ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"),
]


def markdown_table(rows: dict[str, dict[str, float]]) -> str:
    head = "| system | " + " | ".join(label for _, label in COLUMNS) + " |"
    rule = "|---" * (len(COLUMNS) + 1) + "|"
    lines = [head, rule]
    for name, row in rows.items():
        cells = [
            f"{row[key]:.0f}" if key.endswith("_ms") else f"{row[key]:.3f}" for key, _ in COLUMNS
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_tradeoff(curves: dict[str, list[tuple[float, float, float, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, rows in curves.items():
        ax.plot([r[2] for r in rows], [r[1] for r in rows], marker=".", label=name)
    ax.axvline(0.10, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("false abstention on answerable questions")
    ax.set_ylabel("abstention on unanswerable questions")
    ax.set_title("Abstention trade-off over thresholds (SQuAD 2.0, 16 articles)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--limit", type=int, default=None, help="a fixed sample of N questions")
    parser.add_argument("--half", choices=["tune", "test", "all"], default="all")
    parser.add_argument("--no-peer", action="store_true", help="skip txtai")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument(
        "--timing-sample", type=int, default=100, help="questions timed on the uncached path"
    )
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument(
        "--index-dir",
        type=Path,
        default=None,
        help="keep the SQuAD index here and reuse it on the next run",
    )
    args = parser.parse_args(argv)
    if not args.bench.exists():
        print(
            f"skipped: benchmark file {args.bench} not found (it ships only in the project's "
            "workspace, ../shared/bench)"
        )
        return 0

    from index.embedder_factory import make_embedder
    from index.embedding import resolve_model
    from index.settings import BUNDLED_MODEL, IndexSettings

    articles, questions = load(args.bench)
    if args.half != "all":
        questions = [q for q in questions if q.half == args.half]
    questions = sample(questions, args.limit)
    print(
        f"{len(articles)} articles, {sum(not q.impossible for q in questions)} answerable and "
        f"{sum(q.impossible for q in questions)} unanswerable questions ({args.half})",
        flush=True,
    )

    real = make_embedder(IndexSettings(model_cache_dir=MODEL_CACHE))
    embedder = CachingEmbedder(real)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        app = build_briefbot(articles, args.index_dir or Path(tmp) / "data", embedder)
        print(f"indexed in {time.perf_counter() - started:.1f} s", flush=True)
        # Latency on the real path first (nothing cached but the model), then warm the cache
        # so the full run measures quality in minutes.
        timing = {}
        for q in questions[: args.timing_sample]:
            start = time.perf_counter()
            from bot.service import Briefbot

            Briefbot(app.settings, app.knowledge).ask(q.question)
            timing[q.id] = time.perf_counter() - start
        from index.chunking import split_sentences

        sentences = [
            p[s.start : s.end] for a in articles for p in a.paragraphs for s in split_sentences(p)
        ]
        embedder.encode([q.question for q in questions] + OFF_CORPUS + sentences)
        reports = [Report("Briefbot", default_threshold=_default_threshold())]
        systems: list[tuple[Report, Callable[[str], Prediction]]] = [
            (reports[0], briefbot_predict(app))
        ]
        if not args.no_baselines:
            reports += [Report("dense only (MiniLM + FAISS)"), Report("lexical only (bm25s)")]
            systems += [
                (reports[1], dense_predict(app, embedder)),
                (reports[2], lexical_predict(app)),
            ]
        if not args.no_peer:
            try:
                peer = txtai_predict(articles, embedder, resolve_model(BUNDLED_MODEL)[1])
                reports.append(Report("txtai hybrid (peer)"))
                systems.append((reports[-1], peer))
            except ImportError:
                print("txtai not installed: pip install -e '.[bench]' to compare with it")
        for report, predict in systems:
            t0 = time.perf_counter()
            for q in questions:
                report.predictions[q.id] = predict(q.question)
            print(f"{report.name}: {time.perf_counter() - t0:.0f} s", flush=True)
        for q_id, seconds in timing.items():  # Briefbot's latency is the uncached one
            p = reports[0].predictions[q_id]
            reports[0].predictions[q_id] = Prediction(
                p.passages, p.answer, p.highlight, p.confidence, p.hard_abstain, seconds
            )
        for q_id in reports[0].predictions:
            if q_id not in timing:
                p = reports[0].predictions[q_id]
                reports[0].predictions[q_id] = Prediction(
                    p.passages, p.answer, p.highlight, p.confidence, p.hard_abstain, float("nan")
                )
        off = [briefbot_predict(app)(q) for q in OFF_CORPUS]
        off_rate = _mean(abstains(p, reports[0].default_threshold) for p in off)

    rows = {r.name: score(r, questions) for r in reports}
    if args.half == "all":  # the weights were set on the tuning half: show both halves
        for half in ("tune", "test"):
            rows[f"Briefbot ({half} half only)"] = score(
                reports[0], [q for q in questions if q.half == half]
            )
    for name, row in rows.items():
        if name == "Briefbot" and timing:
            row["p50_ms"] = 1000 * statistics.median(timing.values())
            row["p95_ms"] = 1000 * float(np.percentile(list(timing.values()), 95))
    total = time.perf_counter() - started
    text = [
        f"## Answer quality ({args.half}, {len(questions)} questions)",
        "",
        markdown_table(rows),
        "",
        f"Off-corpus questions abstained on: {off_rate:.3f} ({len(OFF_CORPUS)} questions).",
        f"Default abstention threshold: {reports[0].default_threshold}.",
        "",
        "### Briefbot by question type",
        "",
        markdown_table({k: v for k, v in by_bucket(reports[0], questions).items()}),
        "",
        "### Abstention trade-off (Briefbot)",
        "",
        "| threshold | abstain unanswerable | false abstention | answer accuracy |",
        "|---|---|---|---|",
    ]
    curves = {r.name: tradeoff(r, questions) for r in reports}
    text += [
        f"| {t:.2f} | {a:.3f} | {fa:.3f} | {acc:.3f} |" for t, a, fa, acc in curves["Briefbot"]
    ]
    news = run_news_check(MODEL_CACHE)
    if news is not None:
        text += ["", "### News check (../shared/corpora, benchmarks/news.py)", "", news.markdown()]
    text += ["", f"Run time: {total / 60:.1f} min."]
    output = "\n".join(text)
    print(output)
    if args.write_docs:
        DOCS.mkdir(exist_ok=True)
        plot_tradeoff(curves, DOCS / "quality-tradeoff.png")
        (DOCS / f"quality-{args.half}.md").write_text(output + "\n", encoding="utf-8")
        print(f"wrote {DOCS / f'quality-{args.half}.md'} and {DOCS / 'quality-tradeoff.png'}")
    return 0


def _default_threshold() -> float:
    from bot.service import abstain_threshold
    from bot.settings import Settings

    return abstain_threshold(Settings())


if __name__ == "__main__":
    sys.exit(main())
