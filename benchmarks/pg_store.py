"""The PostgreSQL store against SQLite, with the fake embedder (hashing:64) so the store, not
the model, is what is measured: the per-question change-id check, adds and answers per
second, two writer processes on one database, and how soon an article added by one process
is answerable from another (docs/SCALING.md, "Running at scale").

    python -m benchmarks.pg_store [--articles 200] [--url postgresql://...]

Without --url (or BRIEFBOT_BENCH_POSTGRES_URL) a private cluster is started in a temp folder
(tests/pg_server.py: Debian's initdb/pg_ctl) and removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bot.settings import Settings
from index.embedding import HashingEmbedder
from index.knowledge import KnowledgeBase
from index.models import RawArticle

ROOT = Path(__file__).resolve().parents[1]
WRITER = """
import sys, time
from bot.settings import Settings
from index.knowledge import KnowledgeBase
from benchmarks.pg_store import story
kb = KnowledgeBase(Settings())
for line in sys.stdin:
    tag, first, count = line.split()
    start = time.perf_counter()
    for n in range(int(first), int(first) + int(count)):
        kb.add([story(n, tag)])
    print(f"{time.perf_counter() - start:.6f}", flush=True)
"""


def story(n: int, tag: str = "s") -> RawArticle:
    """A short article with words of its own (found by them, and by nothing else)."""
    words = " ".join(f"{tag}w{n}x{i}" for i in range(40))
    text = f"Dispatch {tag}{n}: the harbour reopened after the storm. {words}. Ships returned."
    return RawArticle(text=text, title=f"{tag} {n}", source="Wire", origin=f"{tag}{n}")


@contextlib.contextmanager
def server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from tests.pg_server import pg_bin, private_cluster

    bin_dir = pg_bin()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL binaries: give --url or install postgresql")
    with private_cluster(bin_dir) as cluster, cluster.database() as database:
        yield database


def knowledge(data_dir: Path, url: str | None) -> KnowledgeBase:
    settings = Settings(data_dir=data_dir, store_url=url)
    return KnowledgeBase(settings, embedder=HashingEmbedder())


def per_call_ms(call: object, rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        call()  # type: ignore[operator]
    return (time.perf_counter() - start) / rounds * 1000


def one_process(root: Path, url: str | None, articles: int) -> dict[str, float]:
    kb = knowledge(root, url)
    start = time.perf_counter()
    for n in range(articles):
        kb.add([story(n)])
    adds = articles / (time.perf_counter() - start)
    check = per_call_ms(lambda: kb.store.change_id("default"), 500)
    kb.retrieve("default", "harbour s1 reopened")  # caches loaded
    start = time.perf_counter()
    for n in range(articles):
        kb.retrieve("default", f"sw{n}x3 harbour")
    answers = articles / (time.perf_counter() - start)
    kb.close()
    return {
        "adds_per_s": round(adds, 1),
        "answers_per_s": round(answers, 1),
        "change_check_ms": round(check, 3),
    }


def writer(data_dir: Path, url: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "BRIEFBOT_DATA_DIR": str(data_dir),
        "BRIEFBOT_STORE_URL": url,
        "BRIEFBOT_EMBEDDING_MODEL": "hashing:64",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-c", WRITER],
        env=env,
        cwd=ROOT,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )


def two_writers(root: Path, url: str, articles: int) -> float:
    """Adds per second of two processes (own data dirs) writing into one database at once."""
    procs = [writer(root / tag, url) for tag in ("p", "q")]
    for proc in procs:  # started (imports done) before the clock starts
        assert proc.stdin and proc.stdout
        proc.stdin.write(f"{'warm' + str(id(proc))} 0 1\n")
        proc.stdin.flush()
        proc.stdout.readline()
    start = time.perf_counter()
    for tag, proc in zip(("p", "q"), procs, strict=True):
        assert proc.stdin
        proc.stdin.write(f"{tag} 0 {articles // 2}\n")
        proc.stdin.flush()
    for proc in procs:
        assert proc.stdout
        proc.stdout.readline()
    elapsed = time.perf_counter() - start
    for proc in procs:
        assert proc.stdin
        proc.stdin.close()
        proc.wait(timeout=60)
    return round(articles / elapsed, 1)


def visibility(root: Path, url: str, rounds: int) -> dict[str, float]:
    """Seconds from a writer process reporting an add to this process answering from it."""
    proc = writer(root / "w", url)
    reader = knowledge(root / "r", url)
    assert proc.stdin and proc.stdout
    waits = []
    for n in range(rounds):
        proc.stdin.write(f"v {n} 1\n")
        proc.stdin.flush()
        if not proc.stdout.readline():
            raise SystemExit("the writer process stopped")
        reported = time.perf_counter()
        while time.perf_counter() - reported < 30:
            found = reader.retrieve("default", f"Dispatch v{n} vw{n}x7", 5).passages
            if any(p.article.title == f"v {n}" for p in found):
                break
        else:
            raise SystemExit(f"article v {n} not answerable after 30 s")
        waits.append(time.perf_counter() - reported)
    proc.stdin.close()
    proc.wait(timeout=60)
    reader.close()
    waits.sort()
    return {
        "p50_ms": round(statistics.median(waits) * 1000, 1),
        "p95_ms": round(waits[int(0.95 * (len(waits) - 1))] * 1000, 1),
        "max_ms": round(waits[-1] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--url", default=os.environ.get("BRIEFBOT_BENCH_POSTGRES_URL"))
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder, server(args.url) as url:
        root = Path(folder)
        results["sqlite"] = one_process(root / "sqlite", None, args.articles)
        results["postgresql"] = one_process(root / "pg", url, args.articles)
        results["postgresql_two_writers_adds_per_s"] = two_writers(root, url, args.articles)
        results["visible_from_another_process"] = visibility(root, url, 40)
    results["load_average"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
