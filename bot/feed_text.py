"""Feeds as text: JSON for `--json`, lines for the terminal, and the Discord announcement.

Pure functions of plain data, no discord import: the bot's poller task sends what
`announcement` returns with `AllowedMentions.none()`; the text itself is already safe to
show (markdown and mentions neutralised, at most 2000 characters, links not unfurled).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from index.feeds.poller import FeedPoll, FollowResult, Story
from index.feeds.state import FeedInfo

DISCORD_LIMIT = 2000
MAX_TITLE = 200
MAX_LINK = 500
_MARKDOWN = re.compile(r"([\\*_~`|>\[\]()<])")


def _when(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def feed_json(feed: FeedInfo) -> dict[str, Any]:
    return {
        "id": feed.id,
        "collection": feed.collection,
        "title": feed.title,
        "url": feed.url,
        "feed_url": feed.feed_url,
        "channel_id": feed.channel_id,
        "added_at": _when(feed.added_at),
        "last_success": _when(feed.last_success),
        "last_error": feed.last_error,
        "last_error_at": _when(feed.last_error_at),
        "failures": feed.failures,
        "next_poll": _when(feed.next_poll),
        "stories_added": feed.stories_added,
        "conditional": bool(feed.etag or feed.last_modified),
    }


def story_json(story: Story) -> dict[str, Any]:
    return {
        "title": story.title,
        "url": story.url,
        "article_id": story.article_id,
        "status": story.status,
    }


def follow_json(result: FollowResult) -> dict[str, Any]:
    return {"feed": feed_json(result.feed), "entries": result.entries, "created": result.created}


def poll_json(result: FeedPoll) -> dict[str, Any]:
    return {
        "feed": feed_json(result.feed),
        "status": result.status,
        "stories": [story_json(s) for s in result.stories],
        "errors": list(result.errors),
        "skipped": result.skipped,
        "waiting": result.waiting,
    }


def poll_summary(result: FeedPoll) -> str:
    """'3 new, 1 skipped, 2 waiting', 'not modified', 'failed: <why>' (plain text)."""
    if result.status == "failed":
        return f"failed: {result.errors[0] if result.errors else 'unknown error'}"
    if result.status == "not_modified":
        return "not modified"
    counts = [
        (len(result.stories), "new"),
        (result.skipped, "skipped"),
        (len(result.errors), "failed"),
        (result.waiting, "waiting for the next poll"),
    ]
    return ", ".join(f"{n} {label}" for n, label in counts if n) or "nothing new"


def _plain(text: str, limit: int) -> str:
    """One line, markdown escaped, mentions broken, at most `limit` characters of text."""
    line = " ".join(text.split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "\u2026"
    return _MARKDOWN.sub(r"\\\1", line).replace("@", "@\u200b")


def _link(url: str | None) -> str | None:
    """A link safe inside `(<...>)`: http(s) only, no spaces or angle brackets, not huge."""
    if not url or not url.lower().startswith(("http://", "https://")) or len(url) > MAX_LINK:
        return None
    return url.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")


def _story_line(story: Story) -> str:
    title = _plain(story.title or "Untitled", MAX_TITLE)
    link = _link(story.url)
    mark = " (updated)" if story.status == "replaced" else ""
    return f"- [{title}](<{link}>){mark}" if link else f"- {title}{mark}"


def announcement(results: Sequence[FeedPoll], limit: int = DISCORD_LIMIT) -> str | None:
    """One short message for the stories a poll stored (None when there are none): each
    feed's title, then a line per story with its title and link; what does not fit within
    `limit` characters is counted ("...and 4 more"), never cut mid-line."""
    candidates: list[tuple[str | None, str]] = []
    for result in results:
        heading: str | None = f"**{_plain(result.feed.title, 150)}**"
        for story in result.stories:
            candidates.append((heading, _story_line(story)))
            heading = None
    if not candidates:
        return None
    lines: list[str] = []
    for shown, (heading, line) in enumerate(candidates):
        added = [heading, line] if heading else [line]
        rest = len(candidates) - shown - 1
        tail = f"\n\u2026and {rest} more" if rest else ""
        if len("\n".join(lines + added)) + len(tail) > limit:
            lines.append(f"\u2026and {len(candidates) - shown} more")
            break
        lines.extend(added)
    return "\n".join(lines)[:limit]


def announcements(results: Sequence[FeedPoll], limit: int = DISCORD_LIMIT) -> dict[str, str]:
    """One message per announcement channel for a poll pass: {channel id: text}. Feeds
    without a channel, and channels whose feeds stored nothing, get none."""
    by_channel: dict[str, list[FeedPoll]] = {}
    for result in results:
        if result.feed.channel_id and result.stories:
            by_channel.setdefault(result.feed.channel_id, []).append(result)
    found = {channel: announcement(group, limit) for channel, group in by_channel.items()}
    return {channel: text for channel, text in found.items() if text}
