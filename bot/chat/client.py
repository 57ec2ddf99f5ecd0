"""The Discord client: owns the service, loads the command extensions, syncs slash commands.

It is thin on purpose: the extensions turn interactions into calls of the same `Briefbot`
service the CLI uses, and `bot.render` decides how things look.

It is an `AutoShardedBot`: one process runs the shards BRIEFBOT_SHARD_IDS names out of
BRIEFBOT_SHARD_COUNT (or, with neither set, the count Discord recommends, all of them), and
serves only the collections of the servers on those shards (docs/SCALING.md, Shards).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord.ext import commands

from bot.chat.command_rules import command_problems
from bot.chat.guards import Cooldowns
from bot.feedback import FeedbackStore
from bot.service import Briefbot
from bot.settings import Settings

# Briefbot never joins voice: without this, every start warns that PyNaCl and davey (voice
# libraries) are not installed.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

logger = logging.getLogger(__name__)
T = TypeVar("T")

EXTENSIONS = (
    "bot.chat.exts.errors",
    "bot.chat.exts.ask",
    "bot.chat.exts.articles",
    "bot.chat.exts.feeds",
)
NO_MENTIONS = discord.AllowedMentions.none()
NOTICE = {"notice": True}  # shown by the CLI's log handler without --verbose


def collection_for(guild_id: int) -> str:
    """Each server is its own collection, so no server ever sees another's articles."""
    return f"guild-{guild_id}"


def guild_for(collection: str) -> int | None:
    """The server a collection belongs to (None: a collection of the CLI, like 'default')."""
    prefix, _, number = collection.partition("-")
    return int(number) if prefix == "guild" and number.isdigit() else None


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's rule for which shard receives a server's events."""
    return (guild_id >> 22) % shard_count


def intents() -> discord.Intents:
    """No privileged intents: slash commands and mentions arrive without message content."""
    chosen = discord.Intents.default()
    chosen.message_content = False
    chosen.members = False
    chosen.presences = False
    return chosen


class BriefbotClient(commands.AutoShardedBot):
    def __init__(
        self,
        service: Briefbot,
        settings: Settings,
        feedback: FeedbackStore | None = None,
        cooldowns: Cooldowns | None = None,
        **options: Any,
    ) -> None:
        """The shards come from the settings (BRIEFBOT_SHARD_COUNT, BRIEFBOT_SHARD_IDS);
        `options` go to discord.py as they are."""
        shards: dict[str, Any] = {"shard_count": settings.shard_count}
        if settings.shard_ids is not None:
            shards["shard_ids"] = list(settings.shard_ids)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            help_command=None,
            allowed_mentions=NO_MENTIONS,
            **(shards | options),
        )
        self.service = service
        self.settings = settings
        self.feedback = feedback or FeedbackStore(service.knowledge.store)
        self.cooldowns = cooldowns or Cooldowns()
        self.feed_task: asyncio.Task[None] | None = None

    async def load_all(self) -> None:
        for name in EXTENSIONS:
            if name not in self.extensions:
                await self.load_extension(name)

    def shards_described(self) -> str:
        """Which shards this process runs, for the logs and `run --check`."""
        count = self.shard_count
        if count is None:
            return "the shard count Discord recommends, all in this process"
        if self.shard_ids is None:
            return f"all {count} shards" if count > 1 else "1 shard"
        ids = ", ".join(str(i) for i in sorted(self.shard_ids))
        return f"shard{'s' if len(self.shard_ids) > 1 else ''} {ids} of {count}"

    def serves(self, collection: str) -> bool:
        """Whether this process serves a collection: a server's belongs to the process running
        the server's shard; the CLI's collections ('default', ...) to the one running shard 0,
        so that every followed feed is polled by exactly one process."""
        if self.shard_ids is None or self.shard_count is None:
            return True
        guild = guild_for(collection)
        return (0 if guild is None else shard_of(guild, self.shard_count)) in self.shard_ids

    async def setup_hook(self) -> None:
        logger.info("running %s", self.shards_described(), extra=NOTICE)
        await self.load_all()
        problems = self.command_problems()
        if problems:
            raise RuntimeError("invalid command definitions: " + "; ".join(problems))
        await self.sync_commands()
        # On a PostgreSQL store, other processes' writes refresh the caches held here before
        # the next question (a thread of its own: never this event loop).
        if self.service.knowledge.start_listening():
            logger.info("listening for changes to the store by other processes")
        from bot.chat.feed_task import FeedTask

        self.feed_task = asyncio.create_task(FeedTask(self).run_forever(), name="feeds")

    async def sync_commands(self) -> None:
        """Global sync (takes a while to show), or to the development server at once."""
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            logger.info("synced %d commands to server %s", len(synced), guild.id)
        else:
            synced = await self.tree.sync()
            logger.info("synced %d global commands", len(synced))

    def command_payloads(self) -> list[dict[str, Any]]:
        return [command.to_dict(self.tree) for command in self.tree.get_commands()]

    def command_problems(self) -> list[str]:
        return command_problems(self.command_payloads())

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: mentions are handled by the ask extension's listener."""

    async def on_ready(self) -> None:
        logger.info(
            "connected as %s to %d servers (%s)",
            self.user,
            len(self.guilds),
            self.shards_described(),
            extra=NOTICE,
        )

    async def on_shard_ready(self, shard_id: int) -> None:
        logger.info("shard %d of %s ready", shard_id, self.shard_count)

    async def run_blocking(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Embedding, search, fetching, parsing and writes never run on the event loop."""
        return await asyncio.to_thread(func, *args, **kwargs)

    async def close(self) -> None:
        if self.feed_task is not None:
            self.feed_task.cancel()
        await asyncio.to_thread(self.service.knowledge.stop_listening)
        await super().close()
        self.feedback.close()
