"""Following feeds against a local feed server: RSS, Atom, JSON Feed, conditional requests,
later and updated entries, dedup, the fallback to the feed's text, every bad case, and a
poller killed mid-pass. The clock is fake: nothing here sleeps."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from index.errors import InputError, NotFoundError
from index.feeds.parse import parse_feed
from index.feeds.poller import FeedOptions, FeedPoller
from index.feeds.schedule import Schedule
from index.ingest.guard import BlockedAddressError, UrlGuard
from index.ingest.links import LinkReader
from index.ingest.web import FetchLimits
from tests.conftest import search
from tests.feed_fixtures import (
    BILLION_LAUGHS,
    EMPTY_FEED,
    EXTERNAL_ENTITY,
    FEED_TEXT,
    MALFORMED,
    PLAIN_PAGE,
    STORIES,
    Item,
    announcing_page,
    atom,
    feed_route,
    json_feed,
    page,
    rss,
)
from tests.ingest_fixtures import SYNDICATED, Route, gzip_bomb, html_route

# The same behaviour on both stores (tests/conftest.py `backend`).
pytestmark = pytest.mark.usefixtures("backend")


class FakeClock:
    def __init__(self, now: float = 1_760_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def reader(allow_private: bool = True, guard: UrlGuard | None = None) -> LinkReader:
    limits = FetchLimits(connect_timeout=1, read_timeout=1, total_timeout=3)
    return LinkReader(guard=guard or UrlGuard(allow_private=allow_private), fetch_limits=limits)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def poller(kb, clock):
    return FeedPoller(kb, reader(), FeedOptions(), clock, random.Random(7))


def serve_stories(server, *keys: str, published: str | None = None) -> list[Item]:
    """Each story's page on the server, and its feed item (guid = key)."""
    items = []
    for key in keys:
        url = server.add(f"/news/{key}", html_route(page(key, published)))
        items.append(Item(key, url, STORIES[key][0]))
    return items


def page_hits(server, key: str) -> int:
    return sum(path == f"/news/{key}" for path in server.requests)


@pytest.mark.parametrize("kind,build", [("rss", rss), ("atom", atom), ("json", json_feed)])
def test_follow_then_poll_stores_each_story_under_its_own_page(poller, kb, server, kind, build):
    items = serve_stories(server, "bridge", "orchard")
    feed_url = server.add(f"/feed.{kind}", feed_route(build(items), kind))
    followed = poller.follow("default", feed_url)
    assert followed.created and followed.entries == 2
    assert followed.feed.title.startswith("Kessel Herald")

    [result] = poller.poll("default")
    assert result.status == "ok" and not result.errors
    assert sorted(s.url for s in result.stories) == sorted(i.link for i in items)
    stored = {a.url: a for a in kb.list("default")}
    assert set(stored) == {i.link for i in items}
    assert stored[items[0].link].title == "Harbor bridge reopens after repairs"
    assert result.feed.stories_added == 2 and result.feed.last_success is not None
    passages = search(kb, "default", "How long did the bridge repairs take?", k=1)
    assert passages[0].article.url == items[0].link


def test_unchanged_feed_is_asked_conditionally_and_a_later_entry_arrives(poller, kb, server, clock):
    items = serve_stories(server, "bridge")
    feed_url = server.add("/feed.xml", feed_route(rss(items), etag='"v1"'))
    poller.follow("default", feed_url)
    poller.poll("default")

    clock.now += 1000
    [again] = poller.poll("default")
    assert again.status == "not_modified" and not again.stories
    assert server.request_headers[-1].get("if-none-match") == '"v1"'

    later = items + serve_stories(server, "library")
    server.add("/feed.xml", feed_route(rss(later), etag='"v2"'))
    [third] = poller.poll("default")
    assert [s.url for s in third.stories] == [later[1].link]
    assert page_hits(server, "bridge") == 1  # a story seen before is not fetched again
    assert len(kb.list("default")) == 2


def test_updated_entry_replaces_the_stored_story(poller, kb, server):
    key = "tram"
    url = server.add(f"/news/{key}", html_route(page(key)))
    item = Item(key, url, STORIES[key][0], updated="2025-11-03T09:00:00Z")
    feed_url = server.add("/feed.atom", feed_route(atom([item]), "atom"))
    poller.follow("default", feed_url)
    [first] = poller.poll("default")
    original = first.stories[0].article_id

    fixed = [*STORIES[key][1][:2], "The authority later said line nine starts a week later."]
    server.add(f"/news/{key}", html_route(page(key, paragraphs=fixed)))
    server.add("/feed.atom", feed_route(atom([replace(item, updated="2025-11-04T10:00:00Z")])))
    [second] = poller.poll("default")
    assert [(s.status, s.article_id) for s in second.stories] == [("replaced", original)]
    assert "week later" in kb.text("default", original)
    assert len(kb.list("default")) == 1


