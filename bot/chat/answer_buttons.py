"""The buttons under every answer: Sources (the full passages, to whoever clicks) and the votes.

They are `DynamicItem`s whose custom ids carry the stored answer's id, so they keep working
after a restart; an answer is shown only in the server it was given in.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.chat import embeds
from bot.chat.client import NO_MENTIONS, collection_for
from bot.chat.exts.errors import report
from bot.feedback import StoredAnswer

if TYPE_CHECKING:
    from bot.chat.client import BriefbotClient


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
