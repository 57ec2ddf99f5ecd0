"""Fetching a feed: the same guarded fetcher as links, feed types, conditional requests.

Nothing here opens a connection of its own: `index.ingest.web.fetch` does, with the SSRF
guard on the feed URL and on every redirect, the time limits and a byte cap of its own for
feeds (BRIEFBOT_FEED_MAX_BYTES). A web page given instead of a feed is followed to the feed
it announces, once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from index.feeds.parse import FEED_ACCEPT, FEED_TYPES, NotAFeedError, ParsedFeed, discover
from index.feeds.parse import parse_feed as parse_document
from index.feeds.parse import sniff as sniff_document
from index.ingest.links import LinkReader
from index.ingest.web import FetchedDocument, Wanted, fetch


@dataclass(frozen=True)
class Validators:
    """What the server said identifies its copy (sent back to ask "changed since?")."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        found = {"If-None-Match": self.etag, "If-Modified-Since": self.last_modified}
        return {name: value for name, value in found.items() if value}


@dataclass(frozen=True)
class FeedFetch:
    """A feed fetched: its URL (after discovery and redirects), and either its entries or,
    when the server answered 304 to our validators, `feed` None."""

    url: str
    feed: ParsedFeed | None
    validators: Validators

    @property
    def not_modified(self) -> bool:
        return self.feed is None


@dataclass(frozen=True)
class FeedReader:
    links: LinkReader
    max_bytes: int = 5_000_000

    def fetch(self, url: str, validators: Validators | None = None) -> FeedFetch:
        """The feed at `url`, asked conditionally when validators are given."""
        document = self._get(url, validators)
        if document.status == 304:
            same = Validators(
                document.etag or (validators.etag if validators else None),
                document.last_modified or (validators.last_modified if validators else None),
            )
            return FeedFetch(url, None, same)
        return self._read(url, document)

    def discover(self, url: str) -> FeedFetch:
        """Like `fetch`, but a web page is followed to the feed it announces (once)."""
        document = self._get(url, None)
        try:
            kind = sniff_document(document.data)
        except NotAFeedError as exc:
            raise NotAFeedError(f"{url}: {exc}") from exc
        if kind == "html":
            found = discover(document.data, document.charset, document.url)
            if found is None:
                raise NotAFeedError(
                    f"{url}: a web page, not a feed, and it names no feed "
                    '(no <link rel="alternate" type="application/rss+xml"> or similar)'
                )
            return self.fetch(found)
        return self._read(url, document)

    def _get(self, url: str, validators: Validators | None) -> FetchedDocument:
        limits = replace(self.links.fetch_limits, max_bytes=self.max_bytes)
        wanted = Wanted(FEED_ACCEPT, FEED_TYPES, validators.headers() if validators else {})
        return fetch(url, self.links.guard, limits, wanted=wanted)

    def _read(self, url: str, document: FetchedDocument) -> FeedFetch:
        try:
            feed = parse_document(document.data, document.url)
        except NotAFeedError as exc:
            raise NotAFeedError(f"{url}: {exc}") from exc
        return FeedFetch(document.url, feed, Validators(document.etag, document.last_modified))
