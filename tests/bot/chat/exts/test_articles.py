"""The articles extension with spec'd mocks: files, bad input, pages, permissions, /unanswered."""

from __future__ import annotations

import discord
import pytest

from bot.chat.client import collection_for
from bot.chat.guards import NotAllowed, check_add, check_remove, cooldown
from index.errors import InputError
from tests.bot.chat.helpers import (
    GUILD_A,
    MockAttachment,
    MockInteraction,
    MockMember,
    close_client,
    make_client,
    run,
)
from tests.conftest import EXAMPLES


@pytest.fixture
def client(settings):
    client = make_client(settings, ask_cooldown=0, add_cooldown=0)
    yield client
    close_client(client)


def ext(client):
    return client.extensions["bot.chat.exts.articles"]


def cog(client):
    return client.get_cog("Articles")


def add(client, interaction=None, **options):
    interaction = interaction or MockInteraction(client)
    run(ext(client).Articles.add.callback(cog(client), interaction, **options))
    return interaction


def test_add_markdown_file_end_to_end(client):
    data = (EXAMPLES / "05-port-strike.md").read_bytes()
    interaction = add(client, file=MockAttachment("strike.md", data))
    interaction.response.defer.assert_awaited_once_with(thinking=True)
    content = interaction.followup.send.call_args.args[0]
    assert content.startswith("Added **#1** Dock workers")
    assert [a.title[:12] for a in client.service.list_articles(collection_for(GUILD_A))] == [
        "Dock workers"
    ]
    again = add(client, file=MockAttachment("strike.md", data))
    assert again.followup.send.call_args.args[0].startswith("Already present")


def test_unsupported_or_oversized_files_are_refused_before_download(client):
    with pytest.raises(InputError, match="unsupported file type"):
        add(client, file=MockAttachment("photo.png", b"\x89PNG"))
    big = MockAttachment("big.txt", b"x")
    big.size = client.settings.max_upload_bytes + 1
    with pytest.raises(InputError, match="too large"):
        add(client, file=big)
    big.read.assert_not_awaited()


def test_a_binary_txt_gets_a_clear_reason(client):
    interaction = add(client, file=MockAttachment("bad.txt", b"\x00\x00binary"))
    assert interaction.followup.send.call_args.args[0].startswith("Could not add it: bad.txt")


def test_several_sources_at_once_are_refused(client):
    with pytest.raises(InputError, match="one of url, text or file"):
        add(client, url="https://example.org", text="Some text.")


def test_modal_submission_adds_the_text(client):
    modal = ext(client).AddTextModal()
    modal.article_title._value = "Bridge reopens"
    modal.source._value = "City Desk"
    modal.url._value = ""
    modal.text._value = "The Old Mill bridge reopened on Friday after repairs costing 2 million."
    interaction = MockInteraction(client)
    run(modal.on_submit(interaction))
    content = interaction.followup.send.call_args.args[0]
    assert content.startswith("Added **#1** Bridge reopens \u2014 City Desk")


def test_articles_pages_ten_at_a_time(client):
    for i in range(23):
        client.service.add_text(
            f"Story {i}\n\nThing number {i} happened today in town {i}.", collection_for(GUILD_A)
        )
    interaction = MockInteraction(client)
    run(ext(client).Articles.articles.callback(cog(client), interaction))
    kwargs = interaction.followup.send.call_args.kwargs
    assert kwargs["embed"].description.count("\n") == 9
    assert kwargs["embed"].footer.text == "page 1 of 3"
    view = kwargs["view"]
    assert view.previous.disabled and not view.next.disabled
    click = MockInteraction(client, user=interaction.user)
    run(view._turn(click, 1))
    page2 = click.response.edit_message.call_args.kwargs["embed"]
    assert page2.footer.text == "page 2 of 3"
    stranger = MockInteraction(client, user=MockMember(id=5))
    assert run(view.interaction_check(stranger)) is False


def test_article_and_remove(client):
    outcome = client.service.add_text(
        "Title here\n\nA body sentence here.", collection_for(GUILD_A)
    )
    article_id = outcome.article.id
    interaction = MockInteraction(client)
    run(ext(client).Articles.article.callback(cog(client), interaction, article_id))
    embed = interaction.followup.send.call_args.kwargs["embed"]
    assert embed.title == f"#{article_id} Title here"
    interaction = MockInteraction(client, manage_guild=True)
    run(ext(client).Articles.remove.callback(cog(client), interaction, article_id))
    assert client.service.list_articles(collection_for(GUILD_A)) == []
    assert client.service.ask("body sentence", collection_for(GUILD_A)).citations == ()


def test_unanswered_is_ephemeral(client):
    client.service.add_text("Title here\n\nA body sentence here.", collection_for(GUILD_A))
    client.feedback.record_answer(
        collection_for(GUILD_A), "what?", {"question": "what?", "abstained": True, "citations": []}
    )
    interaction = MockInteraction(client)
    run(ext(client).Articles.unanswered.callback(cog(client), interaction))
    kwargs = interaction.followup.send.call_args.kwargs
    assert kwargs["ephemeral"] is True and "what?" in kwargs["embed"].description


@pytest.mark.parametrize(
    ("editor_role", "roles", "manage", "can_add", "can_remove"),
    [
        (None, [], False, True, False),
        (None, [], True, True, True),
        ("Editors", [], False, False, False),
        ("Editors", ["Editors"], False, True, True),
        ("Editors", [], True, False, True),
    ],
)
def test_permissions(settings, editor_role, roles, manage, can_add, can_remove):
    client = make_client(settings, editor_role=editor_role)
    try:
        interaction = MockInteraction(client, user=MockMember(roles=roles), manage_guild=manage)
        for check, allowed in ((check_add, can_add), (check_remove, can_remove)):
            if allowed:
                assert run(check(interaction)) is True
            else:
                with pytest.raises(NotAllowed):
                    run(check(interaction))
    finally:
        close_client(client)


def test_add_cooldown_check(settings):
    client = make_client(settings, add_cooldown=15)
    try:
        interaction = MockInteraction(client)
        check = cooldown("add")
        assert run(check(interaction)) is True
        with pytest.raises(discord.app_commands.CommandOnCooldown) as caught:
            run(check(interaction))
        assert caught.value.retry_after == pytest.approx(15)
    finally:
        close_client(client)


def test_outside_a_server_is_refused(client):
    interaction = MockInteraction(client, guild_id=None)
    with pytest.raises(discord.app_commands.NoPrivateMessage):
        run(check_add(interaction))
