"""Try hard to lose or corrupt articles; report whether anything was lost or corrupted.

    python -m benchmarks.torture [--kills 100] [--processes 8] [--adds 20] [--seed 7]

Three phases, each on a fresh data dir, all with the test embedder (`hashing:64`, so the figures
measure the storage, not a model):

1. kills: `briefbot add --json` on a folder of generated articles, SIGKILLed at seeded random
   moments (half at a random time after start, half just after the n-th "added" line). After
   every kill the data dir must open, the caches rebuild themselves, `verify` pass, every article
   reported as added be there whole, and nothing be stored that is not one of the articles.
2. concurrency: N processes each adding M articles one by one (and searching between adds) on
   one data dir: exactly N*M articles at the end, distinct ids, `verify` passing.
3. reindex kills: `briefbot reindex` to another model, SIGKILLed at random moments, then run to
   completion: the store is on one model or the other, never a mix, and `verify` passes.

The test suite runs the same functions at a small scale (tests/index/test_torture.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.knowledge import KnowledgeBase
    from index.models import Article

ROOT = Path(__file__).resolve().parents[1]
MODEL = "hashing:64"
_VOCABULARY = (
    "officials said troops border minister election budget court ruling strike port workers "
    "hospital systems attack council vote rates inflation bank river flood evacuation fire "
    "highway residents police report figures percent million talks agreement deadline city"
)
_WORDS = _VOCABULARY.split()  # noqa: SIM905 (a sentence reads better than 35 quoted words)


# -- corpus ---------------------------------------------------------------------------------
def article_text(tag: str, rng: random.Random, sentences: int = 14) -> str:
    """A small article with a unique tag: several chunks, content no other article shares."""
    body = []
    for i in range(sentences):
        words = rng.sample(_WORDS, 9)
        body.append(f"{words[0].capitalize()} {' '.join(words[1:])} {tag} item {i}.")
    return f"Report {tag}\n\n" + " ".join(body) + f"\n\nSource: Torture Wire {tag}\n"


def make_corpus(folder: Path, prefix: str, count: int, rng: random.Random) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"{prefix}-{n:04d}.txt"
        path.write_text(article_text(f"{prefix}x{n}", rng), encoding="utf-8")
        paths.append(path)
    return paths


def child_env(data_dir: Path, model: str = MODEL) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        BRIEFBOT_DATA_DIR=str(data_dir),
        BRIEFBOT_EMBEDDING_MODEL=model,
        PYTHONPATH=str(ROOT),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", *args]


# -- checking -------------------------------------------------------------------------------
@dataclass
class Check:
    """What a data dir holds after the torture, against what was promised."""

    expected: int = 0  # articles reported as added
    found: int = 0  # of those, present with the same content
    stored: int = 0  # articles in the store
    foreign: int = 0  # stored articles that are none of the corpus's (garbage)
    verify_ok: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verify_ok and self.found == self.expected and not self.foreign


def check_data_dir(
    data_dir: Path, reported: dict[int, str], allowed_hashes: set[str], model: str = MODEL
) -> Check:
    """Open the data dir like a fresh process would and check every promise."""
    from index.knowledge import KnowledgeBase
    from index.settings import IndexSettings

    result = Check(expected=len(reported))
    kb = KnowledgeBase(IndexSettings(data_dir=data_dir, embedding_model=model))
    try:
        for collection in kb.store.collections():
            kb.caches.get(collection)  # the automatic rebuild a start-up does
        report = kb.verify()
        result.verify_ok = report.ok
        result.problems.extend(report.problems)
        stored = {a.id: a for c in kb.store.collections() for a in kb.list(c, limit=10**9)}
        result.stored = len(stored)
        result.found = sum(
            1 for i, h in reported.items() if i in stored and stored[i].content_hash == h
        )
        result.foreign = sum(1 for a in stored.values() if a.content_hash not in allowed_hashes)
        result.problems.extend(_whole_articles(kb, stored.values()))
        result.verify_ok = result.verify_ok and not result.problems
    finally:
        kb.close()
    return result


def _whole_articles(kb: KnowledgeBase, articles: Iterable[Article]) -> list[str]:
    """Every article has chunks, every chunk quotes its article and has a full vector."""
    problems = []
    conn = kb.store._conn()
    dimension = kb.embedder.dimension
    for article in articles:
        text = kb.store.article_text(article.id)
        rows = conn.execute(
            "SELECT start, end, text, length(vector) FROM chunks WHERE article_id = ?",
            (article.id,),
        ).fetchall()
        if not rows:
            problems.append(f"article #{article.id} has no chunks")
        for start, end, chunk, size in rows:
            if text[start:end] != chunk or size != dimension * 4:
                problems.append(f"article #{article.id}: a chunk is damaged")
    return problems


def corpus_hashes(paths: Iterable[Path]) -> set[str]:
    from index.ingest.files import read_article_file
    from index.knowledge import content_hash
    from index.normalize import normalize

    return {content_hash(normalize(read_article_file(p).text).text) for p in paths}


def parse_added(output: bytes) -> dict[int, str]:
    """{article id: content hash} of every complete `--json` line saying "added"."""
    added: dict[int, str] = {}
    for line in output.decode("utf-8", "replace").splitlines(keepends=True):
        if not line.endswith("\n"):
            break  # cut by the kill mid-line: not a report
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if row.get("status") in ("added", "replaced") and row.get("article"):
            added[int(row["article"]["id"])] = str(row["article"]["content_hash"])
    return added


# -- phase 1: kills during add --------------------------------------------------------------
@dataclass
class KillReport:
    kills: int = 0
    finished_before_kill: int = 0
    reported: dict[int, str] = field(default_factory=dict)
    hashes: set[str] = field(default_factory=set)
    checks_failed: list[str] = field(default_factory=list)
    check: Check | None = None


def kill_adds(
    workdir: Path, kills: int, seed: int, per_run: int = 8, check_every: int = 1
) -> KillReport:
    """Run `briefbot add` on fresh articles until `kills` runs were SIGKILLed at random (a run
    that finishes before its moment comes is counted apart; at most 2 * kills runs)."""
    rng = random.Random(seed)
    data_dir = workdir / "data"
    report = KillReport()
    env = child_env(data_dir)
    for run in range(2 * kills):
        if report.kills >= kills:
            break
        folder = workdir / "corpus" / f"run{run:03d}"
        paths = make_corpus(folder, f"r{run}", per_run, rng)
        # Every few runs, re-add an earlier folder too: duplicates must stay "unchanged".
        sources = [str(folder)] + ([str(workdir / "corpus" / "run000")] if run % 5 == 4 else [])
        report.hashes |= corpus_hashes(paths)
        proc = subprocess.Popen(
            _cli("add", *sources, "--json"),
            env=env,
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        output = _kill_at_random(proc, rng, per_run)
        report.kills += proc.returncode == -signal.SIGKILL
        report.finished_before_kill += proc.returncode != -signal.SIGKILL
        report.reported.update(parse_added(output))
        if check_every and run % check_every == check_every - 1:
            check = check_data_dir(data_dir, report.reported, report.hashes)
            if not check.ok:
                report.checks_failed.append(f"after run {run}: {check}")
    report.check = check_data_dir(data_dir, report.reported, report.hashes)
    return report


def _kill_at_random(proc: subprocess.Popen[bytes], rng: random.Random, lines: int) -> bytes:
    """Half the runs die at a random time, half right after a random number of reports."""
    assert proc.stdout is not None
    output = b""
    if rng.random() < 0.5:
        time.sleep(rng.uniform(0.2, 2.5))
    else:
        wanted = rng.randint(0, lines)
        deadline = time.monotonic() + 30
        while output.count(b"\n") < wanted and time.monotonic() < deadline:
            chunk = proc.stdout.readline()
            if not chunk:
                break
            output += chunk
        time.sleep(rng.uniform(0, 0.02))
    proc.send_signal(signal.SIGKILL)
    output += proc.stdout.read()
    proc.wait(timeout=30)
    return output


# -- phase 2: concurrent writers ------------------------------------------------------------
@dataclass
class ConcurrencyReport:
    processes: int
    adds_each: int
    expected: int
    ids_reported: int
    distinct_ids: int
    failures: list[str]
    check: Check


def concurrent_adds(workdir: Path, processes: int, adds_each: int, seed: int) -> ConcurrencyReport:
    data_dir = workdir / "data"
    workdir.mkdir(parents=True, exist_ok=True)
    env = child_env(data_dir)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.torture", "worker", "--tag", f"p{p}"]
            + ["--count", str(adds_each), "--seed", str(seed + p)],
            env=env,
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for p in range(processes)
    ]
    rows, failures = [], []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        if proc.returncode:
            failures.append(err.decode("utf-8", "replace")[-500:])
        rows += [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    failures += [r["error"] for r in rows if r.get("error")]
    reported = {int(r["id"]): str(r["content_hash"]) for r in rows if r.get("id")}
    check = check_data_dir(data_dir, reported, {r["content_hash"] for r in rows if r.get("id")})
    return ConcurrencyReport(
        processes,
        adds_each,
        processes * adds_each,
        sum(1 for r in rows if r.get("id")),
        len(reported),
        failures,
        check,
    )


def worker(tag: str, count: int, seed: int) -> int:
    """One writer process: `count` separate adds, a search after each, one JSON line per add."""
    from index.knowledge import KnowledgeBase
    from index.models import RawArticle
    from index.settings import IndexSettings

    rng = random.Random(seed)
    kb = KnowledgeBase(IndexSettings())
    try:
        for n in range(count):
            text = article_text(f"{tag}x{n}", rng).split("\n\n", 1)[1]
            outcome = kb.add([RawArticle(text=text, title=f"{tag} {n}", origin=f"{tag}-{n}")])[0]
            row: dict[str, object] = {"status": outcome.status, "error": outcome.error}
            if outcome.article:
                row |= {"id": outcome.article.id, "content_hash": outcome.article.content_hash}
            for passage in kb.retrieve("default", f"{tag}x{n} officials", k=3).passages:
                whole = kb.store.article_text(passage.article.id)
                if whole[passage.start : passage.end] != passage.text:
                    row["error"] = f"passage of #{passage.article.id} does not quote its article"
            print(json.dumps(row), flush=True)
    finally:
        kb.close()
    return 0


# -- phase 3: kills during reindex ----------------------------------------------------------
@dataclass
class ReindexKillReport:
    kills: int
    final_model: str
    check: Check


def kill_reindex(workdir: Path, kills: int, seed: int, articles: int = 40) -> ReindexKillReport:
    """Fill a data dir with `hashing:64`, then reindex to `hashing:32` with random kills."""
    rng = random.Random(seed)
    data_dir = workdir / "data"
    workdir.mkdir(parents=True, exist_ok=True)
    paths = make_corpus(workdir / "corpus", "ri", articles, rng)
    subprocess.run(
        _cli("add", str(workdir / "corpus"), "--json"),
        env=child_env(data_dir),
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    from index.knowledge import KnowledgeBase
    from index.settings import IndexSettings

    kb = KnowledgeBase(IndexSettings(data_dir=data_dir, embedding_model=MODEL))
    reported = {a.id: a.content_hash for a in kb.list("default", limit=10**9)}
    kb.close()
    done = 0
    new_env = child_env(data_dir, "hashing:32")
    for _ in range(kills):
        proc = subprocess.Popen(
            _cli("reindex"), env=new_env, cwd=workdir, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(0.3, 2.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        done += proc.returncode == -signal.SIGKILL
        model = _stored_model(data_dir)
        check = check_data_dir(data_dir, reported, corpus_hashes(paths), model)
        if not check.ok:
            return ReindexKillReport(done, model, check)
    subprocess.run(_cli("reindex"), env=new_env, cwd=workdir, check=True, capture_output=True)
    model = _stored_model(data_dir)
    return ReindexKillReport(
        done, model, check_data_dir(data_dir, reported, corpus_hashes(paths), model)
    )


def _stored_model(data_dir: Path) -> str:
    import sqlite3

    conn = sqlite3.connect(data_dir / "briefbot.sqlite3")
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'model'").fetchone()
    finally:
        conn.close()
    return str(row[0])


# -- entry point ----------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.torture", description=__doc__)
    sub = parser.add_subparsers(dest="mode")
    run = sub.add_parser("run", help="the whole torture (default)")
    work = sub.add_parser("worker", help="internal: one concurrent writer")
    work.add_argument("--tag", required=True)
    work.add_argument("--count", type=int, required=True)
    work.add_argument("--seed", type=int, default=0)
    for p in (parser, run):
        p.add_argument("--kills", type=int, default=100)
        p.add_argument("--reindex-kills", type=int, default=10)
        p.add_argument("--processes", type=int, default=8)
        p.add_argument("--adds", type=int, default=20)
        p.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.mode == "worker":
        return worker(args.tag, args.count, args.seed)
    return _torture(args)


def _torture(args: argparse.Namespace) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    ok = True
    with tempfile.TemporaryDirectory(prefix="briefbot-torture-") as tmp:
        started = time.monotonic()
        kills = kill_adds(Path(tmp) / "kills", args.kills, args.seed, check_every=5)
        assert kills.check is not None
        ok &= kills.check.ok and not kills.checks_failed
        print(f"kills: {kills.kills} SIGKILLs ({kills.finished_before_kill} runs finished first)")
        print(
            f"  articles reported added: {kills.check.expected}, found whole: {kills.check.found}, "
            f"stored: {kills.check.stored} (the rest committed before their report was printed), "
            f"foreign: {kills.check.foreign}"
        )
        verdict = _verdict(kills.checks_failed, kills.check)
        print(f"  verify after every 5 kills and at the end: {verdict}")
        print(f"  {time.monotonic() - started:.0f} s")

        started = time.monotonic()
        conc = concurrent_adds(Path(tmp) / "concurrency", args.processes, args.adds, args.seed)
        ok &= conc.check.ok and not conc.failures and conc.check.stored == conc.expected
        print(f"concurrency: {conc.processes} processes x {conc.adds_each} adds")
        print(
            f"  articles expected: {conc.expected}, reported: {conc.ids_reported}, "
            f"distinct ids: {conc.distinct_ids}, stored: {conc.check.stored}, "
            f"found: {conc.check.found}, failures: {len(conc.failures)}"
        )
        print(f"  verify: {_verdict(conc.failures, conc.check)}")
        print(f"  {time.monotonic() - started:.0f} s")

        started = time.monotonic()
        ri = kill_reindex(Path(tmp) / "reindex", args.reindex_kills, args.seed)
        ok &= ri.check.ok and ri.final_model == "hashing:32"
        print(f"reindex: {ri.kills} SIGKILLs during `briefbot reindex`, then a full run")
        print(
            f"  final model: {ri.final_model}, articles expected: {ri.check.expected}, "
            f"found: {ri.check.found}, verify: {_verdict([], ri.check)}"
        )
        print(f"  {time.monotonic() - started:.0f} s")
    print("RESULT:", "nothing lost, nothing corrupted" if ok else "FAILURES, see above")
    return 0 if ok else 1


def _verdict(failures: list[str], check: Check) -> str:
    if not failures and check.ok:
        return "ok"
    return "FAILED: " + "; ".join(failures[:3] + check.problems[:3])


if __name__ == "__main__":
    raise SystemExit(main())
