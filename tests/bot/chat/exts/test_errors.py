"""Failures: one short ephemeral line for the user, the traceback in the log."""

from __future__ import annotations

import logging
from unittest import mock

from discord import app_commands

from bot.chat.exts.errors import UNEXPECTED, report, user_message
from index.errors import NotFoundError
from tests.bot.chat.helpers import (
    GUILD_A,
    close_client,
    command_interaction,
    invoke,
    make_client,
    run,
)


def test_messages():
    assert user_message(NotFoundError("no article #9 in collection 'guild-1'")).startswith(
        "no article #9"
    )
    assert user_message(app_commands.CommandOnCooldown(app_commands.Cooldown(1, 5), 2.2)) == (
        "Slow down: try again in 3 s."
    )
    assert user_message(RuntimeError("secret internals")) == UNEXPECTED


def test_an_unexpected_error_is_logged_and_shown_as_one_ephemeral_line(settings, caplog):
    client = make_client(settings, ask_cooldown=0)
    try:
        boom = mock.patch.object(client.service, "ask", side_effect=RuntimeError("kaboom"))
        with boom, caplog.at_level(logging.ERROR, logger="bot.chat.exts.errors"):
            sent = run(invoke(client, command_interaction(client, "ask", GUILD_A, question="why?")))
        deferred, deleted, error = sent.requests
        assert deferred.payload == {"type": 5}
        assert deleted.method == "DELETE" and deleted.path.endswith("/messages/@original")
        assert error.payload["content"] == UNEXPECTED and error.payload["flags"] == 64
        assert error.payload["allowed_mentions"] == {"parse": []}
        assert any(r.exc_info and "kaboom" in str(r.exc_info[1]) for r in caplog.records)
    finally:
        close_client(client)


def test_report_before_responding_uses_the_response(settings):
    client = make_client(settings)
    try:
        from tests.bot.chat.helpers import MockInteraction

        interaction = MockInteraction(client)
        run(report(interaction, NotFoundError("no article #3")))
        interaction.response.send_message.assert_awaited_once()
        assert interaction.response.send_message.call_args.kwargs["ephemeral"] is True
    finally:
        close_client(client)
