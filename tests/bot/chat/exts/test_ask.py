"""The ask extension with spec'd mocks: buttons, feedback, mentions and follow-ups."""

from __future__ import annotations

from unittest import mock

import discord
import pytest

from bot.chat.client import BriefbotClient, collection_for
from bot.chat.exts.ask import strip_mention
from bot.chat.exts.errors import DM_REFUSAL
from index.errors import CorruptStoreError
from tests.bot.chat.helpers import (
    BOT_ID,
    GUILD_A,
    GUILD_B,
    MockInteraction,
    MockMember,
    MockMessage,
    close_client,
    make_client,
    run,
)
from tests.conftest import EXAMPLES

QUESTION = "How many members joined the Port Calder strike?"


@pytest.fixture
def client(settings):
    client = make_client(settings, ask_cooldown=0, add_cooldown=0)
    client.service.add_sources([str(EXAMPLES)], collection_for(GUILD_A))
    yield client
    close_client(client)


def ask_cog(client):
    return client.get_cog("Ask")


def ext(client):
    """The module as the client loaded it (discord.py loads extensions as fresh modules)."""
    return client.extensions["bot.chat.exts.ask"]


def ask_via_slash(client, question=QUESTION, guild_id=GUILD_A):
    interaction = MockInteraction(client, guild_id=guild_id)
    run(ext(client).Ask.ask.callback(ask_cog(client), interaction, question))
    return interaction


def sent_answer_id(interaction) -> int:
    view = interaction.followup.send.call_args.kwargs["view"]
    return view.children[0].answer_id


def test_slash_ask_defers_then_sends_embed_and_buttons(client):
    interaction = ask_via_slash(client)
    interaction.response.defer.assert_awaited_once_with(thinking=True)
    kwargs = interaction.followup.send.call_args.kwargs
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
    assert kwargs["wait"] is True
    assert "3,400" in kwargs["embed"].description
    labels = [c.item.label for c in kwargs["view"].children]
    assert labels[0] == "Sources"


def test_sources_button_shows_full_passages_only_to_the_clicker(client):
    answer_id = sent_answer_id(ask_via_slash(client))
    click = MockInteraction(client)
    run(ext(client).SourcesButton(answer_id).callback(click))
    kwargs = click.response.send_message.call_args.kwargs
    assert kwargs["ephemeral"] is True
    assert kwargs["embed"].title == "Sources"
    assert "3,400" in kwargs["embed"].fields[0].value


def test_buttons_of_one_server_do_not_work_in_another(client):
    answer_id = sent_answer_id(ask_via_slash(client))
    click = MockInteraction(client, guild_id=GUILD_B)
    run(ext(client).SourcesButton(answer_id).callback(click))
    assert click.response.send_message.call_args.args == ("That answer is no longer available.",)


def test_thumbs_down_and_abstentions_are_listed_for_curators(client):
    answer_id = sent_answer_id(ask_via_slash(client))
    run(ext(client).VoteButton(answer_id, up=False).callback(MockInteraction(client)))
    ask_via_slash(client, "What colour is the moon above Zanzibar tonight?")
    items = client.feedback.to_follow_up(collection_for(GUILD_A))
    assert [(i["kind"], i["question"]) for i in items] == [
        ("abstained", "What colour is the moon above Zanzibar tonight?"),
        ("down", QUESTION),
    ]
    assert items[1]["citations"][0]["title"].startswith("Dock workers")
    assert client.feedback.to_follow_up(collection_for(GUILD_B)) == []
    # Voting again changes the vote instead of adding one.
    run(ext(client).VoteButton(answer_id, up=True).callback(MockInteraction(client)))
    assert [i["kind"] for i in client.feedback.to_follow_up(collection_for(GUILD_A))] == [
        "abstained"
    ]


def test_dynamic_items_parse_their_custom_ids(client):
    import re

    vote_button = ext(client).VoteButton
    match = re.fullmatch(vote_button.__discord_ui_compiled_template__, "briefbot:vote:down:7")
    button = run(vote_button.from_custom_id(MockInteraction(client), mock.Mock(), match))
    assert (button.answer_id, button.up) == (7, False)


def mention_message(content, guild_id=GUILD_A, reference=None, channel=None):
    guild = mock.Mock(spec=discord.Guild)
    guild.id = guild_id
    bot_user = MockMember(id=BOT_ID, bot=True)
    channel = channel or mock.MagicMock(spec=discord.TextChannel)
    channel.id = 42
    return MockMessage(
        content=content,
        guild=guild if guild_id else None,
        author=MockMember(),
        mentions=[bot_user],
        reference=reference,
        channel=channel,
    )


