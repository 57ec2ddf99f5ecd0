"""Discord test doubles.

Two kinds, as the issue asks:
- spec'd mocks (`MockInteraction`, `MockMember`, ...) in the style of python-discord/bot's
  tests/helpers.py, for calling command callbacks and checks directly;
- real `discord.Interaction` objects built from gateway payloads and run through the
  `CommandTree`, with a fake webhook adapter in place of Discord's HTTP API that records
  every request's exact JSON payload (as discord.py's own tests build interactions).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import discord
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from bot.chat import embeds
from bot.chat.client import BriefbotClient
from bot.chat.guards import Cooldowns
from bot.service import Briefbot
from bot.settings import Settings
from index.knowledge import KnowledgeBase
from tests.conftest import HashingEmbedder

APPLICATION_ID = 900000000000000001
BOT_ID = 900000000000000001
GUILD_A = 111111111111111111
GUILD_B = 222222222222222222
CHANNEL = 333333333333333333
USER = 444444444444444444
_ids = itertools.count(500000000000000000)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# -- spec'd mocks ---------------------------------------------------------------------------
def MockRole(id: int = 1, name: str = "member") -> mock.Mock:  # noqa: N802 - reads like a class
    role = mock.Mock(spec_set=discord.Role)
    role.configure_mock(id=id, name=name)
    return role


def MockMember(  # noqa: N802
    id: int = USER, roles: list[str] | None = None, bot: bool = False
) -> mock.Mock:
    member = mock.Mock(spec=discord.Member)
    member.configure_mock(
        id=id,
        bot=bot,
        name="reader",
        roles=[MockRole(i + 1, n) for i, n in enumerate(roles or [])],
    )
    return member


def MockMessage(id: int | None = None, **attrs: Any) -> mock.Mock:  # noqa: N802
    message = mock.Mock(spec=discord.Message)
    message.configure_mock(id=id or next(_ids), **attrs)
    message.reply = mock.AsyncMock(side_effect=lambda *a, **k: MockMessage())
    return message


def MockAttachment(name: str, data: bytes, size: int | None = None) -> mock.Mock:  # noqa: N802
    """An uploaded file: `size` is what Discord announces, `read()` returns `data`."""
    file = mock.Mock(spec=discord.Attachment)
    file.configure_mock(filename=name, size=len(data) if size is None else size)
    file.read = mock.AsyncMock(return_value=data)
    return file


def MockInteraction(  # noqa: N802
    client: Any,
    guild_id: int | None = GUILD_A,
    user: mock.Mock | None = None,
    manage_guild: bool = False,
    channel: Any = None,
) -> mock.Mock:
    """An Interaction whose response and followup record what the command sent."""
    interaction = mock.MagicMock(spec=discord.Interaction)
    response = mock.MagicMock(spec=discord.InteractionResponse)
    done = {"value": False}

    async def responded(*args: Any, **kwargs: Any) -> None:
        done["value"] = True

    for name in ("defer", "send_message", "send_modal", "edit_message"):
        getattr(response, name).side_effect = responded
    response.is_done.side_effect = lambda: done["value"]
    followup = mock.MagicMock(spec=discord.Webhook)
    followup.send = mock.AsyncMock(side_effect=lambda *a, **k: MockMessage())
    interaction.configure_mock(
        client=client,
        guild_id=guild_id,
        user=user or MockMember(),
        permissions=discord.Permissions(manage_guild=manage_guild),
        response=response,
        followup=followup,
        channel=channel,
        channel_id=CHANNEL,
        command=None,
    )
    return interaction


# -- a client over a fast knowledge base ----------------------------------------------------
def make_client(settings: Settings, **overrides: Any) -> BriefbotClient:
    settings = settings.model_copy(update=overrides) if overrides else settings
    service = Briefbot(settings, KnowledgeBase(settings, embedder=HashingEmbedder()))
    client = BriefbotClient(service, settings, cooldowns=Cooldowns(clock=lambda: 1000.0))
    # As after login: the bot's own user, which Interaction parsing reads.
    client._connection.user = discord.ClientUser(
        state=client._connection,
        data={
            "id": str(BOT_ID),
            "username": "Briefbot",
            "discriminator": "0",
            "avatar": None,
            "bot": True,
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
        },
    )
    client._connection.application_id = APPLICATION_ID
    run(client.load_all())
    return client


def close_client(client: BriefbotClient) -> None:
    client.feedback.close()
    client.service.close()


# -- real interactions through a fake HTTP layer ---------------------------------------------
@dataclass
class SentRequest:
    method: str
    path: str
    payload: dict[str, Any] | None
    params: dict[str, Any] | None

    @property
    def is_callback(self) -> bool:
        return self.path.endswith("/callback")


@dataclass
class FakeAdapter(AsyncWebhookAdapter):
    """Discord's webhook/interaction API, answered locally; every request is kept."""

    requests: list[SentRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    async def request(self, route: Any, session: Any, **kwargs: Any) -> Any:
        payload = kwargs.get("payload")
        if payload is None and kwargs.get("multipart"):
            import json

            payload = json.loads(kwargs["multipart"][0]["value"])
        self.requests.append(SentRequest(route.method, route.path, payload, kwargs.get("params")))
        if route.path.endswith("/callback"):
            return {"interaction": {"id": str(route.webhook_id), "type": 2}}
        return message_payload(payload or {})


def message_payload(sent: dict[str, Any]) -> dict[str, Any]:
    """What Discord returns for a message it accepted: the sent content with ids added."""
    return {
        "id": str(next(_ids)),
        "channel_id": str(CHANNEL),
        "type": 0,
        "content": sent.get("content", ""),
        "author": {
            "id": str(BOT_ID),
            "username": "Briefbot",
            "discriminator": "0",
            "avatar": None,
            "bot": True,
        },
        "embeds": sent.get("embeds", []),
        "components": [],
        "attachments": [],
        "mentions": [],
        "mention_roles": [],
        "mention_everyone": False,
        "pinned": False,
        "tts": False,
        "timestamp": "2026-11-27T00:00:00+00:00",
        "edited_timestamp": None,
        "flags": sent.get("flags", 0),
        "webhook_id": str(APPLICATION_ID),
    }


def string_options(**options: Any) -> list[dict[str, Any]]:
    """Options as Discord sends them; an attachment option (a dict from `attachment_payload`)
    is sent as its id, its details going in the interaction's resolved data."""
    kinds = {
        str: discord.AppCommandOptionType.string,
        int: discord.AppCommandOptionType.integer,
        bool: discord.AppCommandOptionType.boolean,
        dict: discord.AppCommandOptionType.attachment,
    }
    return [
        {
            "type": kinds[type(value)].value,
            "name": name,
            "value": value["id"] if isinstance(value, dict) else value,
        }
        for name, value in options.items()
    ]


def attachment_payload(filename: str, size: int) -> dict[str, Any]:
    """An uploaded file as Discord describes it in a command's resolved data (not its bytes:
    those are fetched from the CDN URL, see `FakeCdn`)."""
    attachment_id = str(next(_ids))
    url = f"https://cdn.discordapp.com/attachments/{CHANNEL}/{attachment_id}/{filename}"
    return {"id": attachment_id, "filename": filename, "size": size, "url": url, "proxy_url": url}


class FakeCdn:
    """Discord's CDN for attachments, answered locally; records which files were downloaded."""

    def __init__(self, client: BriefbotClient, files: dict[str, bytes] | None = None) -> None:
        self.files = dict(files or {})
        self.downloads: list[str] = []
        client.http.get_from_cdn = self.get_from_cdn  # type: ignore[method-assign]

    def serve(self, payload: dict[str, Any], data: bytes) -> dict[str, Any]:
        self.files[payload["url"]] = data
        return payload

    async def get_from_cdn(self, url: str) -> bytes:
        self.downloads.append(url)
        return self.files[url]


def command_interaction(
    client: BriefbotClient,
    name: str,
    guild_id: int = GUILD_A,
    user_id: int = USER,
    permissions: int = 0,
    **options: Any,
) -> discord.Interaction:
    """A real Interaction, from the payload Discord sends when someone runs /`name`."""
    command = client.tree.get_command(name)
    assert command is not None, name
    data = {
        "id": str(next(_ids)),
        "application_id": str(APPLICATION_ID),
        "token": "interaction-token",
        "version": 1,
        "type": 2,
        "guild_id": str(guild_id),
        "channel_id": str(CHANNEL),
        "channel": {
            "id": str(CHANNEL),
            "type": 0,
            "guild_id": str(guild_id),
            "name": "news",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        },
        "member": {
            "user": {
                "id": str(user_id),
                "username": "reader",
                "discriminator": "0",
                "avatar": None,
                "global_name": None,
            },
            "roles": [],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": str(permissions),
        },
        "data": {
            "id": str(hash(command)),
            "name": name,
            "type": 1,
            "options": string_options(**options),
            "resolved": {
                "attachments": {v["id"]: v for v in options.values() if isinstance(v, dict)}
            },
        },
        "app_permissions": "0",
        "locale": "en-US",
        "attachment_size_limit": 8388608,
        "entitlements": [],
        "authorizing_integration_owners": {},
        "context": 0,
    }
    return discord.Interaction(data=data, state=client._connection)  # type: ignore[arg-type]


async def invoke(client: BriefbotClient, interaction: discord.Interaction) -> FakeAdapter:
    """Run `interaction` through the command tree; return the fake HTTP layer's record."""
    adapter = FakeAdapter()
    token = async_context.set(adapter)
    try:
        # What CommandTree._from_interaction schedules for an INTERACTION_CREATE event.
        try:
            await client.tree._call(interaction)
        except discord.app_commands.AppCommandError as exc:
            await client.tree._dispatch_error(interaction, exc)
    finally:
        async_context.reset(token)
    return adapter


def embed_problems(embed: discord.Embed) -> list[str]:
    """Which of Discord's embed limits `embed` breaks (empty when it is fine to send)."""
    data = embed.to_dict()
    problems = []
    if len(data.get("title", "")) > embeds.EMBED_TITLE:
        problems.append("title too long")
    if len(data.get("description", "")) > embeds.EMBED_DESCRIPTION:
        problems.append("description too long")
    fields = data.get("fields", [])
    if len(fields) > embeds.EMBED_FIELDS:
        problems.append("too many fields")
    for f in fields:
        if not f["name"] or len(f["name"]) > embeds.FIELD_NAME:
            problems.append(f"field name length {len(f['name'])}")
        if not f["value"] or len(f["value"]) > embeds.FIELD_VALUE:
            problems.append(f"field value length {len(f['value'])}")
    if len(data.get("footer", {}).get("text", "")) > embeds.EMBED_FOOTER:
        problems.append("footer too long")
    if len(embed) > embeds.EMBED_TOTAL:
        problems.append(f"embed total {len(embed)}")
    return problems
