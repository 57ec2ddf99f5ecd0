"""Who may do what, and how often: checks the bot enforces itself.

Discord's default command permissions are only a hint a server admin can override, so the
bot checks roles and rate limits on every call. Pure functions over member data, so they are
tested without Discord.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.settings import Settings


class NotAllowed(app_commands.CheckFailure):
    """A member tried something their role does not allow; the message says what is needed."""


def has_role(role_ids: Iterable[int], role_names: Iterable[str], wanted: str | None) -> bool:
    """Whether a member has the configured role, given by name (case-insensitive) or id."""
    if not wanted:
        return False
    wanted = wanted.strip()
    if wanted.isdigit() and int(wanted) in set(role_ids):
        return True
    return wanted.lower() in {name.lower() for name in role_names}


def may_add(role_ids: Iterable[int], role_names: Iterable[str], editor_role: str | None) -> bool:
    """Everyone may add, unless an editor role is configured: then only its members."""
    return not editor_role or has_role(role_ids, role_names, editor_role)


def may_remove(
    role_ids: Iterable[int], role_names: Iterable[str], manage_guild: bool, editor_role: str | None
) -> bool:
    """Removing needs Manage Server or the editor role."""
    return manage_guild or has_role(role_ids, role_names, editor_role)


class Cooldowns:
    """One use per `per` seconds for each (action, user); reuses discord.py's token bucket."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, int], app_commands.Cooldown] = {}

    def hit(self, action: str, user_id: int, per: float) -> float | None:
        """Record a use; returns the seconds to wait when the user must wait, else None."""
        if per <= 0:
            return None
        key = (action, user_id)
        bucket = self._buckets.get(key)
        if bucket is None or bucket.per != per:
            bucket = self._buckets[key] = app_commands.Cooldown(1, per)
        retry = bucket.update_rate_limit(self._clock())
        if len(self._buckets) > 10_000:
            self._forget_idle()
        return retry

    def _forget_idle(self) -> None:
        now = self._clock()
        for key, bucket in list(self._buckets.items()):
            if bucket.get_tokens(now) >= bucket.rate:
                del self._buckets[key]


# -- as app-command checks -------------------------------------------------------------
def _member_roles(interaction: discord.Interaction) -> tuple[list[int], list[str]]:
    roles = getattr(interaction.user, "roles", None) or []
    return [r.id for r in roles], [r.name for r in roles]


def _settings(interaction: discord.Interaction) -> Any:
    return interaction.client.settings  # type: ignore[attr-defined]


def guild_id(interaction: discord.Interaction) -> int:
    """The server the interaction comes from; NoPrivateMessage in a direct message."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


async def check_add(interaction: discord.Interaction) -> bool:
    guild_id(interaction)
    role = _settings(interaction).editor_role
    if not may_add(*_member_roles(interaction), role):
        raise NotAllowed(f"Only members with the {role} role can add articles here.")
    return True


def check_editor(action: str) -> Callable[[discord.Interaction[Any]], Coroutine[Any, Any, bool]]:
    """Manage Server, or the editor role when one is set: removing articles, following feeds."""

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        guild_id(interaction)
        role = _settings(interaction).editor_role
        manage = bool(interaction.permissions.manage_guild)
        if not may_remove(*_member_roles(interaction), manage, role):
            needed = f"Manage Server or the {role} role" if role else "Manage Server"
            raise NotAllowed(f"{action} needs {needed}.")
        return True

    return predicate


check_remove = check_editor("Removing articles")
check_feeds = check_editor("Following feeds")


def cooldown(action: str) -> Callable[[discord.Interaction[Any]], Coroutine[Any, Any, bool]]:
    """A per-user cooldown whose length comes from the settings (`<action>_cooldown`)."""

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        check_cooldown(
            interaction.client.cooldowns, action, interaction.user.id, _settings(interaction)
        )
        return True

    return predicate


def check_cooldown(cooldowns: Cooldowns, action: str, user_id: int, settings: Settings) -> None:
    """CommandOnCooldown when `user_id` did `action` less than `<action>_cooldown` seconds
    ago: slash commands and mentions share the cooldown and the error path."""
    per = float(getattr(settings, f"{action}_cooldown"))
    retry = cooldowns.hit(action, user_id, per)
    if retry:
        raise app_commands.CommandOnCooldown(app_commands.Cooldown(1, per), retry)
