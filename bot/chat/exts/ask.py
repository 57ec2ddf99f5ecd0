"""Asking: /ask, mentions, follow-ups, and the Sources / 👍 / 👎 buttons under each answer."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.answer.followup import rewrite_followup
from bot.answer.models import Answer
from bot.chat import embeds
from bot.chat.client import NO_MENTIONS, collection_for
from bot.chat.exts.errors import DM_REFUSAL, report, report_failure
from bot.chat.guards import check_cooldown, cooldown
from bot.chat.streaming import ThrottledEditor
from bot.feedback import StoredAnswer

if TYPE_CHECKING:
    from bot.chat.client import BriefbotClient

logger = logging.getLogger(__name__)
Send = Callable[..., Awaitable[discord.Message]]
HELP = "Ask me a question about this server's articles, e.g. `@Briefbot how many troops were sent?`"


def strip_mention(content: str, user_id: int) -> str:
    """The question without the mention(s) of the bot."""
    return " ".join(re.sub(rf"<@!?{user_id}>", " ", content).split())


class SourcesButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"briefbot:sources:(?P<id>\d+)"
):
    """Shows the full passages behind an answer, only to whoever clicks (works after restarts)."""

    def __init__(self, answer_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Sources",
                style=discord.ButtonStyle.secondary,
                custom_id=f"briefbot:sources:{answer_id}",
            )
        )
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SourcesButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            stored = await _stored_answer(interaction, self.answer_id)
            if stored is None:
                await interaction.response.send_message(
                    "That answer is no longer available.",
                    ephemeral=True,
                    allowed_mentions=NO_MENTIONS,
                )
                return
            await interaction.response.send_message(
                embed=embeds.sources_embed(stored.data),
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
        except Exception as exc:
            await report(interaction, exc)


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"briefbot:vote:(?P<vote>up|down):(?P<id>\d+)",
):
    """👍 / 👎: stored with the question, answer and citations for the curators."""

    def __init__(self, answer_id: int, up: bool) -> None:
        super().__init__(
            discord.ui.Button(
                emoji="\U0001f44d" if up else "\U0001f44e",
                style=discord.ButtonStyle.secondary,
                custom_id=f"briefbot:vote:{'up' if up else 'down'}:{answer_id}",
            )
        )
        self.answer_id = answer_id
        self.up = up

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VoteButton:
        return cls(int(match["id"]), match["vote"] == "up")

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            client: BriefbotClient = interaction.client  # type: ignore[assignment]
            stored = await _stored_answer(interaction, self.answer_id)
            if stored is None:
                text = "That answer is no longer available."
            else:
                await client.run_blocking(
                    client.feedback.vote, self.answer_id, interaction.user.id, self.up
                )
                text = (
                    "Thanks, noted."
                    if self.up
                    else "Thanks: the curators will see this question with /unanswered."
                )
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        except Exception as exc:
            await report(interaction, exc)


async def _stored_answer(interaction: discord.Interaction, answer_id: int) -> StoredAnswer | None:
    """The answer a button belongs to, only if it belongs to this server."""
    client: BriefbotClient = interaction.client  # type: ignore[assignment]
    stored = await client.run_blocking(client.feedback.answer, answer_id)
    if stored is None or interaction.guild_id is None:
        return None
    return stored if stored.collection == collection_for(interaction.guild_id) else None


def answer_view(answer_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SourcesButton(answer_id))
    view.add_item(VoteButton(answer_id, up=True))
    view.add_item(VoteButton(answer_id, up=False))
    return view


WRITING = "\u270d\ufe0f Writing the answer\u2026"
STREAM_EDIT_INTERVAL = 1.0
STREAM_CHARS = 1900  # a partial edit stays well inside Discord's 2,000-character message


class Ask(commands.Cog):
    def __init__(self, bot: BriefbotClient) -> None:
        self.bot = bot

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
        await self.answer(
            partial(interaction.followup.send, wait=True),
            question,
            previous,
            collection_for(interaction.guild_id),
            interaction.user.id,
            interaction.channel_id,
        )

    async def answer(
        self,
        send: Send,
        question: str,
        previous: StoredAnswer | None,
        collection: str,
        user_id: int,
        channel_id: int | None,
    ) -> discord.Message:
        """Rewrite a follow-up, ask the service in a worker thread, and send the result."""
        if previous is not None and previous.collection != collection:
            previous = None
        asked = rewrite_followup(previous.question if previous else None, question)
        read_as = asked if asked != " ".join(question.split()) else None
        if self.bot.service.writes_answers:
            return await self._stream(send, asked, read_as, collection, user_id, channel_id)
        answer = await self.bot.run_blocking(self.bot.service.ask, asked, collection)
        return await self.deliver(send, answer, read_as, collection, user_id, channel_id)

    async def _stream(
        self,
        send: Send,
        asked: str,
        read_as: str | None,
        collection: str,
        user_id: int,
        channel_id: int | None,
    ) -> discord.Message:
        """An LLM answer: a draft message edited as text arrives (at most once a second),
        then one final edit with the checked answer, its citations and the buttons."""
        draft = await send(content=WRITING, allowed_mentions=NO_MENTIONS)
        loop = asyncio.get_running_loop()

        def edit(text: str) -> object:
            coroutine = draft.edit(content=text + " \u258d", allowed_mentions=NO_MENTIONS)
            return asyncio.run_coroutine_threadsafe(coroutine, loop)

        editor = ThrottledEditor(edit, interval=STREAM_EDIT_INTERVAL, max_chars=STREAM_CHARS)
        answer = await self.bot.run_blocking(
            self.bot.service.ask, asked, collection, None, editor.on_partial
        )
        editor.stop()
        if isinstance(editor.last_result, concurrent.futures.Future):
            with contextlib.suppress(Exception):  # the last partial lands before the final
                await asyncio.wrap_future(editor.last_result)
        final = partial(draft.edit, content=None)
        return await self.deliver(final, answer, read_as, collection, user_id, channel_id)

    async def deliver(
        self,
        send: Send,
        answer: Answer,
        read_as: str | None,
        collection: str,
        user_id: int,
        channel_id: int | None,
    ) -> discord.Message:
        """The one place an answer is sent (an LLM stream can later edit this message)."""
        feedback = self.bot.feedback
        answer_id = await self.bot.run_blocking(
            feedback.record_answer,
            collection,
            answer.question,
            render.answer_json(answer),
            user_id,
            channel_id,
        )
        message = await send(
            embed=embeds.answer_embed(answer, read_as),
            view=answer_view(answer_id),
            allowed_mentions=NO_MENTIONS,
        )
        await self.bot.run_blocking(feedback.set_message, answer_id, message.id)
        return message

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
            await self.answer(
                reply,
                question,
                previous,
                collection_for(message.guild.id),
                message.author.id,
                message.channel.id,
            )


async def setup(bot: BriefbotClient) -> None:
    await bot.add_cog(Ask(bot))
