"""The PostgreSQL store against SQLite, with the fake embedder (hashing:64) so the store, not
the model, is what is measured: the per-question change-id check, adds and answers per
second, two writer processes on one database, and how soon an article added by one process
is answerable from another (docs/SCALING.md, "Running at scale").

    python -m benchmarks.scale pg [--articles 200] [--rounds 40] [--url postgresql://...]
    python -m benchmarks.pg_store ...    (the same, by its older name)

Also measured: the first question in another process after an add, with and without that
process's change listener (index/pg_notify.py), and how soon the listener has the caches
current with no question asked.

Without --url (or BRIEFBOT_BENCH_POSTGRES_URL) a private cluster is started in a temp folder
(tests/pg_server.py: Debian's initdb/pg_ctl) and removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks import speed
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


def timed(call: Callable[..., Any], *args: object) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = call(*args)
    return time.perf_counter() - start, result


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
    return percentiles(waits)


def percentiles(seconds: list[float]) -> dict[str, float]:
    """Milliseconds: p50, p95, p99, mean, n (as every benchmark prints them) and the max."""
    return speed.percentiles([x * 1000 for x in seconds]) | {"max": round(max(seconds) * 1000, 2)}


def held_change(kb: KnowledgeBase) -> int:
    cache = kb.caches.peek("default")
    return cache.change_id if cache is not None else -1


def after_an_add(root: Path, url: str, rounds: int, listen: bool, gap: float) -> dict[str, Any]:
    """The other process's side of an add, with or without its change listener: how long the
    first question after the add takes when it comes `gap` seconds after the writer reported
    it (without the listener it pays for the caches' catch-up; with it, the catch-up was done
    ahead), against a question when nothing changed; and with the listener, how soon the held
    caches were current with no question asked."""
    name = "listening" if listen else "polling"
    tag = name[:3]  # words of its own: found by them, never an article of another section
    proc = writer(root / f"w-{name}", url)
    reader = knowledge(root / f"r-{name}", url)
    reader.retrieve("default", "harbour reopened")  # the collection's caches held here
    if listen:
        reader.start_listening()
        assert reader.wait_listening(30), "the listener did not connect"
    assert proc.stdin and proc.stdout
    firsts: list[float] = []
    refreshed: list[float] = []
    for n in range(rounds):
        before = held_change(reader)
        proc.stdin.write(f"{tag} {n} 1\n")
        proc.stdin.flush()
        if not proc.stdout.readline():
            raise SystemExit("the writer process stopped")
        reported = time.perf_counter()
        while listen and held_change(reader) <= before:
            if time.perf_counter() - reported > 30:
                raise SystemExit("the listener did not refresh the caches within 30 s")
            time.sleep(0.0005)
        if listen:
            refreshed.append(time.perf_counter() - reported)
        time.sleep(max(0.0, reported + gap - time.perf_counter()))
        question = f"Dispatch {tag}{n} {tag}w{n}x7"
        seconds, found = timed(reader.retrieve, "default", question, 5)
        firsts.append(seconds)
        if not any(p.article.title == f"{tag} {n}" for p in found.passages):
            raise SystemExit(f"article {tag} {n} not found by the first question")
    asked = [f"{tag}w{n}x3 harbour" for n in range(rounds)]
    unchanged = [timed(reader.retrieve, "default", question)[0] for question in asked]
    proc.stdin.close()
    proc.wait(timeout=60)
    reader.close()
    result: dict[str, Any] = {"first_question": percentiles(firsts)}
    result["question_nothing_changed"] = percentiles(unchanged)
    if listen:
        result["caches_current_without_a_question"] = percentiles(refreshed)
    return result


def measure(articles: int, url: str | None, rounds: int = 40, gap: float = 0.25) -> dict[str, Any]:
    """Every figure of this benchmark (`python -m benchmarks.scale pg` prints the same)."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder, server(url) as database:
        root = Path(folder)
        results["sqlite"] = one_process(root / "sqlite", None, articles)
        results["postgresql"] = one_process(root / "pg", database, articles)
        results["postgresql_two_writers_adds_per_s"] = two_writers(root, database, articles)
        results["visible_from_another_process"] = visibility(root, database, rounds)
        results["after_an_add_in_another_process"] = {
            "gap_s": gap,
            "without_listener": after_an_add(root, database, rounds, False, gap),
            "with_listener": after_an_add(root, database, rounds, True, gap),
        }
    results["load_average"] = os.getloadavg()[0]
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=40, help="adds timed from another process")
    parser.add_argument("--url", default=os.environ.get("BRIEFBOT_BENCH_POSTGRES_URL"))


def main() -> None:
    """The old name of `python -m benchmarks.scale pg`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args()
    print(json.dumps(measure(args.articles, args.url, args.rounds), indent=2))


if __name__ == "__main__":
    main()
