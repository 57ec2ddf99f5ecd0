"""/follow, /unfollow and /feeds as Discord delivers them (real Interactions through the command
tree), and the bot's feed task: one announcement per channel, no pings, timing without sleeping."""

from __future__ import annotations

import asyncio
from unittest import mock

import discord
import pytest

from bot.chat import embeds
from bot.chat.client import collection_for
from bot.chat.exts.feeds import feeds_embed
from bot.chat.feed_task import FeedTask
from tests.bot.chat.helpers import (
    GUILD_A,
    close_client,
    command_interaction,
    embed_problems,
    invoke,
    make_client,
    run,
)
from tests.feed_fixtures import STORIES, Item, feed_route, page, rss
from tests.ingest_fixtures import html_route

MANAGE_SERVER = 1 << 5
NO_MENTIONS = {"parse": []}


@pytest.fixture
def client(settings):
    client = make_client(settings, allow_private_urls=True, fetch_timeout=1)
    yield client
    close_client(client)


def serve(server, *keys):
    items = [Item(k, server.add(f"/news/{k}", html_route(page(k))), STORIES[k][0]) for k in keys]
    return items, server.add("/feed.xml", feed_route(rss(items), etag='"1"'))


def editor(client, name, **options):
    return command_interaction(client, name, GUILD_A, permissions=MANAGE_SERVER, **options)


def test_follow_feeds_unfollow_through_the_command_tree(client, server):
    _, feed = serve(server, "bridge", "orchard")
    sent = run(invoke(client, editor(client, "follow", url=feed)))
    deferred, reply = sent.requests
    assert deferred.payload == {"type": 5}
    assert reply.payload["allowed_mentions"] == NO_MENTIONS
    assert reply.payload["content"] == "Following **#1** Kessel Herald (2 entries now)."

    sent = run(invoke(client, command_interaction(client, "feeds", GUILD_A)))
    deferred, reply = sent.requests
    assert deferred.payload == {"type": 5, "data": {"flags": 64}}  # only the asker sees it
    (embed,) = reply.payload["embeds"]
    assert embed["title"] == "Feeds (1)" and embed["fields"][0]["name"] == "#1 Kessel Herald"
    assert "0 stories added" in embed["fields"][0]["value"]

    sent = run(invoke(client, editor(client, "unfollow", feed="1")))
    assert sent.requests[-1].payload["content"].startswith("Stopped following **#1**")
    assert client.service.feeds(collection_for(GUILD_A)) == []


def test_following_needs_manage_server_or_the_editor_role(client, server):
    _, feed = serve(server, "bridge")
    sent = run(invoke(client, command_interaction(client, "follow", GUILD_A, url=feed)))
    (refusal,) = sent.requests
    assert refusal.payload["data"]["content"] == "Following feeds needs Manage Server."
    assert refusal.payload["data"]["flags"] == 64
    assert client.service.feeds(collection_for(GUILD_A)) == []


def test_a_bad_feed_is_one_ephemeral_line(client, server):
    page_url = server.add("/plain", html_route(page("bridge")))
    sent = run(invoke(client, editor(client, "follow", url=page_url)))
    error = sent.requests[-1].payload
    assert error["flags"] == 64 and "\n" not in error["content"]
    assert client.service.feeds(collection_for(GUILD_A)) == []


def test_the_feeds_embed_shows_failures_within_discords_limits():
    from datetime import UTC, datetime

    from index.feeds.state import FeedInfo

    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    failing = FeedInfo(
        1, "g", "https://x.example/feed", "https://x.example/feed", "X @everyone" * 30,
        "42", now, None, "HTTP 500 " * 200, now, 3, now, None, None, 0,
    )  # fmt: skip
    embed = feeds_embed([failing] * 30)
    assert embed_problems(embed) == []
    shown = len(embed.fields)
    assert 5 < shown <= 25 and embed.footer.text == f"and {30 - shown} more"
    assert "failing (3x): HTTP 500" in embed.fields[0].value
    assert "@everyone" not in embed.fields[0].name


class Channel:
    """A text channel as the feed task sees it: only `send` is used."""

    def __init__(self) -> None:
        self.send = mock.AsyncMock(spec=discord.TextChannel.send)


def test_the_feed_task_announces_new_stories_once_per_channel(client, server):
    _, feed = serve(server, "bridge", "orchard")
    client.service.follow(feed, collection_for(GUILD_A), channel="999")
    channel = Channel()
    with (
        mock.patch.object(client, "get_channel", return_value=channel),
        mock.patch("bot.chat.feed_task.discord.abc.Messageable", Channel),
    ):
        task = FeedTask(client)
        first = run(task.pass_once())
        again = run(task.pass_once())  # nothing due: the interval has not passed
    assert [len(r.stories) for r in first] == [1 * 2] and again == []
    channel.send.assert_awaited_once()
    text = channel.send.call_args.args[0]
    assert "Harbor bridge reopens after repairs" in text and "Apple growers" in text
    assert len(text) <= embeds.MESSAGE_CHARS
    kwargs = channel.send.call_args.kwargs
    assert kwargs["allowed_mentions"].to_dict() == NO_MENTIONS and kwargs["suppress_embeds"]


async def run_entered(client, work):
    """Inside `async with client`, as `briefbot run` serves: a sharded client's `close` needs
    the set-up that entering it does."""
    async with client:
        await work


def test_the_feed_task_sleeps_until_due_and_survives_a_failing_pass(client):
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            await client.close()

    polls = iter([RuntimeError("store busy"), [], []])

    def poll(*args, **kwargs):
        result = next(polls)
        if isinstance(result, Exception):
            raise result
        return result

    task = FeedTask(client, sleep=sleep, idle=60.0)
    with (
        mock.patch.object(client.service, "poll", side_effect=poll),
        mock.patch.object(
            client.service.feed_poller, "seconds_until_due", side_effect=[None, 0.2, 30]
        ),
    ):
        asyncio.run(run_entered(client, task.run_forever()))
    assert slept == [60.0, 1.0, 30]  # no feeds: idle; due at once: at least 1 s; else until due
