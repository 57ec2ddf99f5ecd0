"""Keeping the index and the bot running: stats, verify, reindex, run, feedback, migrate."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.output import at_least_one, console, emit
from bot.cli.registry import arg, command
from index.wording import counted

if TYPE_CHECKING:
    from bot.service import Briefbot
    from bot.settings import Settings


@command("stats", "counts for a collection")
def stats(app: Briefbot, args: argparse.Namespace) -> int:
    from bot import render

    data = render.stats_json(app.stats(args.collection))

    def human(out: Any) -> None:
        for key, value in data.items():
            out.print(f"{key:>10}: {value}")

    emit(args, data, human)
    return 0


@command(
    "verify",
    "check that the store and its caches agree",
    arg("--repair", action="store_true", help="rebuild caches that disagree"),
    arg("--all", action="store_true", help="every collection"),
)
def verify(app: Briefbot, args: argparse.Namespace) -> int:
    from bot import render

    report = app.verify(None if args.all else args.collection, args.repair)

    def human(out: Any) -> None:
        for line in report.repaired:
            out.print(f"[yellow]repaired[/yellow] {line}")
        for line in report.problems:
            out.print(f"[red]problem[/red] {line}")
        for line in report.notes:
            out.print(f"[dim]note[/dim] {line}")
        checked = ", ".join(f"{c}: {render.chunk_count(n)}" for c, n in report.checked.items())
        out.print(
            ("[green]ok[/green] " if report.ok else "[red]FAILED[/red] ")
            + (checked or "nothing stored yet")
        )

    emit(args, render.verify_json(report), human)
    return 0 if report.ok else 1


@command("reindex", "re-embed every article with the configured model (to change models)")
def reindex(app: Briefbot, args: argparse.Namespace) -> int:
    out = console()

    def report(done: int, total: int) -> None:
        if args.verbose and not args.json:
            out.print(f"embedded {done:,}/{counted(total, 'chunk')}", style="dim")

    result = app.reindex(report)
    data = {
        "model": result.model,
        "previous_model": result.previous_model,
        "chunks": result.chunks,
        "embedded": result.embedded,
        "collections": list(result.collections),
    }
    emit(
        args,
        data,
        lambda shown: shown.print(
            f"reindexed {counted(result.chunks, 'chunk')} in "
            f"{counted(len(result.collections), 'collection')} with "
            f"{result.model} (was {result.previous_model or 'nothing'})"
        ),
    )
    return 0


@command(
    "run",
    "start the Discord bot",
    arg(
        "--check",
        action="store_true",
        help="load everything and validate the commands, without connecting",
    ),
    uses_index=False,
    common=False,
    description="Start the Discord bot (DISCORD_TOKEN).",
)
def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.chat import runner

    return runner.check(settings) if args.check else runner.run(settings)


@command(
    "feedback",
    "recent questions the bot could not answer or that got a thumbs down",
    arg("-c", "--collection", help="only this collection (guild-<server id>)"),
    arg("--limit", type=int, default=50),
    arg("--json", action="store_true", help="machine-readable output"),
    uses_index=False,
    common=False,
    description="Recent questions the bot could not answer or that got a thumbs down.",
)
def feedback(settings: Settings, args: argparse.Namespace) -> int:
    from bot.feedback import FeedbackStore
    from index.knowledge import open_store

    store = FeedbackStore(open_store(settings))
    try:
        items = store.to_follow_up(args.collection, at_least_one("--limit", args.limit))
    finally:
        store.store.close()

    def human(out: Any) -> None:
        if not items:
            out.print("Nothing unanswered or disliked recently.")
        for item in items:
            label = "not answered" if item["kind"] == "abstained" else "thumbs down"
            out.print(
                f"{item['created_at'][:16].replace('T', ' ')}  {item['collection']}  {label}: "
                f"{item['question']}",
                markup=False,
            )

    emit(args, items, human)
    return 0


@command(
    "migrate",
    "copy this data dir's SQLite store into PostgreSQL (docs/SCALING.md)",
    arg("--to", metavar="URL", help="postgresql://user@host:port/db (default BRIEFBOT_STORE_URL)"),
    arg("--replace", action="store_true", help="empty a target that holds data first"),
    arg("--json", action="store_true", help="machine-readable output"),
    uses_index=False,
    common=False,
    description="Copy every collection, article, chunk, vector, feed and feedback row of the "
    "data dir's SQLite store into an empty PostgreSQL database in one transaction (all or "
    "nothing), keeping ids. Give the password with PGPASSWORD rather than in the URL.",
)
def migrate(settings: Settings, args: argparse.Namespace) -> int:
    from index.errors import InputError
    from index.knowledge import DB_FILE
    from index.migrate import migrate_store
    from index.pg_store import PgStore
    from index.settings import store_url_problem
    from index.store import Store

    url = args.to or (settings.store_url.get_secret_value() if settings.store_url else None)
    if not url:
        raise InputError("say where to: --to postgresql://user@host:port/db")
    problem = store_url_problem(url)
    if problem:
        raise InputError(f"--to: {problem}")
    path = settings.data_dir / DB_FILE
    if not path.is_file():
        raise InputError(f"no SQLite store to migrate at {path} (see --data-dir)")
    source, target = Store(path), PgStore(url)
    try:
        report = migrate_store(source, target, args.replace)
    finally:
        source.close()
        target.close()
    data = {"target": report.target, "replaced": report.replaced, "counts": report.counts}

    def human(out: Any) -> None:
        copied = ", ".join(f"{n:,} {table.replace('_', ' ')}" for table, n in report.counts.items())
        out.print(f"migrated {path} into {report.target}: {copied}")

    emit(args, data, human)
    return 0
