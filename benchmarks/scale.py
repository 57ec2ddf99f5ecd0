"""Scale benchmark (issue 18): big collections, exact against approximate search, one run.

    python -m benchmarks.scale collections                     # 100k and 1M chunks
    python -m benchmarks.scale collections --sizes 100000 --json scale-100k.json
    python -m benchmarks.scale collections --quick             # seconds, test embedder

`collections` builds, for each size, a collection's caches both ways, exactly as
`CacheManager._build` does (`VectorIndex.build` exact or IVF, `LexicalIndex.build`, segments
sparse or not), and asks the same questions of both through `hybrid_search`, the retrieval
code Briefbot runs, after encoding each question with the real encoder on one thread. Printed
per size: answer-path p50/p95 (encode + dense + lexical + fusion + best-sentence re-scoring),
the dense and lexical steps alone, recall@10 of the approximate dense search against exact
(and of the approximate answer path's top 10 against the exact one's), build times, memory per
chunk (a fresh process loading the saved files), an nprobe sweep (recall and time), and with
`--hnsw` the alternative not chosen (an HNSW graph, its build time and an efSearch sweep).

The stored side is synthetic, not embedded (1M chunks of real text would take days to encode
on this machine): 2,000 topics are short phrases of words from Briefbot's own docs, encoded by
the real model; each chunk's vector mixes two topics' vectors with Gaussian noise
(re-normalized), so neighbourhoods overlap and approximate search is not trivially easy, and
its text is its topics' words plus common words drawn from a Zipf distribution. Questions are
phrases about one or two topics, encoded for real. Passages come from memory
(`SyntheticPassages`), not SQLite: store reads cost the same at every size (docs/BENCHMARKS.md).

    python -m benchmarks.scale pg [--articles 200] [--rounds 40] [--url postgresql://...]

`pg` (benchmarks/pg_store.py) runs one PostgreSQL against SQLite with the fake embedder: adds
and answers per second, two writer processes on one database, how soon an article added by one
process is answerable from another, and the first question there after an add with and
without that process's change listener (LISTEN/NOTIFY).

Sections are subcommands, each with its own options and results under its own key.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import pg_store
from benchmarks.speed import machine, percentiles, rss_mb, say
from index.offline import quiet_offline_libraries

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[1]
TARGET_P50_MS, TARGET_RECALL = 60.0, 0.98


@dataclass(frozen=True)
class Plan:
    model: str
    sizes: tuple[int, ...]
    questions: int = 200
    topics: int = 2000
    noise: float = 0.05  # per dimension; the mixed topic vectors have norm about 1-1.2
    words_per_chunk: int = 40
    ef_sweep: tuple[int, ...] = (64, 128, 256, 512)
    nprobe_sweep: tuple[int, ...] = (8, 16, 32, 64)
    seed: int = 18


FULL = Plan("bundled:all-MiniLM-L6-v2", (100_000, 1_000_000))
QUICK = Plan(
    "hashing:64", (3_000,), questions=20, topics=100, ef_sweep=(32, 256), nprobe_sweep=(1, 16)
)


# -- the synthetic collection -------------------------------------------------------------
@dataclass(frozen=True)
class Collection:
    """Chunk ids 1..n, their unit vectors and index texts, and the topics they were made of."""

    ids: np.ndarray
    vectors: np.ndarray
    texts: list[str]
    topic_phrases: list[str]


def vocabulary() -> list[str]:
    """Words of Briefbot's own docs (ours to use), most frequent first."""
    counts: dict[str, int] = {}
    for page in sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        for word in re.findall(r"[a-z]{4,}", page.read_text(encoding="utf-8").lower()):
            counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda w: -counts[w])


def topic_phrases(plan: Plan, words: list[str], rng: np.random.Generator) -> list[str]:
    """Short distinct phrases of rarer words: what a chunk is about."""
    rare = words[200:] if len(words) > 400 else words
    phrases: dict[str, None] = {}
    while len(phrases) < plan.topics:
        phrases[" ".join(rng.choice(rare, size=3, replace=False))] = None
    return list(phrases)


