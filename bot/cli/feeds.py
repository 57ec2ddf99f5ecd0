"""Following news feeds: follow, unfollow, feeds, poll (docs/FEEDS.md)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.output import console, emit, print_json
from bot.cli.registry import arg, command
from index.wording import counted

if TYPE_CHECKING:
    from bot.service import Briefbot


@command(
    "follow",
    "follow a news feed (RSS, Atom, JSON Feed, or a page naming one)",
    arg("url", help="the feed's link, or a site page that announces its feed"),
)
def follow(app: Briefbot, args: argparse.Namespace) -> int:
    from rich.markup import escape

    from bot import feed_text

    result = app.follow(args.url, args.collection)
    feed = result.feed
    said = "following" if result.created else "already following"
    entries = counted(result.entries, "entry", "entries")
    emit(
        args,
        feed_text.follow_json(result),
        lambda out: out.print(
            f"{said} #{feed.id} {escape(feed.title)}: {entries} now "
            f"[dim]({escape(feed.feed_url)}; new stories arrive with `briefbot poll`)[/dim]"
        ),
    )
    return 0


@command(
    "unfollow",
    "stop following a feed (the stories it added stay)",
    arg("feed", metavar="ID|URL", help="the id `briefbot feeds` shows, or link"),
)
def unfollow(app: Briefbot, args: argparse.Namespace) -> int:
    from rich.markup import escape

    from bot import feed_text

    feed = app.unfollow(args.feed, args.collection)
    stay = "stays" if feed.stories_added == 1 else "stay"
    stories = counted(feed.stories_added, "story", "stories")
    emit(
        args,
        {"unfollowed": feed_text.feed_json(feed)},
        lambda out: out.print(
            f"unfollowed #{feed.id} {escape(feed.title)} (the {stories} it added {stay})"
        ),
    )
    return 0


@command("feeds", "the followed feeds: last success, last error, stories added")
def feeds(app: Briefbot, args: argparse.Namespace) -> int:
    from rich.table import Table

    from bot import feed_text

    followed = app.feeds(args.collection)

    def human(out: Any) -> None:
        if not followed:
            out.print(f"'{args.collection}' follows no feeds yet (briefbot follow URL).")
            return
        table = Table("id", "title", "stories", "last success", "last error", "next poll")
        for f in followed:
            error = f"{f.last_error_at:%Y-%m-%d %H:%M} {f.last_error}" if f.last_error_at else ""
            success = f"{f.last_success:%Y-%m-%d %H:%M}" if f.last_success else "never"
            table.add_row(
                str(f.id), f.title, str(f.stories_added), success, error, f"{f.next_poll:%H:%M}"
            )
        out.print(table)

    emit(args, [feed_text.feed_json(f) for f in followed], human)
    return 0


@command(
    "poll",
    "fetch every followed feed once and add new stories (for cron)",
    arg("--all", action="store_true", help="the feeds of every collection"),
)
def poll(app: Briefbot, args: argparse.Namespace) -> int:
    from rich.markup import escape

    from bot import feed_text

    results = app.poll(None if args.all else args.collection)
    out = console()
    for result in results:
        if args.json:
            print_json(feed_text.poll_json(result))
            continue
        style = "red" if result.status == "failed" else "green" if result.stories else "dim"
        summary = escape(feed_text.poll_summary(result))
        out.print(f"#{result.feed.id} {escape(result.feed.title)}: [{style}]{summary}[/]")
        for story in result.stories:
            out.print(f"  {story.status} #{story.article_id} {escape(story.title)}")
        if result.status != "failed":
            for error in result.errors:
                out.print(f"  [red]failed[/red] {escape(error)}")
    if not results and not args.json:
        out.print("no feeds followed (briefbot follow URL)")
    return 1 if any(r.errors for r in results) else 0
