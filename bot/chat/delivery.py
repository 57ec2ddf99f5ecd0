"""How an answer reaches a channel: the service asked in a worker thread, an LLM answer streamed
into a draft message (edited at most once a second), then the one final message with its
embed and buttons, recorded for the buttons, votes and follow-ups."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING

import discord

from bot import render
from bot.answer.followup import rewrite_followup
from bot.answer.models import Answer
from bot.chat import embeds
from bot.chat.answer_buttons import answer_view
from bot.chat.client import NO_MENTIONS
from bot.chat.streaming import ThrottledEditor
from bot.feedback import StoredAnswer

if TYPE_CHECKING:
    from bot.chat.client import BriefbotClient

Send = Callable[..., Awaitable[discord.Message]]
WRITING = "\u270d\ufe0f Writing the answer\u2026"
STREAM_EDIT_INTERVAL = 1.0
STREAM_CHARS = 1900  # a partial edit stays well inside Discord's 2,000-character message


class AnswerDelivery:
    """Used by /ask and by mentions: the same answer, sent the same way."""

    def __init__(self, client: BriefbotClient) -> None:
        self.client = client

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
        if self.client.service.writes_answers:
            return await self._stream(send, asked, read_as, collection, user_id, channel_id)
        answer = await self.client.run_blocking(self.client.service.ask, asked, collection)
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
        answer = await self.client.run_blocking(
            self.client.service.ask, asked, collection, None, editor.on_partial
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
        feedback = self.client.feedback
        answer_id = await self.client.run_blocking(
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
        await self.client.run_blocking(feedback.set_message, answer_id, message.id)
        return message
