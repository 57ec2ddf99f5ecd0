"""/ask and /add as Discord delivers them: real Interactions from gateway payloads, run through
the CommandTree, with Discord's HTTP API replaced by a recorder; the exact payloads are checked."""

from __future__ import annotations

import re

import discord
import pytest

from bot import render
from bot.chat import embeds
from bot.chat.client import collection_for
from tests.bot.chat.helpers import (
    GUILD_A,
    GUILD_B,
    close_client,
    command_interaction,
    embed_problems,
    invoke,
    make_client,
    run,
)
from tests.conftest import EXAMPLES

NO_MENTIONS = {"parse": []}
DEFERRED = 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
LIVE_MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d{17,20}>")


@pytest.fixture
def client(settings):
    client = make_client(settings, ask_cooldown=0, add_cooldown=0)
    yield client
    close_client(client)


def add_examples(client, guild_id=GUILD_A):
    client.service.add_sources([str(EXAMPLES)], collection_for(guild_id))


def assert_fields_show(embed: dict, answer: dict) -> None:
    """The embed has one field per cited article (title once) and every citation number."""
    shown = answer["citations"][:5]
    articles = list(dict.fromkeys(c["title"] for c in shown))
    assert [f["name"].removesuffix(" (related)") for f in embed["fields"]] == articles
    numbers = [line.split()[1] for f in embed["fields"] for line in f["value"].splitlines()[1:]]
    assert sorted(numbers) == sorted(f"[{c['n']}]" for c in shown)


def test_ask_defers_first_then_sends_one_embed_without_mentions(client):
    add_examples(client)
    question = "How many members joined the Port Calder strike?"
    sent = run(invoke(client, command_interaction(client, "ask", question=question)))

    first, second = sent.requests
    assert first.is_callback and first.payload == {"type": DEFERRED}
    assert second.method == "POST" and second.path == "/webhooks/{webhook_id}/{webhook_token}"
    payload = second.payload
    assert payload["allowed_mentions"] == NO_MENTIONS
    (embed,) = payload["embeds"]
    assert "**3,400**" in embed["description"]
    assert embed["footer"]["text"].startswith("extractive")
    assert embed_problems(discord.Embed.from_dict(embed)) == []
    # The same answer the CLI gives for the same articles and question.
    cli = render.answer_json(client.service.ask(question, collection_for(GUILD_A)))
    assert_fields_show(embed, cli)
    buttons = payload["components"][0]["components"]
    assert [b.get("label") for b in buttons][0] == "Sources"
    assert all(b["custom_id"].startswith("briefbot:") for b in buttons)


def test_add_text_stores_in_the_server_collection_and_replies_in_one_line(client):
    text = "Harbour closed after storm\n\nThe harbour at Eastmouth closed on Tuesday after a storm."
    sent = run(
        invoke(
            client,
            command_interaction(client, "add", text=text, source="Coast @everyone Wire"),
        )
    )
    first, second = sent.requests
    assert first.is_callback and first.payload == {"type": DEFERRED}
    assert second.payload["allowed_mentions"] == NO_MENTIONS
    content = second.payload["content"]
    assert content.startswith("Added **#1** Harbour closed after storm")
    assert "1 chunk" in content and not LIVE_MENTION.search(content)
    assert len(content) <= embeds.MESSAGE_CHARS
    articles = client.service.list_articles(collection_for(GUILD_A))
    assert [a.title for a in articles] == ["Harbour closed after storm"]
    assert client.service.list_articles(collection_for(GUILD_B)) == []


def test_a_server_cannot_retrieve_another_servers_article(client):
    add_examples(client, GUILD_A)
    question = "How many members joined the Port Calder strike?"
    sent = run(invoke(client, command_interaction(client, "ask", GUILD_B, question=question)))
    embed = sent.requests[1].payload["embeds"][0]
    assert "fields" not in embed or not embed["fields"]
    assert "3,400" not in embed["description"]
    article_id = client.service.list_articles(collection_for(GUILD_A))[0].id
    sent = run(invoke(client, command_interaction(client, "article", GUILD_B, id=article_id)))
    error = sent.requests[-1].payload
    assert f"no article #{article_id}" in error["content"] and error["flags"] == 64


def test_ask_cooldown_says_when_to_try_again(settings):
    client = make_client(settings, ask_cooldown=30)
    try:
        run(invoke(client, command_interaction(client, "ask", question="anything?")))
        sent = run(invoke(client, command_interaction(client, "ask", question="again?")))
        (only,) = sent.requests
        assert only.is_callback
        assert only.payload["type"] == 4  # an immediate message, not a deferral
        assert only.payload["data"]["content"] == "Slow down: try again in 30 s."
        assert only.payload["data"]["flags"] == 64  # ephemeral
        assert only.payload["data"]["allowed_mentions"] == NO_MENTIONS
    finally:
        close_client(client)


def test_add_is_refused_without_the_editor_role(settings):
    client = make_client(settings, editor_role="Editors", add_cooldown=60)
    try:
        for _ in range(2):  # a refused member spends no cooldown either
            sent = run(invoke(client, command_interaction(client, "add", text="Some text here.")))
            (only,) = sent.requests
            assert only.payload["data"]["content"] == (
                "Only members with the Editors role can add articles here."
            )
        assert client.service.list_articles(collection_for(GUILD_A)) == []
    finally:
        close_client(client)


def test_remove_needs_manage_server(client):
    add_examples(client)
    article_id = client.service.list_articles(collection_for(GUILD_A))[0].id
    sent = run(invoke(client, command_interaction(client, "remove", id=article_id)))
    assert sent.requests[0].payload["data"]["content"] == "Removing articles needs Manage Server."
    manage_guild = 1 << 5
    sent = run(
        invoke(
            client, command_interaction(client, "remove", permissions=manage_guild, id=article_id)
        )
    )
    assert sent.requests[0].payload == {"type": DEFERRED}
    assert sent.requests[1].payload["content"].startswith(f"Removed **#{article_id}**")
    ids = [a.id for a in client.service.list_articles(collection_for(GUILD_A))]
    assert article_id not in ids


def test_add_with_nothing_opens_the_form(client):
    sent = run(invoke(client, command_interaction(client, "add")))
    (only,) = sent.requests
    assert only.payload["type"] == 9  # MODAL
    assert only.payload["data"]["title"] == "Add an article"


def test_discord_and_the_cli_give_the_same_answer(client, capsys, monkeypatch):
    """Same articles, same question: the CLI's JSON and the bot's embed agree."""
    import json

    from bot import cli
    from tests.conftest import use_fake_model

    use_fake_model(monkeypatch)
    add_examples(client)
    question = "How many members joined the strike at Port Calder?"
    collection = collection_for(GUILD_A)
    assert cli.main(["ask", "--json", "--collection", collection, question]) == 0
    from_cli = json.loads(capsys.readouterr().out)
    sent = run(invoke(client, command_interaction(client, "ask", question=question)))
    embed = sent.requests[1].payload["embeds"][0]
    assert from_cli["highlight"] and f"**{from_cli['highlight']}**" in embed["description"]
    assert_fields_show(embed, from_cli)
