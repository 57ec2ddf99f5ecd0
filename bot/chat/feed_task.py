"""The feed poller inside `briefbot run`: an asyncio task that sleeps until a followed feed is
due, polls in a worker thread (fetching, parsing and embedding never run on the event loop)
and announces new stories in the channels the feeds name.

The timing (interval, jitter, back-off) is decided by index/feeds; this task only waits for
it, capped so a feed followed meanwhile is noticed within `idle` seconds. A failing pass is
logged and the task goes on: a feed error never stops the bot, nor the other feeds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord

from bot.chat.client import NO_MENTIONS
from bot.feed_text import announcements
from index.feeds.poller import FeedPoll

if TYPE_CHECKING:
    from bot.chat.client import BriefbotClient

logger = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]


class FeedTask:
    def __init__(self, client: BriefbotClient, sleep: Sleep = asyncio.sleep, idle: float = 60.0):
        self.client = client
        self.sleep = sleep
        self.idle = idle

    async def run_forever(self) -> None:
        while not self.client.is_closed():
            await self.pass_once()
            await self.sleep(await self.wait())

    async def pass_once(self) -> list[FeedPoll]:
        """Poll every due feed of the collections this process serves (its shards' servers),
        then announce; never raises."""
        service, serves = self.client.service, self.client.serves
        try:
            results = await self.client.run_blocking(
                service.poll, None, due_only=True, served=serves
            )
        except Exception:
            logger.exception("feed poll failed; trying again later")
            return []
        await self.announce(results)
        return results

    async def wait(self) -> float:
        """Seconds until the next feed is due, between 1 and `idle`."""
        poller = self.client.service.feed_poller
        try:
            due_in = await self.client.run_blocking(
                poller.seconds_until_due, None, self.client.serves
            )
        except Exception:
            logger.exception("could not read the feeds' schedule")
            due_in = None
        return self.idle if due_in is None else min(self.idle, max(1.0, due_in))

    async def announce(self, results: list[FeedPoll]) -> None:
        """One message per channel for the stories this pass stored; no pings, no previews."""
        for channel_id, text in announcements(results).items():
            channel = self.client.get_channel(int(channel_id))
            if not isinstance(channel, discord.abc.Messageable):
                logger.warning("feed announcement channel %s is not reachable", channel_id)
                continue
            try:
                await channel.send(text, allowed_mentions=NO_MENTIONS, suppress_embeds=True)
            except discord.HTTPException:
                logger.warning("could not announce in channel %s", channel_id, exc_info=True)
