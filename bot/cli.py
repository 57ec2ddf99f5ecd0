"""The `briefbot` command: add, ask, list, show, remove, stats, verify, reindex, export, import,
and following feeds (follow, unfollow, feeds, poll).

Heavy libraries (torch, faiss) are imported only by the commands that need them, so
`briefbot --help` and errors about bad arguments come back at once.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from index.offline import quiet_offline_libraries
from index.wording import counted

if TYPE_CHECKING:
    from bot.service import Briefbot
    from bot.settings import Settings
    from index.knowledge import KnowledgeBase

logger = logging.getLogger(__name__)


def _configure_logging(verbose: bool) -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(console=Console(stderr=True), show_path=False)
    # On the handler too: some libraries set their own loggers to DEBUG when imported. INFO
    # records marked `notice` (the one-time model export, which takes seconds) always show.
    handler.setLevel(logging.INFO)
    handler.addFilter(
        lambda r: r.levelno >= logging.WARNING or verbose or getattr(r, "notice", False)
    )
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[handler],
    )
    for noisy in ("bm25s", "faiss", "sentence_transformers", "httpx", "filelock"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("index.onnx_embedding").setLevel(logging.INFO)


def _date(value: str) -> date:
    from index.ingest.text import parse_date

    parsed = parse_date(value)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD)")
    return parsed


def _at_least_one(name: str, value: int) -> int:
    """A count option that must be positive: 0 or -1 would silently list nothing or all."""
    from index.errors import InputError

    if value < 1:
        raise InputError(f"{name} must be at least 1 (got {value})")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefbot",
        description="Answer questions from your news articles, with quoted citations.",
    )
    parser.add_argument("--data-dir", help="index folder (default: BRIEFBOT_DATA_DIR or ./data)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument(
            "-c", "--collection", default="default", help="collection (default: default)"
        )
        p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    add = command("add", "add articles from links, files or folders (.txt, .md, .html, .pdf)")
    add.add_argument("sources", nargs="+", metavar="SOURCE", help="http(s) link, file or folder")
    add.add_argument("--title", help="title (overrides the file's)")
    add.add_argument("--source", help="outlet, e.g. 'Reuters' (overrides the file's)")
    add.add_argument("--url", help="link to the original article")
    add.add_argument("--published", type=_date, help="publication date, YYYY-MM-DD")
    add.add_argument(
        "--allow-duplicate",
        action="store_true",
        help="store a near-identical copy of a stored article (e.g. syndicated) anyway",
    )

    ask = command("ask", "ask a question; '-' reads one question per line from stdin")
    ask.add_argument("question", nargs="+", help="the question, or - for stdin")
    ask.add_argument("-k", type=int, default=None, help="citations to show (default 5)")

    lst = command("list", "list articles, newest published first (undated last)")
    lst.add_argument("--limit", type=int, default=100, help="at most this many")
    show = command("show", "show one article")
    show.add_argument("id", type=int)
    remove = command("remove", "remove an article and its passages")
    remove.add_argument("id", type=int)
    command("stats", "counts for a collection")
    verify = command("verify", "check that the store and its caches agree")
    verify.add_argument("--repair", action="store_true", help="rebuild caches that disagree")
    verify.add_argument("--all", action="store_true", help="every collection")

    run = sub.add_parser(
        "run", help="start the Discord bot", description="Start the Discord bot (DISCORD_TOKEN)."
    )
    run.add_argument(
        "--check",
        action="store_true",
        help="load everything and validate the commands, without connecting",
    )
    feedback = sub.add_parser(
        "feedback",
        help="recent questions the bot could not answer or that got a thumbs down",
        description="Recent questions the bot could not answer or that got a thumbs down.",
    )
    feedback.add_argument("-c", "--collection", help="only this collection (guild-<server id>)")
    feedback.add_argument("--limit", type=int, default=50)
    feedback.add_argument("--json", action="store_true", help="machine-readable output")
    command("reindex", "re-embed every article with the configured model (to change models)")
    export = command("export", "write a backup archive of a collection (articles, no caches)")
    export.add_argument("path", help="archive to write (gzip-compressed if it ends in .gz)")
    imp = command("import", "restore a backup archive; content already stored is skipped")
    imp.add_argument("path", help="archive written by `briefbot export`")
    imp.set_defaults(collection=None)  # default: the collection the archive came from
    _feed_commands(command)
    return parser


def _feed_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """follow, unfollow, feeds, poll (docs/FEEDS.md)."""
    follow = command("follow", "follow a news feed (RSS, Atom, JSON Feed, or a page naming one)")
    follow.add_argument("url", help="the feed's link, or a site page that announces its feed")
    unfollow = command("unfollow", "stop following a feed (the stories it added stay)")
    unfollow.add_argument("feed", metavar="ID|URL", help="the id `briefbot feeds` shows, or link")
    command("feeds", "the followed feeds: last success, last error, stories added")
    poll = command("poll", "fetch every followed feed once and add new stories (for cron)")
    poll.add_argument("--all", action="store_true", help="the feeds of every collection")


def main(argv: list[str] | None = None) -> int:
    quiet_offline_libraries()
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    from pydantic import ValidationError

    from index.errors import BriefbotError

    try:
        settings = _settings(args)
        if args.command in _WITHOUT_INDEX:
            return _WITHOUT_INDEX[args.command](settings, args)
        handler = _HANDLERS[args.command]
        from bot.service import Briefbot

        app = Briefbot(settings, _knowledge(args, settings))
        try:
            return handler(app, args)
        finally:
            app.close()
    except ValidationError as exc:
        print(f"briefbot: {_setting_error(exc)}", file=sys.stderr)
        return 2
    except BriefbotError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("briefbot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `briefbot ... | head`: the reader left; not an error worth a trace
        sys.stderr.close()
        return 141


def _setting_error(exc: Any) -> str:
    """'BRIEFBOT_EMBEDDING_MODEL: no model folder at /x': the setting as the user sets it (its
    environment variable, or the flag) and the problem, without pydantic's decorations."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "settings"
    name = field if field.isupper() else f"BRIEFBOT_{field.upper()}"
    if field == "data_dir":
        name = f"--data-dir / {name}"
    error = (first.get("ctx") or {}).get("error")
    return f"invalid setting {name}: {error if error is not None else first['msg']}"