def test_unfetchable_page_uses_the_feeds_text_and_entry_date(poller, kb, server):
    gone = server.add("/news/gone", Route(404, b"not here"))
    item = Item("gone", gone, "River banks replanted", content=f"<p>{FEED_TEXT}</p>")
    feed_url = server.add("/feed.xml", feed_route(rss([item])))
    poller.follow("default", feed_url)
    [result] = poller.poll("default")
    assert [s.url for s in result.stories] == [gone] and not result.errors
    [article] = kb.list("default")
    assert article.title == "River banks replanted" and article.published.isoformat() == (
        "2025-11-03"
    )
    assert "1,500 oak saplings" in kb.text("default", article.id)


def test_entry_date_fills_a_page_without_one_and_a_page_date_wins(poller, kb, server):
    items = serve_stories(server, "bridge") + serve_stories(
        server, "orchard", published="2025-10-01T08:00:00Z"
    )
    poller.follow("default", server.add("/feed.xml", feed_route(rss(items))))
    poller.poll("default")
    dates = {a.url: a.published.isoformat() for a in kb.list("default")}
    assert dates == {items[0].link: "2025-11-03", items[1].link: "2025-10-01"}


def test_syndicated_copy_in_a_feed_is_skipped(poller, kb, server):
    from tests.ingest_fixtures import NEWS_PAGE

    original = server.add("/news/original", html_route(NEWS_PAGE))
    copy = server.add("/news/copy", html_route(SYNDICATED))
    items = [Item("o", original, "Wildfire"), Item("c", copy, "Wildfire again")]
    poller.follow("default", server.add("/feed.xml", feed_route(rss(items))))
    [result] = poller.poll("default")
    assert [s.url for s in result.stories] == [original]
    assert result.skipped == 1 and not result.errors
    assert len(kb.list("default")) == 1


def test_same_story_in_two_feeds_is_fetched_once(poller, kb, server):
    items = serve_stories(server, "library")
    poller.follow("default", server.add("/a.xml", feed_route(rss(items))))
    poller.follow("default", server.add("/b.json", feed_route(json_feed(items), "json")))
    results = poller.poll("default")
    assert [len(r.stories) for r in results] == [1, 0] and results[1].skipped == 1
    assert page_hits(server, "library") == 1


def test_at_most_max_entries_per_poll_and_the_rest_next_time(kb, server, clock):
    poller = FeedPoller(kb, reader(), FeedOptions(max_entries=2), clock, random.Random(1))
    items = serve_stories(server, "bridge", "orchard", "library")
    poller.follow("default", server.add("/feed.xml", feed_route(rss(items), etag='"same"')))
    [first] = poller.poll("default")
    assert len(first.stories) == 2 and first.waiting == 1
    [second] = poller.poll("default")  # no validators kept: the waiting entry is not hidden
    assert len(second.stories) == 1 and second.waiting == 0
    [third] = poller.poll("default")
    assert third.status == "not_modified"
    assert len(kb.list("default")) == 3


def test_html_page_is_followed_to_the_feed_it_announces(poller, server):
    items = serve_stories(server, "bridge")
    feed_url = server.add("/feeds/all.json", feed_route(json_feed(items), "json"))
    home = server.add("/", html_route(announcing_page("/feeds/all.json", "application/feed+json")))
    followed = poller.follow("default", home)
    assert followed.feed.url == home and followed.feed.feed_url == feed_url
    assert followed.entries == 1
    # Following the feed itself, or the page again, is the same feed: idempotent.
    assert poller.follow("default", feed_url).created is False
    assert poller.follow("default", home).feed.id == followed.feed.id
    assert len(poller.feeds("default")) == 1


