"""Asking: /ask, mentions and follow-ups (what an answer continues); the answer is sent by
bot/chat/delivery.py with the buttons of bot/chat/answer_buttons.py."""

from __future__ import annotations

import logging
import re
from functools import partial
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.chat.answer_buttons import SourcesButton, VoteButton
from bot.chat.client import NO_MENTIONS, collection_for
from bot.chat.delivery import AnswerDelivery, Send
from bot.chat.exts.errors import DM_REFUSAL, report_failure
from bot.chat.guards import check_cooldown, cooldown
from bot.feedback import StoredAnswer

if TYPE_CHECKING:
    from bot.chat.client import BriefbotClient

logger = logging.getLogger(__name__)
HELP = "Ask me a question about this server's articles, e.g. `@Briefbot how many troops were sent?`"


def strip_mention(content: str, user_id: int) -> str:
    """The question without the mention(s) of the bot."""
    return " ".join(re.sub(rf"<@!?{user_id}>", " ", content).split())


class Ask(commands.Cog):
    def __init__(self, bot: BriefbotClient) -> None:
        self.bot = bot
        self.delivery = AnswerDelivery(bot)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(SourcesButton, VoteButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(SourcesButton, VoteButton)

    @app_commands.command(
        name="ask", description="Ask a question; answered from this server's articles"
    )
    @app_commands.describe(question="What you want to know, e.g. how many troops were deployed?")
    @app_commands.guild_only()
    @app_commands.check(cooldown("ask"))
    async def ask(
        self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 2000]
    ) -> None:
        await interaction.response.defer(thinking=True)
        assert interaction.guild_id is not None
        previous = await self._thread_context(interaction.channel)
        await self.delivery.answer(
            partial(interaction.followup.send, wait=True),
            question,
            previous,
            collection_for(interaction.guild_id),
            interaction.user.id,
            interaction.channel_id,
        )

    async def _thread_context(self, channel: Any) -> StoredAnswer | None:
        """In a thread, the answer it grew from (or the latest one asked in it)."""
        if not isinstance(channel, discord.Thread):
            return None
        feedback = self.bot.feedback
        started_from = await self.bot.run_blocking(feedback.answer_for_message, channel.id)
        return started_from or await self.bot.run_blocking(feedback.latest_in_channel, channel.id)

    async def _reply_context(self, message: discord.Message) -> StoredAnswer | None:
        reference = message.reference
        if reference is not None and reference.message_id is not None:
            stored = await self.bot.run_blocking(
                self.bot.feedback.answer_for_message, reference.message_id
            )
            if stored is not None:
                return stored
        return await self._thread_context(message.channel)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """`@Briefbot question` in a channel: answered as a reply, follow-ups keep context."""
        me = self.bot.user
        if me is None or message.author.bot or message.author.id == me.id:
            return
        if message.guild is None:
            await message.reply(DM_REFUSAL, mention_author=False, allowed_mentions=NO_MENTIONS)
            return
        if not any(user.id == me.id for user in message.mentions):
            return
        reply = partial(message.reply, mention_author=False)
        try:
            await self._answer_mention(message, me.id, reply)
        except Exception as exc:
            await report_failure(
                lambda text: reply(text, allowed_mentions=NO_MENTIONS), exc, "mention"
            )

    async def _answer_mention(self, message: discord.Message, my_id: int, reply: Send) -> None:
        assert message.guild is not None
        question = strip_mention(message.content, my_id)
        if not question:
            await reply(HELP, allowed_mentions=NO_MENTIONS)
            return
        check_cooldown(self.bot.cooldowns, "ask", message.author.id, self.bot.settings)
        previous = await self._reply_context(message)
        async with message.channel.typing():
            await self.delivery.answer(
                reply,
                question,
                previous,
                collection_for(message.guild.id),
                message.author.id,
                message.channel.id,
            )


async def setup(bot: BriefbotClient) -> None:
    await bot.add_cog(Ask(bot))
