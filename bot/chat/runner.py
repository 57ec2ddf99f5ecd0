"""`briefbot run` and `briefbot run --check`: start the Discord bot, or prove the set-up works.

`--check` does everything short of connecting (settings, data dir, model, index, command tree,
Discord's rules for the commands), so a user can check a set-up and CI can run it offline.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from index.wording import counted

if TYPE_CHECKING:
    from bot.chat.client import BriefbotClient
    from bot.service import Briefbot
    from bot.settings import Settings

logger = logging.getLogger(__name__)
# Three dot-separated base64url parts: the bot's id, a timestamp, an HMAC.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{18,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")


def token_problem(settings: Settings, required: bool = True) -> str | None:
    """Why the token cannot be used, in one line that never contains the token."""
    token = settings.discord_token
    if token is None or not token.get_secret_value().strip():
        if not required:
            return None
        return "DISCORD_TOKEN is not set (put the bot token in the environment or .env)"
    value = token.get_secret_value().strip()
    if value.lower().startswith("bot ") and TOKEN_SHAPE.match(value[4:].strip()):
        return "DISCORD_TOKEN starts with 'Bot ': set the token alone, without that prefix"
    if not TOKEN_SHAPE.match(value):
        parts = len(value.split("."))
        why = (
            f"a bot token has three dot-separated parts, this one {parts}"
            if parts != 3
            else "its parts are too short or hold other characters than letters, digits, - and _"
        )
        return (
            f"DISCORD_TOKEN does not look like a bot token ({why}); copy it again from the "
            "developer portal (Bot, Reset Token)"
        )
    return None


def build_client(settings: Settings, service: Briefbot | None = None) -> BriefbotClient:
    from bot.chat.client import BriefbotClient
    from bot.service import Briefbot

    return BriefbotClient(service or Briefbot(settings), settings)


def describe_commands(payloads: list[dict[str, Any]]) -> list[str]:
    lines = []
    for payload in payloads:
        options = " ".join(
            f"{o['name']}:" if o.get("required") else f"[{o['name']}:]"
            for o in payload.get("options", [])
        )
        lines.append(f"/{payload['name']} {options}".rstrip() + f"  - {payload['description']}")
    return lines


def reader_status(settings: Settings) -> str:
    """Which reader chooses answers, and why the rules do when the model was asked for."""
    if settings.reader == "rules":
        return "rules (BRIEFBOT_READER=rules)"
    from bot.answer.reader import MODEL_DIR
    from bot.service import answer_reader

    if answer_reader(settings) is None:
        return "rules (the trained model could not be loaded; see the warning above)"
    return f"trained model ({MODEL_DIR}, checksum ok)"


def store_described(service: Briefbot) -> str:
    """Which store the bot would use: the SQLite file, or the server's URL (password masked)."""
    store = service.knowledge.store
    if store.backend == "postgresql":
        return f"PostgreSQL {store.describe()} (caches kept current by LISTEN/NOTIFY)"
    return f"SQLite {Path(store.describe()).resolve()}"


def check(settings: Settings, out: TextIO | None = None) -> int:
    """Load everything the bot needs and validate the commands; exit status 0 when ready."""
    out = out or sys.stdout
    problem = token_problem(settings, required=False)
    if problem:
        print(f"briefbot: {problem}", file=sys.stderr)
        return 2
    from bot.service import Briefbot

    service = Briefbot(settings)
    try:
        dimension = service.knowledge.embedder.encode(["set-up check"]).shape[1]
        collections = service.verify(None)
        client = build_client(settings, service)
        asyncio.run(client.load_all())
        payloads = client.command_payloads()
        problems = client.command_problems()
        shards = client.shards_described()
        client.feedback.close()
    finally:
        service.close()
    print(f"data dir: {settings.data_dir.resolve()}", file=out)
    print(f"store: {store_described(service)}", file=out)
    embedder = service.knowledge.embedder
    backend = getattr(embedder, "backend", "torch")
    print(f"model: {embedder.name} ({dimension} dimensions, {backend})", file=out)
    print(f"answer reader: {reader_status(settings)}", file=out)
    counts = ", ".join(f"{name} ({counted(n, 'chunk')})" for name, n in collections.checked.items())
    state = "ok" if collections.ok else "PROBLEMS"
    print(f"index: {state}; {counts or 'no collections yet'}", file=out)
    print(f"shards: {shards}", file=out)
    token = "set" if settings.discord_token else "not set (needed by `briefbot run`)"
    print(f"token: {token}", file=out)
    scope = f"server {settings.dev_guild_id}" if settings.dev_guild_id else "global"
    print(f"commands ({len(payloads)}, sync: {scope}):", file=out)
    for line in describe_commands(payloads):
        print(f"  {line}", file=out)
    for line in collections.problems:
        print(f"index problem: {line}", file=out)
    for line in problems:
        print(f"command problem: {line}", file=out)
    if not settings.discord_token:
        # Everything else is in order, but `briefbot run` would stop at once: not ready.
        print("NOT ready: set DISCORD_TOKEN (environment or .env)", file=out)
        return 2
    ok = not problems and collections.ok
    print("ready" if ok else "NOT ready", file=out)
    return 0 if ok else 1


def run(settings: Settings) -> int:
    """Connect to Discord and serve until interrupted."""
    problem = token_problem(settings)
    if problem:
        print(f"briefbot: {problem}", file=sys.stderr)
        return 2
    import discord

    assert settings.discord_token is not None
    token = settings.discord_token.get_secret_value().strip()
    client = build_client(settings)
    try:
        asyncio.run(_serve(client, token))
    except discord.LoginFailure:
        print(
            "briefbot: Discord rejected DISCORD_TOKEN (reset it in the developer portal)",
            file=sys.stderr,
        )
        return 2
    except discord.PrivilegedIntentsRequired:
        print("briefbot: Discord refused the bot's intents", file=sys.stderr)
        return 2
    finally:
        client.service.close()
    return 0


async def _serve(client: BriefbotClient, token: str) -> None:
    async with client:
        await client.start(token)
