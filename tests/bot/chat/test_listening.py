"""The bot on a PostgreSQL store listens for other processes' changes from setup_hook until
close (index/pg_notify.py); on SQLite it has nothing to listen to."""

from __future__ import annotations

from unittest import mock

import pytest

from tests.bot.chat.helpers import close_client, make_client, run


async def started_and_closed(client) -> tuple[bool, bool]:
    """(listening after setup_hook, listening after close)."""
    with (
        mock.patch.object(client, "sync_commands", mock.AsyncMock()),
        mock.patch("bot.chat.feed_task.FeedTask.run_forever", mock.AsyncMock()),
        # discord.py's own close expects a login that never happened here
        mock.patch("discord.ext.commands.AutoShardedBot.close", mock.AsyncMock()),
    ):
        await client.setup_hook()
        started = client.service.knowledge.listening
        await client.close()
    return started, client.service.knowledge.listening


@pytest.mark.usefixtures("backend")
def test_the_bot_listens_from_setup_until_close_on_postgresql_only(backend, settings):
    client = make_client(settings)
    try:
        started, after_close = run(started_and_closed(client))
        assert started is (backend == "postgresql")
        assert after_close is False
    finally:
        close_client(client)