@pytest.mark.parametrize(
    "route,said",
    [
        (feed_route(MALFORMED), "malformed XML"),
        (feed_route(BILLION_LAUGHS), "declares XML entities"),
        (feed_route(EXTERNAL_ENTITY), "declares XML entities"),
        (html_route(PLAIN_PAGE), "names no feed"),
        (Route(200, b"", {"Content-Type": "application/rss+xml"}), "empty"),
        (Route(500, b"oops"), "HTTP 500"),
        (
            Route(
                200,
                gzip_bomb(50_000_000),
                {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
            ),
            "too large",
        ),
        (Route(200, b'{"version": 2}', {"Content-Type": "application/json"}), "JSON Feed"),
        (Route(200, b"PNG", {"Content-Type": "image/png"}), "unsupported type"),
    ],
)
def test_bad_feed_is_refused_on_follow_with_one_line_and_nothing_stored(
    poller, server, route, said
):
    url = server.add("/bad", route)
    with pytest.raises(InputError, match=said) as caught:
        poller.follow("default", url)
    assert "\n" not in str(caught.value) and url in str(caught.value)
    assert poller.feeds("default") == []


def test_empty_feed_is_followed_with_no_entries(poller, server):
    followed = poller.follow("default", server.add("/quiet.xml", feed_route(EMPTY_FEED)))
    assert followed.entries == 0 and followed.feed.title == "Quiet"
    assert poller.poll("default")[0].stories == ()


def test_failing_feed_shows_its_error_backs_off_and_others_keep_polling(poller, kb, server, clock):
    items = serve_stories(server, "bridge")
    good = server.add("/good.xml", feed_route(rss(items)))
    flaky = server.add("/flaky.xml", feed_route(rss(serve_stories(server, "tram"))))
    poller.follow("default", flaky)
    poller.follow("default", good)
    for route in (Route(500, b"down"), Route(200, b"slow", delay=5.0), feed_route(MALFORMED)):
        server.add("/flaky.xml", route)
        bad, ok = poller.poll("default")
        assert bad.status == "failed" and ok.status in ("ok", "not_modified")
    assert [s.url for s in poller.feeds("default")[1:]] == [good]
    flaky_feed = poller.feeds("default")[0]
    assert flaky_feed.failures == 3 and "malformed XML" in (flaky_feed.last_error or "")
    # Back-off: 2x, 4x, 8x the interval (jitter +-10%) after three failures in a row.
    wait = flaky_feed.next_poll.timestamp() - clock.now
    assert 0.9 * 8 * 900 <= wait <= 1.1 * 8 * 900
    assert [a.url for a in kb.list("default")] == [items[0].link]


def test_hanging_feed_times_out_into_its_error_state(poller, server):
    url = server.add("/slow.xml", feed_route(rss([])))
    poller.follow("default", url)
    server.add("/slow.xml", Route(200, b"", delay=5.0))
    [result] = poller.poll("default")
    assert result.status == "failed" and "timed out" in result.errors[0]
    assert result.feed.last_error == result.errors[0]


def test_private_feed_is_refused_without_a_connection(kb, server, clock):
    strict = FeedPoller(kb, reader(allow_private=False), FeedOptions(), clock)
    url = server.add("/feed.xml", feed_route(rss([])))
    with pytest.raises(BlockedAddressError, match="loopback"):
        strict.follow("default", url)
    assert server.connections == 0 and strict.feeds("default") == []


class _LoopbackOnly(UrlGuard):
    """Allows the test server on 127.0.0.1, refuses every other private address."""

    def refusal(self, ip, port):  # type: ignore[no-untyped-def]
        return None if str(ip) == "127.0.0.1" else super().refusal(ip, port)


def test_entry_link_to_a_private_address_is_refused_and_not_replaced_by_feed_text(
    kb, server, clock
):
    poller = FeedPoller(kb, reader(guard=_LoopbackOnly()), FeedOptions(), clock)
    metadata = "http://169.254.169.254/latest/meta-data/"
    item = Item("meta", metadata, "Cloud secrets", content=f"<p>{FEED_TEXT}</p>")
    poller.follow("default", server.add("/feed.xml", feed_route(rss([item]))))
    [result] = poller.poll("default")
    assert result.stories == () and "169.254.169.254" in result.errors[0]
    assert "link-local" in result.errors[0] and kb.list("default") == []
    assert result.feed.last_error == result.errors[0]


def test_failed_entry_is_retried_a_few_times_then_left(kb, server, clock):
    poller = FeedPoller(kb, reader(), FeedOptions(max_attempts=2), clock)
    gone = server.add("/news/gone", Route(404, b"no"))
    poller.follow("default", server.add("/feed.xml", feed_route(rss([Item("g", gone, "T")]))))
    attempts = [len(poller.poll("default")[0].errors) for _ in range(4)]
    assert attempts == [1, 1, 0, 0]
    assert sum(p == "/news/gone" for p in server.requests) == 2


def test_poller_killed_mid_pass_resumes_without_adding_twice(kb, server, clock, monkeypatch):
    items = serve_stories(server, "bridge", "orchard", "library")
    killed = FeedPoller(kb, reader(), FeedOptions(), clock)
    killed.follow("default", server.add("/feed.xml", feed_route(rss(items))))

    def die(*args, **kwargs):
        raise KeyboardInterrupt  # after the first story's article was committed

    monkeypatch.setattr(killed.state, "record_entry", die)
    with pytest.raises(KeyboardInterrupt):
        killed.poll("default")
    assert len(kb.list("default")) == 1  # one whole story, nothing half-stored
    assert kb.verify("default").ok

    restarted = FeedPoller(kb, reader(), FeedOptions(), clock)
    [result] = restarted.poll("default")
    assert len(result.stories) == 2 and not result.errors
    assert sorted(a.url for a in kb.list("default")) == sorted(i.link for i in items)
    assert page_hits(server, items[0].guid) == 1  # found under its link: not fetched again
    assert restarted.poll("default")[0].stories == ()


def test_follow_limit_unfollow_and_collections(kb, server, clock):
    poller = FeedPoller(kb, reader(), FeedOptions(max_feeds=1), clock)
    first = poller.follow("default", server.add("/a.xml", feed_route(EMPTY_FEED)))
    with pytest.raises(InputError, match="BRIEFBOT_FEED_MAX_FEEDS"):
        poller.follow("default", server.add("/b.xml", feed_route(EMPTY_FEED)))
    other = poller.follow("guild-1", server.base + "/b.xml")
    assert poller.feeds("guild-1") == [other.feed]
    assert poller.unfollow("default", str(first.feed.id)).id == first.feed.id
    assert poller.unfollow("guild-1", server.base + "/b.xml#top").id == other.feed.id
    with pytest.raises(NotFoundError, match="follows no feed"):
        poller.unfollow("default", "99")


def test_only_due_feeds_are_polled_on_the_fake_clock(poller, server, clock):
    poller.follow("default", server.add("/a.xml", feed_route(EMPTY_FEED)))
    assert poller.seconds_until_due() == 0
    assert len(poller.poll(due_only=True)) == 1
    wait = poller.seconds_until_due()
    assert 0.9 * 900 <= wait <= 1.1 * 900
    assert poller.poll(due_only=True) == []
    clock.now += wait
    assert len(poller.poll(due_only=True)) == 1


def test_schedule_backoff_is_capped_and_jitter_bounded():
    schedule = Schedule(interval=600, jitter=0.2, max_backoff=3600)
    assert [schedule.backoff(n) for n in range(5)] == [600, 1200, 2400, 3600, 3600]
    rng = random.Random(3)
    waits = [schedule.after_success(0, rng) for _ in range(200)]
    assert 480 <= min(waits) < 540 and 660 < max(waits) <= 720  # spread, within +-20%
    assert schedule.after_failure(100, 10**6, rng) <= 100 + 3600 * 1.2


def test_parser_never_expands_or_fetches_entities():
    for hostile in (BILLION_LAUGHS, EXTERNAL_ENTITY):
        with pytest.raises(InputError, match="never expanded"):
            parse_feed(hostile, "http://example.org/feed")


def test_json_feed_item_that_breaks_the_format_is_left_out():
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": ['
        b'{"id": "1", "url": "https://example.org/1", "title": "One"}, {"title": "no id"}]}'
    )
    feed = parse_feed(body, "https://example.org/feed.json")
    assert [e.guid for e in feed.entries] == ["1"]