def _knowledge(args: argparse.Namespace, settings: Settings) -> KnowledgeBase | None:
    """Reindex opens the index whatever model built it (changing models is its purpose)."""
    if args.command != "reindex":
        return None
    from index.knowledge import KnowledgeBase

    return KnowledgeBase(settings, check_model=False)


def _settings(args: argparse.Namespace) -> Settings:
    from bot.settings import Settings

    overrides: dict[str, Any] = {}
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    return Settings(**overrides)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _console() -> Any:
    from rich.console import Console

    console = Console(highlight=False)
    # Piped output is read by scripts: one logical line per line, never wrapped at 80.
    console.soft_wrap = not console.is_terminal
    return console


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


def cmd_add(app: Briefbot, args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from bot import render
    from bot.service import Overrides

    _check_single_article_options(args)
    overrides = Overrides(args.title, args.source, args.url, args.published)
    console = _console()
    results = []
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("articles: {task.completed}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=args.json or not console.is_terminal,
    ) as progress:
        task = progress.add_task("adding", total=None)

        def report(outcome: Any) -> None:
            progress.advance(task)
            results.append(outcome)
            if args.json:
                _print_json(render.outcome_json(outcome))
            else:
                progress.console.print(render.outcome_line(outcome))

        app.add_sources(
            args.sources,
            args.collection,
            overrides,
            progress=report,
            allow_duplicate=args.allow_duplicate,
        )
    if not args.json:
        console.print(_outcome_counts(results) or "nothing to add")
    return 1 if any(o.status == "failed" for o in results) else 0


def _outcome_counts(outcomes: list[Any]) -> str:
    """'3 added, 1 skipped': skipped copies are refused on purpose and are not failures."""
    order = ("added", "replaced", "updated", "unchanged", "skipped", "failed")
    counts = {s: sum(o.status == s for o in outcomes) for s in order}
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n)


def cmd_ask(app: Briefbot, args: argparse.Namespace) -> int:
    from bot import render
    from index.errors import InputError

    if args.question == ["-"]:
        status = 0
        for line in sys.stdin:
            # With --json every input line gets one output line (an error object for a blank
            # one), so a script can pair them; people reading the terminal skip blank lines.
            if not line.strip() and not args.json:
                continue
            try:
                answer = app.ask(line.strip(), args.collection, args.k)
            except InputError as exc:
                status = 1
                _print_json({"question": line.strip(), "error": str(exc)}) if args.json else print(
                    f"briefbot: {exc}", file=sys.stderr
                )
                continue
            if args.json:
                _print_json(render.answer_json(answer))
            else:
                _console().print(render.answer_rich(answer))
        return status
    answer = app.ask(" ".join(args.question), args.collection, args.k)
    if args.json:
        _print_json(render.answer_json(answer))
    else:
        _console().print(render.answer_rich(answer))
    return 0


