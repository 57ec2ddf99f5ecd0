"""/add url and /add file go through the same ingestion pipeline as `briefbot add`.

Real Interactions (gateway payloads through the CommandTree, Discord's HTTP API and CDN
replaced by recorders) and spec'd mocks: pages from the local test server, a PDF attachment,
links and files refused before anything is fetched, syndicated copies and allow_duplicate.
"""

from __future__ import annotations

import json

import discord
import pytest

from bot import cli
from bot.chat import embeds
from bot.chat.client import collection_for
from bot.settings import Settings
from tests.bot.chat.helpers import (
    GUILD_A,
    FakeCdn,
    MockAttachment,
    MockInteraction,
    attachment_payload,
    close_client,
    command_interaction,
    invoke,
    make_client,
    run,
)
from tests.conftest import use_fake_model
from tests.ingest_fixtures import (
    NEWS_PAGE,
    NEWS_PARAGRAPHS,
    SYNDICATED,
    html_route,
    make_pdf,
    wrap,
)

NO_MENTIONS = {"parse": []}
DEFERRED = 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
IMMEDIATE = 4  # CHANNEL_MESSAGE_WITH_SOURCE
EPHEMERAL = 64
SUPPRESS_EMBEDS = 4
COLLECTION = collection_for(GUILD_A)
FIRE_PDF = make_pdf(
    [["Harlow Ridge fire update", "", *wrap(" ".join(NEWS_PARAGRAPHS))]],
    title="Harlow Ridge fire update",
)


@pytest.fixture
def client(settings):
    """The default guard: links to private addresses are refused."""
    client = make_client(settings, ask_cooldown=0, add_cooldown=0)
    yield client
    close_client(client)


@pytest.fixture
def intranet(settings):
    """Private addresses allowed, for this fixture only: the test server is on 127.0.0.1."""
    client = make_client(settings, add_cooldown=0, allow_private_urls=True, fetch_timeout=2)
    yield client
    close_client(client)


def add(client, **options):
    """/add as Discord delivers it; returns the reply's payload after checking the deferral."""
    sent = run(invoke(client, command_interaction(client, "add", **options)))
    first, second = sent.requests
    assert first.is_callback and first.payload == {"type": DEFERRED}
    reply = second.payload
    assert reply["allowed_mentions"] == NO_MENTIONS
    assert reply["flags"] & SUPPRESS_EMBEDS
    assert 0 < len(reply["content"]) <= embeds.MESSAGE_CHARS
    return reply["content"]


def refused_at_once(client, **options):
    """/add refused before deferring: one ephemeral line, and the text of that line."""
    sent = run(invoke(client, command_interaction(client, "add", **options)))
    (only,) = sent.requests
    assert only.is_callback and only.payload["type"] == IMMEDIATE
    data = only.payload["data"]
    assert data["flags"] == EPHEMERAL and data["allowed_mentions"] == NO_MENTIONS
    return data["content"]


def test_add_url_fetches_the_page_like_the_cli(intranet, server, monkeypatch, capsys):
    url = server.add("/news/wildfire", html_route(NEWS_PAGE))
    content = add(intranet, url=url)
    assert content.startswith(
        "Added **#1** Wildfire forces 1,200 to evacuate Harlow Ridge \u2014 Valley Courier"
    )
    assert f"<{url}>" in content and "\n" not in content
    assert server.connections >= 1
    (stored,) = intranet.service.list_articles(COLLECTION)
    assert stored.url == url
    answer = intranet.service.ask("How many residents were evacuated?", COLLECTION)
    assert "1,200" in answer.text

    # `briefbot add` on the same link stores the very same article.
    monkeypatch.setenv("BRIEFBOT_ALLOW_PRIVATE_URLS", "true")
    use_fake_model(monkeypatch)
    assert cli.main(["add", url, "--json", "--collection", "from-cli"]) == 0
    from_cli = json.loads(capsys.readouterr().out)["article"]
    assert (from_cli["title"], from_cli["source"], from_cli["url"]) == (
        stored.title,
        stored.source,
        stored.url,
    )
    assert from_cli["content_hash"] == stored.content_hash
    assert from_cli["chunks"] == stored.chunk_count


def test_add_url_again_and_after_a_change_shows_the_note(intranet, server):
    url = server.add("/news/wildfire", html_route(NEWS_PAGE))
    assert add(intranet, url=url).startswith("Added **#1**")
    again = add(intranet, url=url + "?utm_source=discord")
    first_line, note = again.split("\n")
    assert first_line.startswith("Already present (nothing changed): **#1**")
    assert note == "-# already added as #1"
    server.add(
        "/news/wildfire", html_route(NEWS_PAGE.replace("1,200 residents", "2,400 residents"))
    )
    updated = add(intranet, url=url)
    assert updated.startswith("Updated **#1**")
    assert updated.split("\n")[1].startswith("-# updated #1: the article at ")
    assert len(intranet.service.list_articles(COLLECTION)) == 1
    assert intranet.service.verify().ok


