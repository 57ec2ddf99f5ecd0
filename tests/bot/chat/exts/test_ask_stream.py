"""/ask with an LLM configured: a draft message edited as the answer streams in, at most once a
second, then one final edit carrying the checked answer, its citations and the buttons."""

from __future__ import annotations

from unittest import mock

import pytest

from bot.chat.client import collection_for
from tests.bot.chat.helpers import (
    GUILD_A,
    MockInteraction,
    MockMessage,
    close_client,
    make_client,
    run,
)
from tests.bot.fake_llm import Reply, passage_with, start_fake_llm, stop_fake_llm
from tests.conftest import EXAMPLES

QUESTION = "How many members joined the Port Calder strike?"


@pytest.fixture
def fake_llm():
    fake, thread = start_fake_llm()
    yield fake
    stop_fake_llm(fake, thread)


@pytest.fixture
def client(settings, fake_llm):
    client = make_client(settings, ask_cooldown=0, openai_base_url=fake_llm.base_url)
    client.service.add_sources([str(EXAMPLES)], collection_for(GUILD_A))
    yield client
    close_client(client)


def strike_answer(body) -> Reply:
    n = passage_with(body, "3,400")
    words = f"Around 3,400 members joined the strike [{n}], the union said. ".split(" ")
    return Reply(pieces=tuple(w + " " for w in words), gap=0.25)


def test_streamed_answer_edits_a_draft_then_sends_the_checked_answer(client, fake_llm):
    fake_llm.script(strike_answer)
    draft = MockMessage()
    draft.edit = mock.AsyncMock(return_value=draft)
    interaction = MockInteraction(client)
    interaction.followup.send = mock.AsyncMock(return_value=draft)
    cog = client.get_cog("Ask")
    run(client.extensions["bot.chat.exts.ask"].Ask.ask.callback(cog, interaction, QUESTION))

    interaction.response.defer.assert_awaited_once_with(thinking=True)
    first = interaction.followup.send.call_args.kwargs
    assert "Writing the answer" in first["content"]
    assert first["allowed_mentions"].to_dict() == {"parse": []}
    edits = [call.kwargs for call in draft.edit.await_args_list]
    partials, final = edits[:-1], edits[-1]
    assert partials, "no partial edit was made while the answer streamed"
    # ~2.5 s of streaming at most one edit per second: never one per token (12 tokens).
    assert len(partials) <= 4
    assert all(len(e["content"]) <= 2000 for e in partials)
    assert all(e["allowed_mentions"].to_dict() == {"parse": []} for e in edits)
    assert final["content"] is None
    # The written answer itself, as the terminal and --json show it (it once showed the
    # evidence sentence of citation 1 instead).
    assert final["embed"].description.startswith("Around 3,400 members joined the strike [1]")
    assert final["embed"].footer.text.startswith("llm")
    assert final["view"].children[0].item.label == "Sources"
