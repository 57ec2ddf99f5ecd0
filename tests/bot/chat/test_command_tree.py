"""Every slash command follows Discord's rules, and the rules check itself catches breaches."""

from __future__ import annotations

from bot.chat.command_rules import command_problems
from tests.bot.chat.helpers import close_client, make_client

EXPECTED = {
    "ask", "add", "articles", "article", "remove", "unanswered", "follow", "unfollow", "feeds"
}  # fmt: skip


def test_the_command_tree_is_valid(settings):
    client = make_client(settings)
    try:
        payloads = client.command_payloads()
        assert {p["name"] for p in payloads} == EXPECTED
        assert command_problems(payloads) == []
        for payload in payloads:
            assert payload["contexts"] == [0]  # servers only; DMs are refused
            assert 1 <= len(payload["description"]) <= 100
            assert len(payload.get("options", [])) <= 25
        remove = next(p for p in payloads if p["name"] == "remove")
        assert int(remove["default_member_permissions"]) == 1 << 5  # Manage Server, as a hint
    finally:
        close_client(client)


def test_the_rules_catch_bad_definitions():
    bad = [
        {"name": "Ask", "description": "x", "type": 1},
        {"name": "ok", "description": "", "type": 1},
        {
            "name": "opts",
            "description": "d",
            "type": 1,
            "options": [
                {"name": "a", "description": "d", "type": 3, "required": False},
                {"name": "b", "description": "d", "type": 3, "required": True},
            ],
        },
        {
            "name": "many",
            "description": "d",
            "type": 1,
            "options": [{"name": f"o{i}", "description": "d", "type": 3} for i in range(26)],
        },
        {"name": "long", "description": "d" * 101, "type": 1},
    ]
    problems = " | ".join(command_problems(bad))
    assert "must be lower case" in problems
    assert "/ok: description must be 1-100" in problems
    assert "required option comes after an optional one" in problems
    assert "26 options" in problems
    assert "/long: description" in problems


def test_setup_hook_syncs_globally_or_to_the_dev_server(settings):
    from unittest import mock

    import discord

    from tests.bot.chat.helpers import run

    for dev_guild, expected in ((None, {}), (123456789012345678, "guild")):
        client = make_client(settings, dev_guild_id=dev_guild)
        try:
            with mock.patch.object(client.tree, "sync", mock.AsyncMock(return_value=[])) as sync:
                run(client.setup_hook())
            if expected == "guild":
                guild = sync.call_args.kwargs["guild"]
                assert isinstance(guild, discord.Object) and guild.id == dev_guild
                assert {c.name for c in client.tree.get_commands(guild=guild)} == EXPECTED
            else:
                assert sync.call_args.kwargs == {}
        finally:
            close_client(client)
