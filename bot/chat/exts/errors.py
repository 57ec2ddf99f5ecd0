"""Failures in commands, buttons and forms: one short ephemeral line, the traceback logged.

A failing command never takes the bot down; expected errors (bad input, missing permission,
cooldown) are shown as their message, anything else as a generic line.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot.chat.client import NO_MENTIONS
from bot.chat.embeds import MESSAGE_CHARS, discord_escape, trim
from index.errors import BriefbotError

logger = logging.getLogger(__name__)
UNEXPECTED = "Something went wrong on my side; it has been logged. Please try again later."
DM_REFUSAL = (
    "I only work inside servers, where each server has its own articles. "
    "Mention me or use /ask in a server channel."
)


def user_message(error: BaseException) -> str:
    """The one line the user sees for `error`."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {max(1, math.ceil(error.retry_after))} s."
    if isinstance(error, app_commands.NoPrivateMessage):
        return DM_REFUSAL
    if isinstance(error, app_commands.TransformerError):
        return f"That value is not valid: {discord_escape(str(error.value))[:200]}"
    if isinstance(error, app_commands.CheckFailure) and str(error):
        return str(error)
    if isinstance(error, BriefbotError):
        return discord_escape(str(error))
    return UNEXPECTED


def is_expected(error: BaseException) -> bool:
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    expected = (
        app_commands.CheckFailure,
        app_commands.CommandOnCooldown,
        app_commands.TransformerError,
        BriefbotError,
    )
    return isinstance(error, expected)


async def report(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user in one ephemeral line; log the traceback when it was not expected."""
    command = interaction.command.qualified_name if interaction.command else "component"

    async def send(text: str) -> None:
        if interaction.response.is_done():
            if (
                interaction.response.type
                == discord.InteractionResponseType.deferred_channel_message
            ):
                # The first follow-up would replace the public "thinking..." message and ignore
                # `ephemeral`; removing it first keeps the error visible to the asker only.
                await interaction.delete_original_response()
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS
            )

    await report_failure(send, error, command)


async def report_failure(
    send: Callable[[str], Awaitable[object]], error: BaseException, where: str
) -> None:
    """The one error path (slash commands, buttons, forms and mentions): the expected error's
    message, or a generic line and the traceback in the log; sent with `send`, never raising."""
    if is_expected(error):
        logger.info("%s refused: %s", where, error)
    else:
        logger.error("%s failed", where, exc_info=error)
    try:
        await send(trim(user_message(error), MESSAGE_CHARS))
    except discord.HTTPException:
        logger.warning("could not tell the user about an error", exc_info=True)


class Errors(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self._previous = bot.tree.on_error

    async def cog_load(self) -> None:
        self.bot.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous  # type: ignore[method-assign]

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report(interaction, error)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Errors(bot))