def cmd_list(app: Briefbot, args: argparse.Namespace) -> int:
    from rich.table import Table

    from bot import render

    articles = app.list_articles(args.collection, _at_least_one("--limit", args.limit))
    if args.json:
        _print_json([render.article_json(a) for a in articles])
        return 0
    if not articles:
        _console().print(f"No articles in collection '{args.collection}' yet.")
        return 0
    table = Table("id", "title", "source", "published", "chunks")
    for a in articles:
        table.add_row(str(a.id), a.title, a.source or "", render.date_label(a), str(a.chunk_count))
    _console().print(table)
    return 0


def cmd_show(app: Briefbot, args: argparse.Namespace) -> int:
    from rich.markup import escape

    from bot import render

    article, text = app.article(args.id, args.collection)
    if args.json:
        _print_json({**render.article_json(article), "text": text})
        return 0
    console = _console()
    console.print(f"[bold]#{article.id} {escape(article.title)}[/bold]")
    console.print(
        f"{escape(article.source or 'unknown source')}, {render.date_label(article)}"
        f"{' - ' + escape(article.url) if article.url else ''}",
        style="dim",
    )
    console.print(
        f"{render.chunk_count(article.chunk_count)}, added {article.added_at:%Y-%m-%d %H:%M} UTC\n",
        style="dim",
    )
    console.print(escape(text))
    return 0


def cmd_remove(app: Briefbot, args: argparse.Namespace) -> int:
    from bot import render

    article = app.remove(args.id, args.collection)
    if args.json:
        _print_json({"removed": render.article_json(article)})
    else:
        _console().print(f"removed #{article.id} {article.title}")
    return 0


def cmd_stats(app: Briefbot, args: argparse.Namespace) -> int:
    from bot import render

    data = render.stats_json(app.stats(args.collection))
    if args.json:
        _print_json(data)
    else:
        for key, value in data.items():
            _console().print(f"{key:>10}: {value}")
    return 0


def cmd_verify(app: Briefbot, args: argparse.Namespace) -> int:
    from bot import render

    report = app.verify(None if args.all else args.collection, args.repair)
    if args.json:
        _print_json(render.verify_json(report))
    else:
        console = _console()
        for line in report.repaired:
            console.print(f"[yellow]repaired[/yellow] {line}")
        for line in report.problems:
            console.print(f"[red]problem[/red] {line}")
        for line in report.notes:
            console.print(f"[dim]note[/dim] {line}")
        checked = ", ".join(f"{c}: {render.chunk_count(n)}" for c, n in report.checked.items())
        console.print(
            ("[green]ok[/green] " if report.ok else "[red]FAILED[/red] ")
            + (checked or "nothing stored yet")
        )
    return 0 if report.ok else 1


def cmd_reindex(app: Briefbot, args: argparse.Namespace) -> int:
    console = _console()

    def report(done: int, total: int) -> None:
        if args.verbose and not args.json:
            console.print(f"embedded {done:,}/{counted(total, 'chunk')}", style="dim")

    result = app.reindex(report)
    if args.json:
        _print_json(
            {
                "model": result.model,
                "previous_model": result.previous_model,
                "chunks": result.chunks,
                "embedded": result.embedded,
                "collections": list(result.collections),
            }
        )
    else:
        console.print(
            f"reindexed {counted(result.chunks, 'chunk')} in "
            f"{counted(len(result.collections), 'collection')} with "
            f"{result.model} (was {result.previous_model or 'nothing'})"
        )
    return 0


def cmd_export(app: Briefbot, args: argparse.Namespace) -> int:
    from pathlib import Path

    header = app.export(Path(args.path), args.collection)
    if args.json:
        _print_json(
            {"path": args.path, "collection": header.collection, "articles": header.articles}
        )
    else:
        articles = counted(header.articles, "article")
        _console().print(f"exported {articles} of '{header.collection}' to {args.path}")
    return 0


