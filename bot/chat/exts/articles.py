"""Adding and managing articles: /add (link, text, file or a form), /articles, /article,
/remove, and /unanswered for the people curating them."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.chat import embeds
from bot.chat.client import NO_MENTIONS, collection_for
from bot.chat.exts.errors import report
from bot.chat.guards import check_add, check_remove, cooldown, guild_id
from bot.service import Overrides
from index.errors import InputError
from index.ingest.files import SUPPORTED_LABEL
from index.models import AddOutcome

if TYPE_CHECKING:
    from bot.chat.client import BriefbotClient

logger = logging.getLogger(__name__)
PAGE_SIZE = 10


def _collection(interaction: discord.Interaction) -> str:
    return collection_for(guild_id(interaction))


def _client(interaction: discord.Interaction) -> BriefbotClient:
    return interaction.client  # type: ignore[return-value]


async def send_outcome(interaction: discord.Interaction, outcome: AddOutcome) -> None:
    """One public line: what was stored (with the store's note) or why nothing was.

    Link previews are suppressed: the reply names links (the article's, or one that was
    refused) that Discord would otherwise unfurl under it.
    """
    if outcome.status == "failed":
        logger.info("add refused: %s", outcome.error)
    await interaction.followup.send(
        embeds.outcome_message(outcome), allowed_mentions=NO_MENTIONS, suppress_embeds=True
    )


class AddTextModal(discord.ui.Modal, title="Add an article"):
    """Long text does not fit a slash-command option comfortably; this form takes 4,000 chars."""

    article_title: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Title", required=False, max_length=256
    )
    source: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Source (outlet)", required=False, max_length=100
    )
    url: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Link to the original", required=False, max_length=500
    )
    text: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Article text", style=discord.TextStyle.paragraph, min_length=1, max_length=4000
    )

    def __init__(self, allow_duplicate: bool = False) -> None:
        super().__init__()
        self.allow_duplicate = allow_duplicate

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        client = _client(interaction)
        overrides = Overrides(
            title=self.article_title.value or None,
            source=self.source.value or None,
            url=self.url.value or None,
        )
        outcome = await client.run_blocking(
            client.service.add_text,
            self.text.value,
            _collection(interaction),
            overrides,
            allow_duplicate=self.allow_duplicate,
        )
        await send_outcome(interaction, outcome)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report(interaction, error)


class ArticlePages(discord.ui.View):
    """Previous / Next buttons under /articles; only the person who asked can turn pages."""

    def __init__(self, client: BriefbotClient, collection: str, owner: int, total: int) -> None:
        super().__init__(timeout=600)
        self.client = client
        self.collection = collection
        self.owner = owner
        self.total = total
        self.page = 0
        self.pages = max(1, math.ceil(total / PAGE_SIZE))
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    async def embed(self) -> discord.Embed:
        articles = await self.client.run_blocking(
            self.client.service.list_articles, self.collection, PAGE_SIZE, self.page * PAGE_SIZE
        )
        return embeds.article_list_embed(articles, self.page, self.pages, self.total)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner:
            await interaction.response.send_message(
                "Run /articles yourself to page through the list.",
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return False
        return True

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = min(max(0, self.page + step), self.pages - 1)
        self._sync_buttons()
        embed = await self.embed()
        await interaction.response.edit_message(
            embed=embed, view=self, allowed_mentions=NO_MENTIONS
        )

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, 1)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await report(interaction, error)


class Articles(commands.Cog):
    def __init__(self, bot: BriefbotClient) -> None:
        self.bot = bot

    @app_commands.command(
        name="add",
        description="Add an article by link, text or file (no option: a form for long text)",
    )
    @app_commands.describe(
        url="Link to the article",
        text="The article's text (a title line and 'Source:' line are honoured)",
        file=f"A {SUPPORTED_LABEL} file",
        title="Title (overrides what the article says)",
        source="Outlet, e.g. Reuters (overrides what the article says)",
        allow_duplicate="Store it even if a near-identical copy is already here (syndicated)",
    )
    @app_commands.guild_only()
    # Checks run bottom-up: the role check first, so a refused member spends no cooldown.
    @app_commands.check(cooldown("add"))
    @app_commands.check(check_add)
    async def add(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 1, 2000] | None = None,
        text: app_commands.Range[str, 1, 6000] | None = None,
        file: discord.Attachment | None = None,
        title: app_commands.Range[str, 1, 256] | None = None,
        source: app_commands.Range[str, 1, 100] | None = None,
        allow_duplicate: bool = False,
    ) -> None:
        given = [x for x in (url, text, file) if x is not None]
        if len(given) > 1:
            raise InputError("give one of url, text or file, not several")
        collection = _collection(interaction)
        if not given:
            await interaction.response.send_modal(AddTextModal(allow_duplicate))
            return
        if file is not None:
            # By the size Discord announces: an oversize or unsupported file is never fetched.
            refusal = self.bot.service.upload_refusal(file.filename, file.size)
            if refusal:
                raise InputError(refusal)
        await interaction.response.defer(thinking=True)
        outcome = await self._ingest(
            collection, Overrides(title=title, source=source), url, text, file, allow_duplicate
        )
        await send_outcome(interaction, outcome)

    async def _ingest(
        self,
        collection: str,
        overrides: Overrides,
        url: str | None,
        text: str | None,
        file: discord.Attachment | None,
        allow_duplicate: bool,
    ) -> AddOutcome:
        """The same service calls `briefbot add` makes (fetching, parsing, embedding and
        writing all blocking), in a worker thread."""
        service = self.bot.service
        flags = {"allow_duplicate": allow_duplicate}
        if text is not None:
            return await self.bot.run_blocking(
                service.add_text, text, collection, overrides, **flags
            )
        if file is not None:
            data = await file.read()
            return await self.bot.run_blocking(
                service.add_upload, data, file.filename, collection, overrides, **flags
            )
        assert url is not None
        return await self.bot.run_blocking(
            service.add_url, url.strip(), collection, overrides, **flags
        )

    @app_commands.command(name="articles", description="List this server's articles, newest first")
    @app_commands.guild_only()
    async def articles(self, interaction: discord.Interaction) -> None:
        collection = _collection(interaction)
        await interaction.response.defer(thinking=True)
        stats = await self.bot.run_blocking(self.bot.service.stats, collection)
        pages = ArticlePages(self.bot, collection, interaction.user.id, stats.articles)
        embed = await pages.embed()
        await interaction.followup.send(
            embed=embed,
            view=pages if pages.pages > 1 else discord.utils.MISSING,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(
        name="article", description="Show one article: its details and first lines"
    )
    @app_commands.describe(id="The article's number, as shown by /articles")
    @app_commands.guild_only()
    async def article(
        self, interaction: discord.Interaction, id: app_commands.Range[int, 1, 2**53]
    ) -> None:
        collection = _collection(interaction)
        await interaction.response.defer(thinking=True)
        article, text = await self.bot.run_blocking(self.bot.service.article, id, collection)
        await interaction.followup.send(
            embed=embeds.article_embed(article, text), allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="remove", description="Delete an article so it is never cited again")
    @app_commands.describe(id="The article's number, as shown by /articles")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(check_remove)
    async def remove(
        self, interaction: discord.Interaction, id: app_commands.Range[int, 1, 2**53]
    ) -> None:
        collection = _collection(interaction)
        await interaction.response.defer(thinking=True)
        article = await self.bot.run_blocking(self.bot.service.remove, id, collection)
        title = embeds.trim(embeds.discord_escape(article.title), 300)
        await interaction.followup.send(
            f"Removed **#{article.id}** {title}.", allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(
        name="unanswered",
        description="Recent questions the bot could not answer or that got a thumbs down",
    )
    @app_commands.guild_only()
    async def unanswered(self, interaction: discord.Interaction) -> None:
        collection = _collection(interaction)
        await interaction.response.defer(thinking=True, ephemeral=True)
        items = await self.bot.run_blocking(self.bot.feedback.to_follow_up, collection, 15)
        await interaction.followup.send(
            embed=embeds.feedback_embed(items), ephemeral=True, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: BriefbotClient) -> None:
    await bot.add_cog(Articles(bot))
