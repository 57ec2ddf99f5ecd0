"""`briefbot follow / unfollow / feeds / poll` against a local feed server, the answers that
cite the stories' own pages, and the Discord announcement text (pure, no discord)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot import cli
from bot.feed_text import announcement, announcements
from index.feeds.poller import FeedPoll, Story
from index.feeds.state import FeedInfo
from tests.feed_fixtures import MALFORMED, STORIES, Item, feed_route, page, rss
from tests.ingest_fixtures import Route, html_route


@pytest.fixture(autouse=True)
def _fake_model(fake_model, monkeypatch):
    """The hashing fake, and the local server allowed (it is on 127.0.0.1)."""
    monkeypatch.setenv("BRIEFBOT_ALLOW_PRIVATE_URLS", "true")
    monkeypatch.setenv("BRIEFBOT_FETCH_TIMEOUT", "1")


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def serve(server, *keys):
    items = [Item(k, server.add(f"/news/{k}", html_route(page(k))), STORIES[k][0]) for k in keys]
    return items, server.add("/feed.xml", feed_route(rss(items), etag='"1"'))


def test_follow_poll_then_ask_cites_the_storys_own_page(capsys, server):
    items, feed = serve(server, "bridge", "orchard")
    code, out, _ = run(capsys, "follow", feed)
    assert code == 0 and "following #1 Kessel Herald: 2 entries now" in out

    code, out, _ = run(capsys, "poll", "--json")
    [row] = jsonl(out)
    assert code == 0 and row["status"] == "ok" and len(row["stories"]) == 2
    assert set(row) >= {"feed", "status", "stories", "errors", "skipped", "waiting"}

    code, out, _ = run(capsys, "ask", "--json", "How many tonnes of apples were picked?")
    answer = json.loads(out)
    assert code == 0 and not answer["abstained"] and "92,000" in answer["answer"]
    assert answer["citations"][0]["url"] == items[1].link

    code, out, _ = run(capsys, "poll")  # unchanged: asked conditionally, answered 304
    assert code == 0 and "not modified" in out
    assert server.request_headers[-1]["if-none-match"] == '"1"'


def test_feeds_listing_shows_errors_and_unfollow(capsys, server):
    _, feed = serve(server, "tram")
    run(capsys, "follow", feed, "-c", "guild-5")
    server.add("/feed.xml", feed_route(MALFORMED))
    code, out, _ = run(capsys, "poll", "-c", "guild-5")
    assert code == 1 and "failed:" in out and "malformed XML" in out

    code, out, _ = run(capsys, "feeds", "-c", "guild-5", "--json")
    [listed] = json.loads(out)
    assert listed["failures"] == 1 and "malformed XML" in listed["last_error"]
    assert listed["last_success"] is None and listed["stories_added"] == 0
    code, out, _ = run(capsys, "feeds", "-c", "guild-5")
    assert code == 0 and "never" in out

    code, out, _ = run(capsys, "unfollow", feed, "-c", "guild-5", "--json")
    assert code == 0 and json.loads(out)["unfollowed"]["id"] == listed["id"]
    code, out, _ = run(capsys, "feeds", "-c", "guild-5")
    assert "follows no feeds" in out


def test_bad_feed_on_follow_is_one_line_exit_2(capsys, server):
    url = server.add("/broken", Route(500, b"down"))
    code, out, err = run(capsys, "follow", url)
    assert code == 2 and out == ""
    assert err.strip() == f"briefbot: {url}: HTTP 500 Internal Server Error"


def test_private_feed_refused_by_default_without_connecting(capsys, server, monkeypatch):
    monkeypatch.delenv("BRIEFBOT_ALLOW_PRIVATE_URLS")
    code, _, err = run(capsys, "follow", server.base + "/feed.xml")
    assert code == 2 and "blocked address" in err and server.connections == 0


def test_poll_all_and_unknown_feed(capsys, server):
    _, feed = serve(server, "library")
    run(capsys, "follow", feed, "-c", "guild-1")
    code, out, _ = run(capsys, "poll", "--all", "--json")
    assert code == 0 and [r["feed"]["collection"] for r in jsonl(out)] == ["guild-1"]
    code, _, err = run(capsys, "unfollow", "7")
    assert code == 2 and "follows no feed '7'" in err


def _poll(title: str, stories: list[Story], channel: str | None = "123") -> FeedPoll:
    now = datetime(2025, 11, 3, tzinfo=UTC)
    feed = FeedInfo(
        1,
        "guild-1",
        "u",
        "u",
        title,
        channel,
        now,
        now,
        None,
        None,
        0,
        now,
        None,
        None,
        len(stories),
    )
    return FeedPoll(feed, "ok", tuple(stories))


def test_announcement_lists_titles_and_links_without_mentions_or_markdown():
    stories = [
        Story("@everyone look: **bold** [x](y)", "https://example.org/a b", 1, "added"),
        Story("Fixed story", "https://example.org/b", 2, "replaced"),
        Story("No link", "javascript:alert(1)", 3, "added"),
    ]
    text = announcement([_poll("Herald <@123>", stories)])
    assert text is not None
    lines = text.splitlines()
    assert lines[0] == "**Herald \\<@\u200b123\\>**"
    assert lines[1].startswith("- [@\u200beveryone look: \\*\\*bold\\*\\* \\[x\\]\\(y\\)](<")
    assert "(<https://example.org/a%20b>)" in lines[1]
    assert lines[2] == "- [Fixed story](<https://example.org/b>) (updated)"
    assert lines[3] == "- No link"
    assert announcement([_poll("Quiet", [])]) is None


def test_announcement_stays_within_discords_limit():
    stories = [
        Story(f"Story {i} " + "x" * 180, f"https://e.org/{i}", i, "added") for i in range(60)
    ]
    text = announcement([_poll("Big", stories[:30]), _poll("Other", stories[30:])])
    assert text is not None and len(text) <= 2000
    shown = sum(line.startswith("- ") for line in text.splitlines())
    assert 0 < shown < 60 and text.endswith(f"\u2026and {60 - shown} more")


def test_announcements_one_message_per_channel_and_none_without_news():
    story = Story("Bridge reopens", "https://e.org/b", 1, "added")
    results = [
        _poll("A", [story], "10"),
        _poll("B", [story], "10"),
        _poll("C", [story], None),
        _poll("D", [], "20"),
    ]
    messages = announcements(results)
    assert list(messages) == ["10"]
    assert messages["10"].splitlines()[0::2] == ["**A**", "**B**"]


def test_a_feed_of_one_story_is_counted_in_the_singular(capsys, server):
    _, feed = serve(server, "bridge")
    code, out, _ = run(capsys, "follow", feed)
    assert code == 0 and "following #1 Kessel Herald: 1 entry now" in out
    assert run(capsys, "poll")[0] == 0
    code, out, _ = run(capsys, "unfollow", "1")
    assert code == 0 and "(the 1 story it added stays)" in out