def test_relative_entry_links_are_made_absolute_against_the_feed():
    body = rss([Item("r", "/news/relative", "Relative")])
    [entry] = parse_feed(body, "http://news.example/feeds/main.xml").entries
    assert entry.link == "http://news.example/news/relative"


def test_same_short_guid_in_two_feeds_is_two_stories(poller, kb, server):
    [bridge] = serve_stories(server, "bridge")
    [orchard] = serve_stories(server, "orchard")
    poller.follow("default", server.add("/a.xml", feed_route(rss([replace(bridge, guid="1")]))))
    poller.follow("default", server.add("/b.xml", feed_route(rss([replace(orchard, guid="1")]))))
    results = poller.poll("default")
    assert [len(r.stories) for r in results] == [1, 1]
    assert len(kb.list("default")) == 2


def test_updated_entry_whose_page_is_down_keeps_the_full_story(poller, kb, server):
    [item] = serve_stories(server, "orchard")
    short = replace(item, content="<p>Growers picked a record harvest this autumn, union says.</p>")
    poller.follow("default", server.add("/feed.xml", feed_route(rss([item]))))
    [first] = poller.poll("default")
    article_id = first.stories[0].article_id
    server.add("/news/orchard", Route(503, b"busy"))
    server.add("/feed.xml", feed_route(rss([short])))
    [second] = poller.poll("default")
    assert second.stories == () and "kept the stored story" in second.errors[0]
    assert "92,000 tonnes" in kb.text("default", article_id)


def test_store_errors_in_the_feed_tables_are_briefbots_own(poller, kb):
    from index.errors import StoreUnavailableError

    with kb.store.transaction() as raw:
        raw.execute("DROP TABLE feed_entries")
        raw.execute("DROP TABLE feeds")
    with pytest.raises(StoreUnavailableError, match="cannot be used right now"):
        poller.poll("default")  # a read
    with pytest.raises(StoreUnavailableError, match="cannot be used right now"):
        poller.state.record_failure(1, "down", 0.0, 0.0)  # a write inside a transaction