@pytest.fixture
def as_bot(monkeypatch):
    monkeypatch.setattr(
        BriefbotClient, "user", property(lambda self: MockMember(id=BOT_ID, bot=True))
    )


def test_strip_mention():
    assert strip_mention(f"<@{BOT_ID}> how many?  <@!{BOT_ID}>", BOT_ID) == "how many?"


def test_mention_is_answered_as_a_reply_without_pinging(client, as_bot):
    message = mention_message(f"<@{BOT_ID}> {QUESTION}")
    run(ask_cog(client).on_message(message))
    kwargs = message.reply.call_args.kwargs
    assert kwargs["mention_author"] is False
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
    assert "3,400" in kwargs["embed"].description


def test_reply_to_the_answer_is_a_follow_up(client, as_bot):
    first = mention_message(f"<@{BOT_ID}> How many members joined the strike?")
    first.reply.side_effect = None
    first.reply.return_value = MockMessage(id=777)  # the bot's answer, as Discord numbered it
    run(ask_cog(client).on_message(first))
    reference = mock.Mock(spec=discord.MessageReference)
    reference.message_id = 777
    follow = mention_message(f"<@{BOT_ID}> and how long will it last?", reference=reference)
    with mock.patch.object(client.service, "ask", wraps=client.service.ask) as spy:
        run(ask_cog(client).on_message(follow))
    asked = spy.call_args.args[0]
    assert asked == "How long will members last?"
    embed = follow.reply.call_args.kwargs["embed"]
    assert embed.description.startswith("*Follow-up read as:")


def test_a_direct_message_is_refused_politely(client, as_bot):
    message = mention_message("hello", guild_id=None)
    run(ask_cog(client).on_message(message))
    assert message.reply.call_args.args == (DM_REFUSAL,)


def test_mention_cooldown(settings, as_bot):
    client = make_client(settings, ask_cooldown=20)
    try:
        run(ask_cog(client).on_message(mention_message(f"<@{BOT_ID}> first?")))
        second = mention_message(f"<@{BOT_ID}> second?")
        run(ask_cog(client).on_message(second))
        assert second.reply.call_args.args == ("Slow down: try again in 20 s.",)
    finally:
        close_client(client)


def test_a_failing_mention_gets_one_line_and_the_bot_lives_on(client, as_bot, caplog):
    message = mention_message(f"<@{BOT_ID}> {QUESTION}")
    with mock.patch.object(client.service, "ask", side_effect=RuntimeError("boom")):
        run(ask_cog(client).on_message(message))
    assert message.reply.call_args.args[0].startswith("Something went wrong")
    assert any("boom" in str(r.exc_info) for r in caplog.records if r.exc_info)


def test_a_damaged_store_is_the_same_clear_line_for_a_mention(client, as_bot, caplog):
    """Mentions go through the slash commands' error path: an expected error is its message
    (no traceback logged), with no pings."""
    message = mention_message(f"<@{BOT_ID}> {QUESTION}")
    damaged = CorruptStoreError("briefbot.sqlite3: the database is damaged (malformed)")
    with mock.patch.object(client.service, "ask", side_effect=damaged):
        run(ask_cog(client).on_message(message))
    assert message.reply.call_args.args == (str(damaged),)
    assert message.reply.call_args.kwargs["allowed_mentions"].to_dict() == {"parse": []}
    assert not any(r.exc_info for r in caplog.records)


def test_slash_ask_in_a_thread_started_from_an_answer_is_a_follow_up(client):
    first = ask_via_slash(client, "How many members joined the strike?")
    answer_id = sent_answer_id(first)
    client.feedback.set_message(answer_id, 888)  # the thread grew from message 888
    thread = mock.MagicMock(spec=discord.Thread)
    thread.id = 888
    interaction = MockInteraction(client, channel=thread)
    with mock.patch.object(client.service, "ask", wraps=client.service.ask) as spy:
        run(
            ext(client).Ask.ask.callback(ask_cog(client), interaction, "and how long will it last?")
        )
    assert spy.call_args.args[0] == "How long will members last?"


def test_in_a_plain_channel_a_new_question_is_not_rewritten(client):
    ask_via_slash(client, "How many members joined the strike?")
    with mock.patch.object(client.service, "ask", wraps=client.service.ask) as spy:
        ask_via_slash(client, "and how long will it last?")
    assert spy.call_args.args[0] == "and how long will it last?"
