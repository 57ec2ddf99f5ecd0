"""How well the cache budget's estimate (`index.caches.estimated_bytes`, what
BRIEFBOT_CACHE_MAX_MB is compared with) matches what holding a collection really costs.

A real collection: the SQuAD articles of speed.py embedded by the bundled model, grown with
speed.py's `synthesize` (real sentences, real vectors with a little noise) to each size asked.
For each size a fresh process loads the model, warms up everything a question touches on an
empty collection, then loads the collection's saved caches and answers one question (which
builds the id -> position maps); the RSS it gained is compared with the estimate. Then the
collection is dropped (a budget of one byte) and the RSS given back is printed too.

    python -m benchmarks.cache_memory --chunks 10000 40000
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import speed, squad
from index.offline import quiet_offline_libraries
from index.settings import BUNDLED_MODEL

QUESTION = "What did the government announce about the budget?"


def probe(data_dir: Path, model: str) -> dict[str, Any]:
    """(in a fresh child process) RSS gained by holding the collection 'default'."""
    from bot.settings import Settings
    from index.caches import estimated_bytes
    from index.knowledge import KnowledgeBase

    settings = Settings(
        data_dir=data_dir,
        embedding_model=model,
        model_cache_dir=speed.model_cache(data_dir),
        cache_max_mb=1 / 2**20,  # one byte: each collection used drops the one before
    )
    kb = KnowledgeBase(settings)
    kb.retrieve("empty", QUESTION)  # model, libraries, tokenizer, SQLite: all warm
    gc.collect()
    before = speed.rss_mb()
    kb.retrieve("default", QUESTION)
    cache = kb.caches.get("default")
    gc.collect()
    holding = speed.rss_mb()
    estimate = estimated_bytes(cache) / 2**20
    chunks = cache.vectors.size
    parts = estimate_parts(cache)
    del cache
    kb.retrieve("empty", QUESTION)  # 'default' is dropped: nothing refers to it any more
    gc.collect()
    dropped = speed.rss_mb()
    gained = holding - before
    return {
        "chunks": chunks,
        "estimate_mb": round(estimate, 1),
        "rss_gained_mb": round(gained, 1),
        "error_pct": round(100 * (estimate - gained) / gained, 1),
        "rss_given_back_mb": round(holding - dropped, 1),
        **parts,
    }


def estimate_parts(cache: Any) -> dict[str, Any]:
    """What the estimate is made of: vectors, bm25s arrays (MB) and the vocabulary's size."""
    retriever = cache.lexical.main._retriever
    arrays = sum(a.nbytes for a in retriever.scores.values() if hasattr(a, "nbytes"))
    return {
        "vectors_mb": round(cache.vectors.size * cache.vectors.dimension * 4 / 2**20, 1),
        "bm25s_arrays_mb": round(arrays / 2**20, 1),
        "vocabulary": len(retriever.vocab_dict),
    }


def build(data_dir: Path, model: str, squad_path: Path) -> None:
    """The SQuAD articles, embedded by the model (the real sentences synthesize draws on)."""
    articles, _ = squad.load(squad_path)
    folder = data_dir.parent / "articles"
    speed.write_folder(articles, folder)
    service, _ = speed.make_service(data_dir, model)
    service.add_sources([str(folder)])
    service.close()


def grow(data_dir: Path, model: str, chunks: int) -> None:
    service, _ = speed.make_service(data_dir, model)
    speed.synthesize(service.knowledge, chunks, random.Random(chunks), noise=0.01)
    service.close()


def main(argv: list[str] | None = None) -> int:
    quiet_offline_libraries()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[10_000, 40_000])
    parser.add_argument("--model", default=BUNDLED_MODEL)
    parser.add_argument("--squad", type=Path, default=squad.DEFAULT_PATH)
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.probe, args.model)))
        return 0
    with tempfile.TemporaryDirectory(prefix="briefbot-cache-memory-") as work:
        data_dir = Path(work) / "data"
        build(data_dir, args.model, args.squad)
        for size in sorted(args.chunks):
            grow(data_dir, args.model, size)
            result = subprocess.run(
                [sys.executable, "-m", "benchmarks.cache_memory", "--probe", str(data_dir)],
                env=speed.child_env(data_dir, args.model),
                cwd=speed.ROOT,
                capture_output=True,
                text=True,
                timeout=900,
                check=True,
            )
            print(result.stdout.strip().splitlines()[-1], flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
