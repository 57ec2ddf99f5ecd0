"""Commands about articles: add, list, show, remove, export, import."""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.cli.output import any_failed, at_least_one, console, emit, outcome_counts, print_json
from bot.cli.registry import arg, command
from index.wording import counted

if TYPE_CHECKING:
    from bot.service import Briefbot


def _date(value: str) -> date:
    from index.ingest.text import parse_date

    parsed = parse_date(value)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD)")
    return parsed


def _check_single_article_options(args: argparse.Namespace) -> None:
    """--title and --url name one article: given several, every one would get the same title
    (and the same URL, so each would replace the last). --source and --published may apply to
    many."""
    from pathlib import Path

    from index.errors import InputError

    given = [f"--{name}" for name in ("title", "url") if getattr(args, name)]
    several = len(args.sources) > 1 or any(Path(s).is_dir() for s in args.sources)
    if given and several:
        verb = "apply" if len(given) > 1 else "applies"
        raise InputError(f"{' and '.join(given)} {verb} to one article; add the sources one by one")


@command(
    "add",
    "add articles from links, files or folders (.txt, .md, .html, .pdf)",
    arg("sources", nargs="+", metavar="SOURCE", help="http(s) link, file or folder"),
    arg("--title", help="title (overrides the file's)"),
    arg("--source", help="outlet, e.g. 'Reuters' (overrides the file's)"),
    arg("--url", help="link to the original article"),
    arg("--published", type=_date, help="publication date, YYYY-MM-DD"),
    arg(
        "--allow-duplicate",
        action="store_true",
        help="store a near-identical copy of a stored article (e.g. syndicated) anyway",
    ),
)
def add(app: Briefbot, args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from bot import render
    from bot.cli import terminal
    from index.models import Overrides

    _check_single_article_options(args)
    overrides = Overrides(args.title, args.source, args.url, args.published)
    shown = console()
    results = []
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("articles: {task.completed}"),
        TimeElapsedColumn(),
        console=shown,
        transient=True,
        disable=args.json or not shown.is_terminal,
    ) as progress:
        task = progress.add_task("adding", total=None)

        def report(outcome: Any) -> None:
            progress.advance(task)
            results.append(outcome)
            if args.json:
                print_json(render.outcome_json(outcome))
            else:
                progress.console.print(terminal.outcome_line(outcome))

        app.add_sources(
            args.sources,
            args.collection,
            overrides,
            progress=report,
            allow_duplicate=args.allow_duplicate,
        )
    if not args.json:
        shown.print(outcome_counts(results) or "nothing to add")
    return 1 if any_failed(results) else 0


@command(
    "list",
    "list articles, newest published first (undated last)",
    arg("--limit", type=int, default=100, help="at most this many"),
)
def list_articles(app: Briefbot, args: argparse.Namespace) -> int:
    from rich.table import Table

    from bot import render

    articles = app.list_articles(args.collection, at_least_one("--limit", args.limit))

    def human(out: Any) -> None:
        if not articles:
            out.print(f"No articles in collection '{args.collection}' yet.")
            return
        table = Table("id", "title", "source", "published", "chunks")
        for a in articles:
            row = (str(a.id), a.title, a.source or "", render.date_label(a), str(a.chunk_count))
            table.add_row(*row)
        out.print(table)

    emit(args, [render.article_json(a) for a in articles], human)
    return 0


@command("show", "show one article", arg("id", type=int))
def show(app: Briefbot, args: argparse.Namespace) -> int:
    from rich.markup import escape

    from bot import render

    article, text = app.article(args.id, args.collection)

    def human(out: Any) -> None:
        out.print(f"[bold]#{article.id} {escape(article.title)}[/bold]")
        out.print(
            f"{escape(article.source or 'unknown source')}, {render.date_label(article)}"
            f"{' - ' + escape(article.url) if article.url else ''}",
            style="dim",
        )
        chunks = render.chunk_count(article.chunk_count)
        out.print(f"{chunks}, added {article.added_at:%Y-%m-%d %H:%M} UTC\n", style="dim")
        out.print(escape(text))

    emit(args, {**render.article_json(article), "text": text}, human)
    return 0


@command("remove", "remove an article and its passages", arg("id", type=int))
def remove(app: Briefbot, args: argparse.Namespace) -> int:
    from bot import render

    article = app.remove(args.id, args.collection)
    emit(
        args,
        {"removed": render.article_json(article)},
        lambda out: out.print(f"removed #{article.id} {article.title}"),
    )
    return 0


@command(
    "export",
    "write a backup archive of a collection (articles, no caches)",
    arg("path", help="archive to write (gzip-compressed if it ends in .gz)"),
)
def export(app: Briefbot, args: argparse.Namespace) -> int:
    from pathlib import Path

    header = app.export(Path(args.path), args.collection)
    held = counted(header.articles, "article")
    if header.feeds:
        held += f" and {counted(header.feeds, 'followed feed')}"
    emit(
        args,
        {
            "path": args.path,
            "collection": header.collection,
            "articles": header.articles,
            "feeds": header.feeds,
        },
        lambda out: out.print(f"exported {held} of '{header.collection}' to {args.path}"),
    )
    return 0


@command(
    "import",
    "restore a backup archive; content already stored is skipped",
    arg("path", help="archive written by `briefbot export`"),
    collection=None,  # default: the collection the archive came from
)
def import_archive(app: Briefbot, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot import render
    from bot.cli import terminal

    header, outcomes = app.import_archive(Path(args.path), args.collection)
    if args.json:
        for outcome in outcomes:
            print_json(render.outcome_json(outcome))
    else:
        out = console()
        for outcome in outcomes:
            if outcome.status == "failed":
                out.print(terminal.outcome_line(outcome))
        target = args.collection or header.collection
        out.print(
            f"imported into '{target}': {outcome_counts(outcomes)}"
            if outcomes
            else f"the archive holds no articles; '{target}' unchanged"
        )
        if header.feeds:
            feeds = counted(header.feeds, "feed")
            out.print(f"following the archive's {feeds} (polled at the next pass)")
    return 1 if any_failed(outcomes) else 0