def cmd_import(app: Briefbot, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot import render

    header, outcomes = app.import_archive(Path(args.path), args.collection)
    if args.json:
        for outcome in outcomes:
            _print_json(render.outcome_json(outcome))
    else:
        console = _console()
        for outcome in outcomes:
            if outcome.status == "failed":
                console.print(render.outcome_line(outcome))
        target = args.collection or header.collection
        console.print(
            f"imported into '{target}': {_outcome_counts(outcomes)}"
            if outcomes
            else f"the archive holds no articles; '{target}' unchanged"
        )
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def cmd_follow(app: Briefbot, args: argparse.Namespace) -> int:
    from rich.markup import escape

    from bot import feed_text

    result = app.follow(args.url, args.collection)
    if args.json:
        _print_json(feed_text.follow_json(result))
        return 0
    feed = result.feed
    said = "following" if result.created else "already following"
    entries = counted(result.entries, "entry", "entries")
    _console().print(
        f"{said} #{feed.id} {escape(feed.title)}: {entries} now "
        f"[dim]({escape(feed.feed_url)}; new stories arrive with `briefbot poll`)[/dim]"
    )
    return 0


def cmd_unfollow(app: Briefbot, args: argparse.Namespace) -> int:
    from rich.markup import escape

    from bot import feed_text

    feed = app.unfollow(args.feed, args.collection)
    if args.json:
        _print_json({"unfollowed": feed_text.feed_json(feed)})
    else:
        stay = "stays" if feed.stories_added == 1 else "stay"
        stories = counted(feed.stories_added, "story", "stories")
        _console().print(
            f"unfollowed #{feed.id} {escape(feed.title)} (the {stories} it added {stay})"
        )
    return 0


def cmd_feeds(app: Briefbot, args: argparse.Namespace) -> int:
    from rich.table import Table

    from bot import feed_text

    feeds = app.feeds(args.collection)
    if args.json:
        _print_json([feed_text.feed_json(f) for f in feeds])
        return 0
    if not feeds:
        _console().print(f"'{args.collection}' follows no feeds yet (briefbot follow URL).")
        return 0
    table = Table("id", "title", "stories", "last success", "last error", "next poll")
    for f in feeds:
        error = f"{f.last_error_at:%Y-%m-%d %H:%M} {f.last_error}" if f.last_error_at else ""
        success = f"{f.last_success:%Y-%m-%d %H:%M}" if f.last_success else "never"
        table.add_row(
            str(f.id), f.title, str(f.stories_added), success, error, f"{f.next_poll:%H:%M}"
        )
    _console().print(table)
    return 0


def cmd_poll(app: Briefbot, args: argparse.Namespace) -> int:
    from rich.markup import escape

    from bot import feed_text

    results = app.poll(None if args.all else args.collection)
    console = _console()
    for result in results:
        if args.json:
            _print_json(feed_text.poll_json(result))
            continue
        style = "red" if result.status == "failed" else "green" if result.stories else "dim"
        summary = escape(feed_text.poll_summary(result))
        console.print(f"#{result.feed.id} {escape(result.feed.title)}: [{style}]{summary}[/]")
        for story in result.stories:
            console.print(f"  {story.status} #{story.article_id} {escape(story.title)}")
        if result.status != "failed":
            for error in result.errors:
                console.print(f"  [red]failed[/red] {escape(error)}")
    if not results and not args.json:
        console.print("no feeds followed (briefbot follow URL)")
    return 1 if any(r.errors for r in results) else 0


_HANDLERS: dict[str, Callable[[Briefbot, argparse.Namespace], int]] = {
    "add": cmd_add,
    "ask": cmd_ask,
    "list": cmd_list,
    "show": cmd_show,
    "remove": cmd_remove,
    "stats": cmd_stats,
    "verify": cmd_verify,
    "reindex": cmd_reindex,
    "export": cmd_export,
    "import": cmd_import,
    "follow": cmd_follow,
    "unfollow": cmd_unfollow,
    "feeds": cmd_feeds,
    "poll": cmd_poll,
}


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.chat import runner

    return runner.check(settings) if args.check else runner.run(settings)


def cmd_feedback(settings: Settings, args: argparse.Namespace) -> int:
    from bot.feedback import FeedbackStore

    store = FeedbackStore(settings.data_dir)
    try:
        items = store.to_follow_up(args.collection, _at_least_one("--limit", args.limit))
    finally:
        store.close()
    if args.json:
        _print_json(items)
        return 0
    console = _console()
    if not items:
        console.print("Nothing unanswered or disliked recently.")
    for item in items:
        label = "not answered" if item["kind"] == "abstained" else "thumbs down"
        console.print(
            f"{item['created_at'][:16].replace('T', ' ')}  {item['collection']}  {label}: "
            f"{item['question']}",
            markup=False,
        )
    return 0


# Commands that must not load the model first (a bad token fails at once).
_WITHOUT_INDEX: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "run": cmd_run,
    "feedback": cmd_feedback,
}

if __name__ == "__main__":
    raise SystemExit(main())
