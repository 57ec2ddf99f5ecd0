"""The Discord client: owns the service, loads the command extensions, syncs slash commands.

It is thin on purpose: the extensions turn interactions into calls of the same `Briefbot`
service the CLI uses, and `bot.render` decides how things look.
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


def collection_for(guild_id: int) -> str:
    """Each server is its own collection, so no server ever sees another's articles."""
    return f"guild-{guild_id}"


def intents() -> discord.Intents:
    """No privileged intents: slash commands and mentions arrive without message content."""
    chosen = discord.Intents.default()
    chosen.message_content = False
    chosen.members = False
    chosen.presences = False
    return chosen


class BriefbotClient(commands.Bot):
    def __init__(
        self,
        service: Briefbot,
        settings: Settings,
        feedback: FeedbackStore | None = None,
        cooldowns: Cooldowns | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            help_command=None,
            allowed_mentions=NO_MENTIONS,
            **options,
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

    async def setup_hook(self) -> None:
        await self.load_all()
        problems = self.command_problems()
        if problems:
            raise RuntimeError("invalid command definitions: " + "; ".join(problems))
        await self.sync_commands()
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
        logger.info("connected as %s to %d servers", self.user, len(self.guilds))

    async def run_blocking(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Embedding, search, fetching, parsing and writes never run on the event loop."""
        return await asyncio.to_thread(func, *args, **kwargs)

    async def close(self) -> None:
        if self.feed_task is not None:
            self.feed_task.cancel()
        await super().close()
        self.feedback.close()
