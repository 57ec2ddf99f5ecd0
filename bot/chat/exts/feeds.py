"""/follow, /unfollow and /feeds: editors choose the news feeds whose stories arrive by
themselves (polled by the bot's feed task, bot/chat/feed_task.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.chat import embeds
from bot.chat.client import NO_MENTIONS, collection_for
from bot.chat.guards import check_feeds, guild_id
from index.feeds.state import FeedInfo
from index.wording import counted

if TYPE_CHECKING:
    from bot.chat.client import BriefbotClient

logger = logging.getLogger(__name__)


def feeds_embed(feeds: list[FeedInfo]) -> discord.Embed:
    """This server's feeds: one field each (title, stories added, last success or error)."""
    embed = discord.Embed(title=f"Feeds ({len(feeds)})", colour=embeds.ANSWER_COLOUR)
    if not feeds:
        embed.description = "No feeds followed yet. Editors add one with /follow."
        return embed
    shown = 0
    for feed in feeds[: embeds.EMBED_FIELDS]:
        name = embeds.trim(f"#{feed.id} {embeds.discord_escape(feed.title)}", 200)
        value = _feed_value(feed)
        if len(embed) + len(name) + len(value) > embeds.EMBED_TOTAL - 50:  # room for the footer
            break
        embed.add_field(name=name, value=value, inline=False)
        shown += 1
    if shown < len(feeds):
        embed.set_footer(text=f"and {len(feeds) - shown} more")
    return embed


def _feed_value(feed: FeedInfo) -> str:
    lines = [f"<{embeds.trim(feed.feed_url, 400)}>"]
    stories = counted(feed.stories_added, "story", "stories")
    last = f"last polled {feed.last_success:%-d %b %H:%M} UTC" if feed.last_success else "not yet"
    lines.append(f"{stories} added \u00b7 {last}")
    if feed.channel_id:
        lines.append(f"announced in <#{feed.channel_id}>")
    if feed.last_error:
        error = embeds.discord_escape(feed.last_error)
        lines.append(f"\u26a0 failing ({feed.failures}x): {embeds.trim(error, 300)}")
    return embeds.trim("\n".join(lines), embeds.FIELD_VALUE)


class Feeds(commands.Cog):
    def __init__(self, bot: BriefbotClient) -> None:
        self.bot = bot

    @app_commands.command(name="follow", description="Follow a news feed: its stories are added")
    @app_commands.describe(
        url="The feed (RSS, Atom or JSON Feed) or a site page that links to its feed",
        channel="Announce new stories in this channel",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(check_feeds)
    async def follow(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 1, 2000],
        channel: discord.TextChannel | None = None,
    ) -> None:
        collection = collection_for(guild_id(interaction))
        await interaction.response.defer(thinking=True)
        where = str(channel.id) if channel else None
        result = await self.bot.run_blocking(
            self.bot.service.follow, url.strip(), collection, where
        )
        feed = result.feed
        verb = "Following" if result.created else "Already following"
        entries = counted(result.entries, "entry", "entries")
        title = embeds.trim(embeds.discord_escape(feed.title), 300)
        said = f"{verb} **#{feed.id}** {title} ({entries} now)"
        if channel:
            said += f"; new stories will be announced in <#{channel.id}>"
        await interaction.followup.send(
            embeds.trim(said + ".", embeds.MESSAGE_CHARS),
            allowed_mentions=NO_MENTIONS,
            suppress_embeds=True,
        )

    @app_commands.command(name="unfollow", description="Stop following a feed (its stories stay)")
    @app_commands.describe(feed="The feed's number, as /feeds shows it, or its link")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(check_feeds)
    async def unfollow(
        self, interaction: discord.Interaction, feed: app_commands.Range[str, 1, 2000]
    ) -> None:
        collection = collection_for(guild_id(interaction))
        await interaction.response.defer(thinking=True)
        removed = await self.bot.run_blocking(self.bot.service.unfollow, feed, collection)
        title = embeds.trim(embeds.discord_escape(removed.title), 300)
        await interaction.followup.send(
            f"Stopped following **#{removed.id}** {title}; its stories stay.",
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(
        name="feeds", description="The feeds this server follows, and how they do"
    )
    @app_commands.guild_only()
    async def feeds(self, interaction: discord.Interaction) -> None:
        collection = collection_for(guild_id(interaction))
        await interaction.response.defer(thinking=True, ephemeral=True)
        feeds = await self.bot.run_blocking(self.bot.service.feeds, collection)
        await interaction.followup.send(
            embed=feeds_embed(feeds), ephemeral=True, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: BriefbotClient) -> None:
    await bot.add_cog(Feeds(bot))
