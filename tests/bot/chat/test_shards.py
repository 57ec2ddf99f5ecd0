"""Sharding (issue 18, item 2): the client is discord.py's real AutoShardedBot, launched with
the shards the settings name; each process serves (and polls the feeds of) only the servers on
its shards; bad shard settings are one line and exit status 2."""

from __future__ import annotations

import logging
from unittest import mock

import discord
import pytest

from bot import cli
from bot.chat.client import collection_for, guild_for, shard_of
from bot.chat.feed_task import FeedTask
from bot.settings import Settings, parse_shard_ids
from tests.bot.chat.exts.test_feeds import serve
from tests.bot.chat.helpers import (
    GUILD_A,
    GUILD_B,
    close_client,
    command_interaction,
    invoke,
    make_client,
    run,
)
from tests.bot.test_run_cli import FAKE_TOKEN
from tests.conftest import EXAMPLES

GUILD_C = (1_000_002 << 22) + 12345  # on shard 2 of 4; GUILD_A on 1, GUILD_B on 3


@pytest.fixture
def sharded(settings):
    client = make_client(
        settings, shard_count=4, shard_ids=(1, 3), ask_cooldown=0, allow_private_urls=True
    )
    yield client
    close_client(client)


def test_the_shards_reach_discord_py(sharded):
    assert isinstance(sharded, discord.AutoShardedClient)
    assert sharded.shard_count == 4 and sharded.shard_ids == [1, 3]
    assert sharded.shards_described() == "shards 1, 3 of 4"


def test_only_the_named_shards_are_launched(sharded):
    """discord.py's own launch: shards 1 and 3 connect, 0 and 2 are another process's."""
    with mock.patch.object(sharded, "launch_shard", mock.AsyncMock()) as launch:
        run(sharded.launch_shards())
    assert [c.args[1] for c in launch.await_args_list] == [1, 3]
    assert sharded._connection.shard_count == 4


def test_without_shard_settings_discord_recommends_the_count(settings):
    """Neither setting: one process, and the count from Discord's /gateway/bot (1 below 2,500
    servers), every shard launched here."""
    client = make_client(settings)
    try:
        assert client.shard_count is None and client.shard_ids is None
        assert client.shards_described().startswith("the shard count Discord recommends")
        gateway = mock.AsyncMock(return_value=(2, "wss://gateway.discord.gg", {}))
        with (
            mock.patch.object(client.http, "get_bot_gateway", gateway),
            mock.patch.object(client, "launch_shard", mock.AsyncMock()) as launch,
        ):
            run(client.launch_shards())
        assert [c.args[1] for c in launch.await_args_list] == [0, 1]
        assert client.shard_count == 2 and client.serves(collection_for(GUILD_C))
    finally:
        close_client(client)


def test_the_logs_say_which_shards_run_here(sharded, caplog):
    """At start and when connected, shown by the CLI without --verbose (`notice`)."""

    async def start() -> None:
        with (
            mock.patch.object(sharded, "sync_commands", mock.AsyncMock()),
            mock.patch("bot.chat.feed_task.FeedTask.run_forever", mock.AsyncMock()),
        ):
            await sharded.setup_hook()
            assert sharded.feed_task is not None
            await sharded.feed_task
        await sharded.on_ready()

    with caplog.at_level(logging.INFO, logger="bot.chat.client"):
        run(start())
    said = {r.getMessage(): getattr(r, "notice", False) for r in caplog.records}
    assert said["running shards 1, 3 of 4"]
    assert said["connected as Briefbot to 0 servers (shards 1, 3 of 4)"]


def test_a_process_serves_the_servers_of_its_shards(sharded):
    assert [shard_of(g, 4) for g in (GUILD_A, GUILD_B, GUILD_C)] == [1, 3, 2]
    assert sharded.serves(collection_for(GUILD_A)) and sharded.serves(collection_for(GUILD_B))
    assert not sharded.serves(collection_for(GUILD_C))
    # The CLI's collections belong to the process running shard 0: not this one.
    assert not sharded.serves("default") and guild_for("default") is None
    assert guild_for(collection_for(GUILD_C)) == GUILD_C


def test_an_interaction_on_a_served_shard_is_answered(sharded):
    sharded.service.add_sources([str(EXAMPLES)], collection_for(GUILD_B))
    question = "How many members joined the Port Calder strike?"
    interaction = command_interaction(sharded, "ask", GUILD_B, question=question)
    sent = run(invoke(sharded, interaction))
    answer = sent.requests[-1].payload
    assert "**3,400**" in answer["embeds"][0]["description"]
    assert answer["allowed_mentions"] == {"parse": []}


def test_the_feed_task_polls_only_the_feeds_of_its_shards(sharded, server):
    """Feeds followed by a server on shard 2 and by the CLI ('default', shard 0's process)
    are another process's: not polled here, and their caches never loaded here."""
    _, feed = serve(server, "bridge")
    for collection in (collection_for(GUILD_A), collection_for(GUILD_C), "default"):
        sharded.service.follow(feed, collection)
    task = FeedTask(sharded, idle=60.0)
    results = run(task.pass_once())
    assert [r.feed.collection for r in results] == [collection_for(GUILD_A)]
    assert sharded.service.knowledge.caches.held() == [collection_for(GUILD_A)]
    # The other processes' feeds are due now, but this task sleeps until its own are.
    assert run(task.wait()) == 60.0


@pytest.mark.parametrize(
    ("text", "ids"), [("0,1", (0, 1)), ("0-3", (0, 1, 2, 3)), (" 3, 0-1 ,1", (0, 1, 3))]
)
def test_shard_ids_are_read_as_lists_and_ranges(text, ids):
    assert parse_shard_ids(text) == ids


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"BRIEFBOT_SHARD_IDS": "0,1"}, "BRIEFBOT_SHARD_IDS: shard ids need BRIEFBOT_SHARD_COUNT"),
        ({"BRIEFBOT_SHARD_COUNT": "2", "BRIEFBOT_SHARD_IDS": "1-2"}, "shard 2 is outside 0-1"),
        ({"BRIEFBOT_SHARD_COUNT": "2", "BRIEFBOT_SHARD_IDS": "one"}, "'one' is not a shard id"),
        ({"BRIEFBOT_SHARD_COUNT": "0"}, "BRIEFBOT_SHARD_COUNT: Input should be greater than"),
        ({"BRIEFBOT_CACHE_MAX_MB": "-5"}, "BRIEFBOT_CACHE_MAX_MB: Input should be greater"),
    ],
)
def test_bad_shard_settings_are_one_line_and_status_2(capsys, monkeypatch, env, says):
    monkeypatch.setenv("DISCORD_TOKEN", FAKE_TOKEN)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err and FAKE_TOKEN not in err


def test_settings_hold_the_shards(monkeypatch):
    monkeypatch.setenv("BRIEFBOT_SHARD_COUNT", "8")
    monkeypatch.setenv("BRIEFBOT_SHARD_IDS", "4-7")
    settings = Settings()
    assert settings.shard_count == 8 and settings.shard_ids == (4, 5, 6, 7)


def test_check_says_which_shards_this_process_runs(capsys, fake_model, monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("BRIEFBOT_SHARD_COUNT", "4")
    monkeypatch.setenv("BRIEFBOT_SHARD_IDS", "1,3")
    assert cli.main(["run", "--check"]) == 0
    out = capsys.readouterr().out
    assert "shards: shards 1, 3 of 4" in out and out.rstrip().endswith("ready")