def synthesize(plan: Plan, size: int, embedder: Any) -> Collection:
    rng = np.random.default_rng(plan.seed)
    words = vocabulary()
    phrases = topic_phrases(plan, words, rng)
    centers = np.asarray(embedder.encode(phrases), dtype=np.float32)
    zipf = 1.0 / np.arange(1, len(words) + 1)
    common = np.asarray(words)
    vectors = np.empty((size, centers.shape[1]), dtype=np.float32)
    texts: list[str] = []
    for start in range(0, size, 50_000):
        n = min(50_000, size - start)
        a, b = rng.integers(0, len(phrases), n), rng.integers(0, len(phrases), n)
        mix = rng.random((n, 1), dtype=np.float32) * 0.7
        block = centers[a] + mix * centers[b]
        block += rng.standard_normal(block.shape, dtype=np.float32) * plan.noise
        vectors[start : start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
        filler = rng.choice(common, size=(n, plan.words_per_chunk), p=zipf / zipf.sum())
        half = plan.words_per_chunk // 2
        texts += [
            f"{phrases[x]} {' '.join(f[:half])}. {phrases[y]} {' '.join(f[half:])}."
            for x, y, f in zip(a.tolist(), b.tolist(), filler.tolist(), strict=True)
        ]
    return Collection(np.arange(1, size + 1, dtype=np.int64), vectors, texts, phrases)


def questions(plan: Plan, collection: Collection) -> list[str]:
    rng = np.random.default_rng(plan.seed + 1)
    phrases = collection.topic_phrases
    picked = rng.integers(0, len(phrases), (plan.questions, 2))
    return [
        f"What happened with {phrases[a]}?"
        if i % 2
        else f"How do {phrases[a]} and {phrases[b]} relate?"
        for i, (a, b) in enumerate(picked.tolist())
    ]


class SyntheticPassages:
    """The PassageSource of a synthetic collection: chunks, articles and sentence vectors from
    memory (one article per chunk, two sentences per chunk)."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    def chunks_by_ids(self, ids: Sequence[int]) -> dict[int, Any]:
        from index.models import Sentence
        from index.store import StoredChunk

        found = {}
        for chunk_id in ids:
            text = self.collection.texts[chunk_id - 1]
            cut = text.index(". ") + 1
            sentences = (Sentence(0, cut), Sentence(cut + 1, len(text)))
            found[chunk_id] = StoredChunk(chunk_id, chunk_id, 0, len(text), text, sentences)
        return found

    def articles_by_ids(self, ids: Sequence[int]) -> dict[int, Any]:
        from index.models import Article

        added = datetime(2026, 1, 1, tzinfo=UTC)
        return {
            i: Article(i, "default", f"Chunk {i}", "synthetic", None, None, added, str(i), 1)
            for i in ids
        }

    def sentence_vectors(self, chunk_ids: Sequence[int]) -> dict[int, np.ndarray]:
        vectors = self.collection.vectors
        return {i: np.stack([vectors[i - 1], vectors[i - 1]]) for i in chunk_ids}


# -- building and asking -----------------------------------------------------------------
@dataclass(frozen=True)
class Built:
    """One way of searching the collection, as `CacheManager` would hold it."""

    vectors: Any
    lexical: Any


def timed_build(build: Callable[[], Any]) -> tuple[Any, float]:
    """(result, seconds) of one build."""
    started = time.perf_counter()
    result = build()
    return result, time.perf_counter() - started


def memory_per_chunk(vectors: Any, lexical: Any, size: int, work: Path) -> dict[str, int]:
    """Resident-set growth of a fresh process loading the saved main segment (FAISS file,
    bm25s folder) as `CacheManager` does, per chunk, plus the files' bytes per chunk. Growth
    measured in this process would hide in memory freed earlier and reused."""
    vectors.save(work / "vectors.faiss")
    lexical.save(work / "lexical")
    command = [sys.executable, "-m", "benchmarks.scale", "probe-rss", str(work)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    probe = json.loads(done.stdout)
    disk = sum(f.stat().st_size for f in work.rglob("*") if f.is_file())
    for f in sorted(work.rglob("*"), reverse=True):
        f.rmdir() if f.is_dir() else f.unlink()
    return {
        "vectors_rss": round(probe["vectors_mb"] * 2**20 / size),
        "lexical_rss": round(probe["lexical_mb"] * 2**20 / size),
        "disk": round(disk / size),
    }


def probe_rss(work: Path) -> dict[str, float]:
    """The child side of `memory_per_chunk`."""
    from index.lexical import LexicalIndex
    from index.vectors import VectorIndex

    before = rss_mb()
    vectors = VectorIndex.load(work / "vectors.faiss")
    loaded = rss_mb()
    lexical = LexicalIndex.load(work / "lexical")
    after = rss_mb()
    assert vectors.size == lexical.size
    return {"vectors_mb": loaded - before, "lexical_mb": after - loaded}


def ask_all(
    built: Built, source: SyntheticPassages, asked: list[str], embedder: Any, k: int
) -> tuple[list[float], list[list[int]]]:
    """Answer-path milliseconds per question and the top-k chunk ids found."""
    from index.retrieval import FusionWeights, hybrid_search

    weights = FusionWeights()
    ms: list[float] = []
    found: list[list[int]] = []
    for question in asked:
        started = time.perf_counter()
        vector = embedder.encode([question])[0]
        passages = hybrid_search(source, built, question, vector, k, weights)
        ms.append((time.perf_counter() - started) * 1000)
        found.append([p.chunk_id for p in passages])
    return ms, found


def step_ms(run: Callable[[Any], Any], inputs: Sequence[Any]) -> dict[str, float]:
    ms = []
    for item in inputs:
        started = time.perf_counter()
        run(item)
        ms.append((time.perf_counter() - started) * 1000)
    return percentiles(ms)


def overlap(approximate: list[list[int]], exact: list[list[int]]) -> float:
    """Mean share of the exact top-k that the approximate top-k holds."""
    shares = [len(set(a) & set(e)) / len(e) for a, e in zip(approximate, exact, strict=True) if e]
    return round(float(np.mean(shares)), 4) if shares else 1.0


def measure_size(plan: Plan, size: int, embedder: Any, with_hnsw: bool) -> dict[str, Any]:
    from index.lexical import LexicalIndex, LexicalSegments
    from index.vectors import IvfParams, VectorIndex, VectorSegments

    say(f"== {size:,} chunks ==")
    collection, synth_s = timed_build(lambda: synthesize(plan, size, embedder))
    say(f"synthesized in {synth_s:.1f} s")
    dim, ids, matrix = collection.vectors.shape[1], collection.ids, collection.vectors
    lexical, lexical_s = timed_build(lambda: LexicalIndex.build(ids.tolist(), collection.texts))
    say(f"bm25s index: {lexical_s:.1f} s")
    flat, flat_s = timed_build(lambda: VectorIndex.build(dim, ids, matrix, None))
    say(f"flat FAISS: {flat_s:.1f} s")
    params = IvfParams()
    ivf, ivf_s = timed_build(lambda: VectorIndex.build(dim, ids, matrix, params))
    say(f"IVF ({params.nlist(size)} lists, nprobe {params.nprobe}): {ivf_s:.1f} s")
    with tempfile.TemporaryDirectory(prefix="briefbot-scale-") as temp:
        memory = {
            "exact": memory_per_chunk(flat, lexical, size, Path(temp)),
            "approximate": memory_per_chunk(ivf, lexical, size, Path(temp)),
        }
    exact = Built(VectorSegments(flat), LexicalSegments(lexical))
    approximate = Built(VectorSegments(ivf), LexicalSegments(lexical, sparse=True))
    source = SyntheticPassages(collection)
    asked = questions(plan, collection)
    embedder.encode(["warm up"])
    ask_all(exact, source, asked[:5], embedder, 10)  # first calls build lazy maps: not timed
    ask_all(approximate, source, asked[:5], embedder, 10)
    exact_ms, exact_top = ask_all(exact, source, asked, embedder, 10)
    approx_ms, approx_top = ask_all(approximate, source, asked, embedder, 10)
    vectors = [embedder.encode([q])[0] for q in asked]
    dense_exact = [[i for i, _ in flat.search(v, 10)] for v in vectors]
    figures = {
        "chunks": size,
        "dimension": dim,
        "synthesize_seconds": round(synth_s, 1),
        "build_seconds": {
            "bm25s": round(lexical_s, 1),
            "flat": round(flat_s, 2),
            "ivf": round(ivf_s, 1),
        },
        "memory_bytes_per_chunk": memory,
        "ivf": {"nlist": params.nlist(size), "nprobe": params.nprobe},
        "answer_ms": {"exact": percentiles(exact_ms), "approximate": percentiles(approx_ms)},
        "step_ms": {
            "encode": step_ms(lambda q: embedder.encode([q]), asked),
            "dense_exact": step_ms(lambda v: flat.search(v, 50), vectors),
            "dense_ivf": step_ms(lambda v: ivf.search(v, 50), vectors),
            "lexical_full": step_ms(lambda q: exact.lexical.candidates(q, 50, ()), asked),
            "lexical_top_k": step_ms(lambda q: approximate.lexical.candidates(q, 50, ()), asked),
            "bm25s_retrieve": step_ms(lambda q: bm25s_retrieve(lexical, q), asked[:20]),
        },
        "recall_at_10": {
            "dense": overlap(top_ten(ivf, vectors), dense_exact),
            "answer_path": overlap(approx_top, exact_top),
        },
        "nprobe_sweep": sweep(plan.nprobe_sweep, ivf.set_nprobe, ivf, vectors, dense_exact),
    }
    ivf.set_nprobe(params.nprobe)
    if with_hnsw:
        figures["hnsw"] = hnsw_alternative(plan, ids, matrix, vectors, dense_exact)
    report_size(figures)
    return figures


def top_ten(index: Any, vectors: list[np.ndarray]) -> list[list[int]]:
    """The 10 best of the 50 candidates retrieval asks the dense side for."""
    return [[i for i, _ in index.search(v, 50)][:10] for v in vectors]


def bm25s_retrieve(lexical: Any, question: str) -> Any:
    """bm25s's own top-k (`BM25.retrieve`), timed for the record: not what Briefbot uses."""
    from index.lexical import tokenize

    retriever = lexical._retriever
    terms = [t for t in tokenize([question])[0] if t in retriever.vocab_dict]
    return retriever.retrieve([terms], k=50, show_progress=False, n_threads=0) if terms else None


def sweep(
    values: Sequence[int],
    setter: Callable[[int], None],
    index: Any,
    vectors: list[np.ndarray],
    exact: list[list[int]],
) -> list[dict[str, Any]]:
    """Recall@10 and time of the dense search per value of its breadth (nprobe, efSearch)."""
    rows = []
    for value in values:
        setter(value)
        timing = step_ms(lambda v: index.search(v, 50), vectors)
        rows.append({"value": value, "recall_at_10": overlap(top_ten(index, vectors), exact)})
        rows[-1]["ms"] = timing
        say(f"  {value}: recall@10 {rows[-1]['recall_at_10']:.4f}, p50 {timing['p50']} ms")
    return rows


class _Graph:
    """FAISS HNSW (ids are rows + 1, as the synthetic chunk ids) with VectorIndex's search."""

    def __init__(self, index: Any) -> None:
        self.index = index

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        scores, rows = self.index.search(query.reshape(1, -1), k)
        return [(int(r) + 1, float(s)) for r, s in zip(rows[0], scores[0], strict=True)]

    def set_ef_search(self, value: int) -> None:
        self.index.hnsw.efSearch = value


def hnsw_alternative(
    plan: Plan,
    ids: np.ndarray,
    matrix: np.ndarray,
    vectors: list[np.ndarray],
    exact: list[list[int]],
) -> dict[str, Any]:
    """The candidate not chosen: IndexHNSWFlat (M 32, efConstruction 64) built on every core;
    recall@10 and time per efSearch."""
    import faiss

    from index.vectors import _every_core

    started = time.perf_counter()
    graph = faiss.IndexHNSWFlat(matrix.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = 64
    with _every_core():
        graph.add(matrix)
    build = time.perf_counter() - started
    say(f"HNSW (M 32, efConstruction 64) built in {build:.1f} s; efSearch:")
    index = _Graph(graph)
    rows = sweep(plan.ef_sweep, index.set_ef_search, index, vectors, exact)
    return {"m": 32, "ef_construction": 64, "build_seconds": round(build, 1), "ef_sweep": rows}


def report_size(f: dict[str, Any]) -> None:
    exact, approximate = f["answer_ms"]["exact"], f["answer_ms"]["approximate"]
    say(
        f"answer p50 exact {exact['p50']} ms, approximate {approximate['p50']} ms "
        f"(p95 {exact['p95']} / {approximate['p95']})"
    )
    p50 = {name: timing["p50"] for name, timing in f["step_ms"].items()}
    say(
        f"steps p50: encode {p50['encode']} ms; dense exact {p50['dense_exact']} ms, "
        f"IVF {p50['dense_ivf']} ms; lexical full array {p50['lexical_full']} ms, "
        f"top-k over matching chunks {p50['lexical_top_k']} ms (bm25s retrieve "
        f"{p50['bm25s_retrieve']} ms)"
    )
    recall = f["recall_at_10"]
    say(f"recall@10: dense {recall['dense']}, answer path {recall['answer_path']}")
    say(f"memory bytes/chunk: {f['memory_bytes_per_chunk']}; build s: {f['build_seconds']}")


def verdicts(sizes: dict[str, Any]) -> list[str]:
    lines = []
    for size, f in sizes.items():
        p50, recall = f["answer_ms"]["approximate"]["p50"], f["recall_at_10"]["dense"]
        ok = p50 <= TARGET_P50_MS and recall >= TARGET_RECALL
        lines.append(
            f"{int(size):>9,} chunks: approximate answer p50 {p50} ms "
            f"(target <= {TARGET_P50_MS:g}), recall@10 {recall} (target >= {TARGET_RECALL}): "
            f"{'met' if ok else 'NOT met'}"
        )
    return lines


# -- sections -----------------------------------------------------------------------------
@dataclass
class Results:
    plan: dict[str, Any]
    machine: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)


def run_collections(args: argparse.Namespace) -> dict[str, Any]:
    from index.embedder_factory import make_embedder
    from index.settings import IndexSettings

    plan = QUICK if args.quick else FULL
    if args.sizes:
        plan = replace(plan, sizes=tuple(args.sizes))
    embedder = make_embedder(IndexSettings(embedding_model=plan.model))
    sizes = {}
    for size in plan.sizes:
        sizes[str(size)] = measure_size(plan, size, embedder, args.hnsw)
        gc.collect()
    say("\n".join(verdicts(sizes)))
    return {"plan": asdict(plan), "sizes": sizes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sections = parser.add_subparsers(dest="section", required=True)
    big = sections.add_parser("collections", help="exact vs approximate search at 100k and 1M")
    big.add_argument("--quick", action="store_true", help="seconds: test embedder, tiny size")
    big.add_argument("--sizes", type=int, nargs="+", help="chunks per collection")
    big.add_argument("--json", type=Path, help="write all figures here")
    big.add_argument("--hnsw", action="store_true", help="measure HNSW too (slow to build)")
    pg = sections.add_parser("pg", help="PostgreSQL: two processes, one database")
    pg_store.add_arguments(pg)
    pg.add_argument("--json", type=Path, help="write all figures here")
    probe = sections.add_parser("probe-rss", help=argparse.SUPPRESS)
    probe.add_argument("work", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    quiet_offline_libraries()
    if args.section == "probe-rss":
        print(json.dumps(probe_rss(args.work)))
        return 0
    started = time.perf_counter()
    results = Results({}, machine())
    if args.section == "collections":
        results.figures["collections"] = run_collections(args)
    if args.section == "pg":
        results.figures["pg"] = pg_store.measure(args.articles, args.url, args.rounds)
        say(json.dumps(results.figures["pg"], indent=2))
    results.figures["wall_seconds"] = round(time.perf_counter() - started, 1)
    results.machine["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    say(f"wall: {results.figures['wall_seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(vars(results), indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