NUMERIC_TRICK = "is a numeric address in a non-standard form"


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("http://127.0.0.1:{port}/news", "blocked address 127.0.0.1 (loopback address)"),
        ("http://localhost:{port}/news", "blocked address"),
        ("http://2130706433:{port}/news", NUMERIC_TRICK),
        ("http://0x7f.1:{port}/news", NUMERIC_TRICK),
        ("http://[::ffff:127.0.0.1]:{port}/news", "blocked address"),
        ("http://[::1]:{port}/news", "blocked address ::1 (loopback address)"),
    ],
)
def test_add_url_to_a_private_address_is_refused_without_connecting(client, server, link, reason):
    server.add("/news", html_route(NEWS_PAGE))
    url = link.format(port=server.port)
    content = add(client, url=url)
    assert content.startswith(f"Could not add it: {url}: ")
    assert reason in content
    assert "\n" not in content
    assert server.connections == 0
    assert client.service.list_articles(COLLECTION) == []


def test_add_file_pdf_through_the_tree_downloads_and_parses_it(client):
    cdn = FakeCdn(client)
    pdf = cdn.serve(attachment_payload("fire.pdf", len(FIRE_PDF)), FIRE_PDF)
    content = add(client, file=pdf)
    assert content.startswith("Added **#1** Harlow Ridge fire update")
    assert cdn.downloads == [pdf["url"]]
    answer = client.service.ask("How many firefighters are working?", COLLECTION)
    assert "340" in answer.text


def test_oversize_attachment_is_refused_before_download(client):
    cdn = FakeCdn(client)
    limit = client.settings.max_upload_bytes
    big = cdn.serve(attachment_payload("big.pdf", limit + 1), FIRE_PDF)
    assert refused_at_once(client, file=big) == (
        f"big.pdf: too large ({limit + 1:,} bytes; limit {limit:,})"
    )
    photo = cdn.serve(attachment_payload("photo.png", 2000), b"\x89PNG")
    assert refused_at_once(client, file=photo).startswith("photo.png: unsupported file type")
    assert cdn.downloads == []
    assert client.service.list_articles(COLLECTION) == []


def test_the_upload_limit_comes_from_the_setting(settings, monkeypatch):
    monkeypatch.setenv("BRIEFBOT_MAX_UPLOAD_BYTES", "1000")
    client = make_client(Settings(data_dir=settings.data_dir), add_cooldown=0)
    try:
        cdn = FakeCdn(client)
        pdf = cdn.serve(attachment_payload("fire.pdf", len(FIRE_PDF)), FIRE_PDF)
        assert len(FIRE_PDF) > 1000
        assert refused_at_once(client, file=pdf) == (
            f"fire.pdf: too large ({len(FIRE_PDF):,} bytes; limit 1,000)"
        )
        assert cdn.downloads == []
    finally:
        close_client(client)


def test_syndicated_copy_is_refused_then_kept_with_allow_duplicate(intranet, server):
    original = server.add("/courier/fire", html_route(NEWS_PAGE))
    copy = server.add("/post/fire", html_route(SYNDICATED))
    assert add(intranet, url=original).startswith("Added **#1**")
    refused = add(intranet, url=copy)
    assert refused.startswith(f"Skipped {copy}: near-identical to #1")
    assert refused.endswith("add it again with allow_duplicate: True") and "\n" not in refused
    assert len(intranet.service.list_articles(COLLECTION)) == 1
    kept = add(intranet, url=copy, allow_duplicate=True)
    assert kept.startswith("Added **#2** 1,200 flee Harlow Ridge wildfire \u2014 Mountain Post")
    assert len(intranet.service.list_articles(COLLECTION)) == 2
    assert intranet.service.verify().ok


# -- spec'd mocks: the callback called directly ------------------------------------------------
def call_add(client, **options):
    interaction = MockInteraction(client)
    cog = client.get_cog("Articles")
    articles = client.extensions["bot.chat.exts.articles"].Articles
    run(articles.add.callback(cog, interaction, **options))
    return interaction


def test_pdf_attachment_mock_is_read_once_and_added(client):
    file = MockAttachment("fire.pdf", FIRE_PDF)
    interaction = call_add(client, file=file)
    file.read.assert_awaited_once()
    interaction.response.defer.assert_awaited_once_with(thinking=True)
    kwargs = interaction.followup.send.call_args.kwargs
    assert kwargs["allowed_mentions"].to_dict() == discord.AllowedMentions.none().to_dict()
    assert interaction.followup.send.call_args.args[0].startswith(
        "Added **#1** Harlow Ridge fire update"
    )


def test_modal_keeps_allow_duplicate(client):
    story = "Harbour closed after storm\n\n" + " ".join(NEWS_PARAGRAPHS)
    assert client.service.add_text(story, COLLECTION).status == "added"
    copy = story.replace("officials said.", "county officials said.")
    for allow, expected in (
        (False, "Skipped pasted text: near-identical"),
        (True, "Added **#2**"),
    ):
        modal = client.extensions["bot.chat.exts.articles"].AddTextModal(allow)
        modal.article_title._value = "Harbour closed after storm"
        modal.source._value = "Coast Wire"
        modal.url._value = ""
        modal.text._value = copy
        interaction = MockInteraction(client)
        run(modal.on_submit(interaction))
        assert interaction.followup.send.call_args.args[0].startswith(expected)
