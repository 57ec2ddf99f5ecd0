"""Following feeds and polling them: one pass at a time, no asyncio, the clock injected.

A pass fetches each feed (conditionally, with the validators of the last answer), picks the
entries not seen before or changed since (at most BRIEFBOT_FEED_MAX_ENTRIES), fetches each
entry's own page through the link reader (the SSRF guard, limits and extraction every link
gets) and adds it like any link, near-copy check included. When the page cannot be fetched,
the feed's own text for the entry is stored instead; a link to a refused address is never
replaced by the feed's text. A failing feed is retried later and later (`Schedule`), and
one feed's failure never stops the others. Callers (the CLI, the bot's task) get plain data.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from index.backup import ExportedFeed
from index.errors import (
    BriefbotError,
    CorruptStoreError,
    IndexMismatchError,
    InputError,
    NotFoundError,
    StoreUnavailableError,
)
from index.feeds.fetch import FeedReader, Validators
from index.feeds.parse import FeedEntry
from index.feeds.schedule import Schedule, due, seconds_until_due
from index.feeds.state import EntryRecord, FeedInfo, FeedLimitError, FeedState, SeenEntry
from index.ingest.guard import BlockedAddressError
from index.ingest.html import looks_like_prose
from index.ingest.links import LinkReader, normalize_url
from index.knowledge import KnowledgeBase
from index.models import AddOutcome, RawArticle
from index.settings import IndexSettings
from index.store import check_collection_name

logger = logging.getLogger(__name__)
Clock = Callable[[], float]
Served = Callable[[str], bool]  # which collections a pass covers
# Errors about the data dir, not a feed: they stop the pass.
_FATAL = (CorruptStoreError, StoreUnavailableError, IndexMismatchError)


@dataclass(frozen=True)
class FeedOptions:
    schedule: Schedule = field(default_factory=Schedule)
    max_entries: int = 20  # new or changed stories taken from one feed per poll
    max_feeds: int = 50  # feeds one collection may follow
    max_bytes: int = 5_000_000  # a feed document larger than this is refused
    max_attempts: int = 3  # polls that retry an entry whose page and text both failed

    @classmethod
    def from_settings(cls, settings: IndexSettings) -> FeedOptions:
        return cls(
            Schedule(settings.feed_interval, settings.feed_jitter, settings.feed_max_backoff),
            settings.feed_max_entries,
            settings.feed_max_feeds,
            settings.feed_max_bytes,
        )


@dataclass(frozen=True)
class Story:
    """A story a poll stored: what an announcement lists."""

    title: str
    url: str | None
    article_id: int
    status: str  # "added" or "replaced" (the feed updated a story stored before)


@dataclass(frozen=True)
class FeedPoll:
    """One feed's part of a poll pass."""

    feed: FeedInfo  # as it stands after the poll (errors, next poll time)
    status: str  # "ok", "not_modified" (answered 304) or "failed" (the feed itself)
    stories: tuple[Story, ...] = ()
    errors: tuple[str, ...] = ()  # the feed's error, or each entry that could not be stored
    skipped: int = 0  # entries stored before (another feed, a link) or near-copies
    waiting: int = 0  # entries left for the next poll by BRIEFBOT_FEED_MAX_ENTRIES


@dataclass(frozen=True)
class FollowResult:
    feed: FeedInfo
    entries: int  # entries in the feed right now
    created: bool  # False: the link was followed already (nothing changed but the channel)


class FeedPoller:
    def __init__(
        self,
        knowledge: KnowledgeBase,
        links: LinkReader,
        options: FeedOptions | None = None,
        clock: Clock = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.links = links
        self.options = options or FeedOptions()
        self.clock = clock
        self.rng = rng or random.Random()
        self.state = FeedState(knowledge.store)
        self.reader = FeedReader(links, self.options.max_bytes)

    # -- following --------------------------------------------------------------------------
    def follow(self, collection: str, url: str, channel: str | None = None) -> FollowResult:
        """Check the feed now (a web page is followed to the feed it names) and follow it;
        following it again changes nothing (but the announcement channel, when given)."""
        check_collection_name(collection)
        link = normalize_url(self.links.guard.check_url(url.strip()))
        existing = self.state.find(collection, link)
        if existing is None and self.state.count(collection) >= self.options.max_feeds:
            raise InputError(
                f"'{collection}' already follows {self.options.max_feeds} feeds, the limit "
                "(BRIEFBOT_FEED_MAX_FEEDS); unfollow one first"
            )
        fetched = self.reader.discover(link)
        assert fetched.feed is not None  # not asked conditionally
        feed, created = self.state.add_feed(
            collection,
            link,
            normalize_url(fetched.url),
            fetched.feed.title,
            channel,
            self.clock(),
            self.options.max_feeds,
        )
        logger.info("following %s (%s)", feed.feed_url, "new" if created else "already")
        return FollowResult(feed, len(fetched.feed.entries), created)

    def checked(self, feeds: Sequence[ExportedFeed]) -> list[ExportedFeed]:
        """A backup's feeds with their links checked as following checks them and normalized;
        an InputError names the first bad one (called before an import writes anything)."""
        return [
            replace(
                feed,
                url=normalize_url(self.links.guard.check_url(feed.url)),
                feed_url=normalize_url(self.links.guard.check_url(feed.feed_url)),
            )
            for feed in feeds
        ]

    def restore(self, collection: str, feeds: Sequence[ExportedFeed]) -> list[FollowResult]:
        """Follow a backup's feeds, as `checked` returned them, again without fetching them:
        each is due at once, so the next poll fetches it and recognises the stories already
        stored. A feed followed already keeps its state (its announcement channel becomes the
        archive's, when the archive names one). Past the feed limit, FeedLimitError says how
        many were followed."""
        check_collection_name(collection)
        results: list[FollowResult] = []
        for feed in feeds:
            try:
                info, created = self.state.add_feed(
                    collection,
                    feed.url,
                    feed.feed_url,
                    feed.title,
                    feed.channel_id,
                    self.clock(),
                    self.options.max_feeds,
                )
            except FeedLimitError as exc:
                raise FeedLimitError(
                    f"{exc} ({len(results)} of the archive's {len(feeds)} feeds followed)"
                ) from exc
            results.append(FollowResult(info, 0, created))
        return results

    def unfollow(self, collection: str, ref: str) -> FeedInfo:
        """By id (as `feeds` lists it) or by link; the stories it added stay."""
        feed = self.find(collection, ref)
        self.state.remove_feed(feed)
        return feed

    def find(self, collection: str, ref: str) -> FeedInfo:
        check_collection_name(collection)
        ref = ref.strip().lstrip("#")
        found: FeedInfo | None = None
        if ref.isdigit():
            found = next((f for f in self.state.feeds(collection) if f.id == int(ref)), None)
        elif ref:
            found = self.state.find(collection, normalize_url(ref))
        if found is None:
            raise NotFoundError(f"'{collection}' follows no feed '{ref}' (see `briefbot feeds`)")
        return found

    def feeds(self, collection: str) -> list[FeedInfo]:
        check_collection_name(collection)
        return self.state.feeds(collection)

    # -- polling ----------------------------------------------------------------------------
    def poll(
        self,
        collection: str | None = None,
        *,
        due_only: bool = False,
        served: Served | None = None,
    ) -> list[FeedPoll]:
        """One pass over the followed feeds (of one collection, or all); with `due_only`,
        only those whose time has come; with `served`, only those of the collections it
        accepts (a bot process polls the feeds of its own shards' servers only). Blocking:
        the bot runs it in a worker thread."""
        feeds = self._feeds(collection, served)
        if due_only:
            feeds = due(feeds, self.clock())
        return [self._poll_guarded(feed) for feed in feeds]

    def seconds_until_due(
        self, collection: str | None = None, served: Served | None = None
    ) -> float | None:
        """How long the bot's task may sleep before a feed is due (None: no feeds)."""
        return seconds_until_due(self._feeds(collection, served), self.clock())

    def _feeds(self, collection: str | None, served: Served | None) -> list[FeedInfo]:
        if collection is not None:
            check_collection_name(collection)
        feeds = self.state.feeds(collection)
        return feeds if served is None else [f for f in feeds if served(f.collection)]

    def _poll_guarded(self, feed: FeedInfo) -> FeedPoll:
        """One feed; whatever goes wrong with it is its failure, and the pass goes on."""
        try:
            return self.poll_feed(feed)
        except _FATAL:
            raise
        except Exception as exc:  # a bug must not stop every other feed: logged, shown
            logger.exception("polling %s failed", feed.feed_url)
            return self._failed(feed, f"{feed.feed_url}: unexpected error ({exc!r:.200})")

    def poll_feed(self, feed: FeedInfo) -> FeedPoll:
        validators = Validators(feed.etag, feed.last_modified)
        try:
            fetched = self.reader.fetch(feed.feed_url, validators if validators.headers() else None)
        except _FATAL:
            raise
        except BriefbotError as exc:
            return self._failed(feed, str(exc))
        now = self.clock()
        next_poll = self.options.schedule.after_success(now, self.rng)
        if fetched.feed is None:
            etag, modified = fetched.validators.etag, fetched.validators.last_modified
            self.state.record_success(feed.id, None, etag, modified, now, next_poll)
            return FeedPoll(self.state.feed(feed.id), "not_modified")
        seen = self.state.seen(feed.id)
        todo = list({e.guid: e for e in fetched.feed.entries if self._wanted(e, seen)}.values())
        chosen = todo[: self.options.max_entries]
        poll = self._ingest(feed, chosen, seen)
        # Validators only once everything is handled: a 304 must not hide waiting entries.
        complete = len(chosen) == len(todo) and not poll.errors
        kept = fetched.validators if complete else Validators()
        self.state.record_success(
            feed.id, fetched.feed.title, kept.etag, kept.last_modified, now, next_poll
        )
        if poll.errors:
            self.state.note_error(feed.id, poll.errors[-1], now)
        return replace(poll, feed=self.state.feed(feed.id), waiting=len(todo) - len(chosen))

    def _failed(self, feed: FeedInfo, error: str) -> FeedPoll:
        now = self.clock()
        later = self.options.schedule.after_failure(now, feed.failures + 1, self.rng)
        self.state.record_failure(feed.id, error, now, later)
        logger.warning("feed %s: %s", feed.feed_url, error)
        return FeedPoll(self.state.feed(feed.id), "failed", errors=(error,))

    def _wanted(self, entry: FeedEntry, seen: dict[str, SeenEntry]) -> bool:
        """Never seen, changed by the feed since, or failed fewer times than allowed."""
        record = seen.get(entry.guid)
        if record is None or record.fingerprint != entry.fingerprint:
            return True
        return record.status == "failed" and record.attempts < self.options.max_attempts

    # -- entries ----------------------------------------------------------------------------
    def _ingest(
        self, feed: FeedInfo, entries: list[FeedEntry], seen: dict[str, SeenEntry]
    ) -> FeedPoll:
        """Store the entries' stories; each seen-record is written after its article."""
        pending: list[FeedEntry] = []
        skipped = 0
        for entry in entries:
            known = None if entry.guid in seen else self._stored_before(feed, entry)
            if known is None:
                pending.append(entry)
                continue
            skipped += 1
            stored = EntryRecord(entry.guid, _link(entry), entry.fingerprint, "known", known)
            self.state.record_entry(feed, stored, self.clock())
        stories: list[Story] = []
        errors: list[str] = []
        queue = iter(pending)

        def record(outcome: AddOutcome) -> None:
            nonlocal skipped
            entry = next(queue)
            article = outcome.article
            if outcome.status in ("added", "replaced") and article is not None:
                stories.append(Story(article.title, article.url, article.id, outcome.status))
            elif outcome.status == "skipped":
                skipped += 1
            elif outcome.status == "failed":
                errors.append(outcome.error or outcome.origin)
            found = article.id if article is not None else outcome.duplicate_of
            entry_record = EntryRecord(
                entry.guid, _link(entry), entry.fingerprint, outcome.status, found, outcome.error
            )
            self.state.record_entry(feed, entry_record, self.clock())

        if pending:
            self.knowledge.add(
                self._read_all(feed, pending, seen),
                feed.collection,
                record,
                check_duplicates=True,
            )
        return FeedPoll(feed, "ok", tuple(stories), tuple(errors), skipped)

    def _stored_before(self, feed: FeedInfo, entry: FeedEntry) -> int | None:
        """The article already holding a story new to this feed: another feed's entry with
        its guid or link, or an article stored under its link (then its page is not fetched)."""
        link = _link(entry)
        found = self.state.known_elsewhere(feed.collection, entry.guid, link)
        if found is None and link:
            article = self.knowledge.store.find_by_url(feed.collection, link)
            found = article.id if article is not None else None
        return found

    def _read_all(
        self, feed: FeedInfo, entries: list[FeedEntry], seen: dict[str, SeenEntry]
    ) -> Iterator[RawArticle | BriefbotError]:
        for entry in entries:
            record = seen.get(entry.guid)
            yield self._read(feed, entry, record.article_id if record else None)

    def _read(
        self, feed: FeedInfo, entry: FeedEntry, stored: int | None = None
    ) -> RawArticle | BriefbotError:
        """The entry's page as an article; the feed's text for it when the page cannot be
        read (never when the link was refused by the guard, and never to replace a stored
        story by a much shorter text: a summary must not replace the full page)."""
        origin = entry.link or entry.title or entry.guid
        problem: BriefbotError = InputError(f"{origin}: the entry has no link")
        if entry.link:
            try:
                raw = self.links.read(entry.link)
            except BlockedAddressError as exc:
                return exc
            except BriefbotError as exc:
                problem = exc
            else:
                return replace(
                    raw,
                    title=raw.title or entry.title,
                    source=raw.source or feed.title,
                    published=raw.published or entry.published,
                )
        if not looks_like_prose(entry.content):
            return InputError(f"{problem}; and the feed gives no text for it")
        if stored is not None and len(entry.content) < 0.9 * self._stored_length(feed, stored):
            return InputError(f"{problem}; kept the stored story (the feed's text is shorter)")
        logger.info("%s: using the feed's text (%s)", origin, problem)
        return RawArticle(
            text=entry.content,
            title=entry.title,
            source=feed.title,
            url=self._safe_link(entry.link),
            published=entry.published,
            origin=origin,
        )

    def _stored_length(self, feed: FeedInfo, article_id: int) -> int:
        try:
            return len(self.knowledge.text(feed.collection, article_id))
        except NotFoundError:  # removed since: nothing to keep
            return 0

    def _safe_link(self, link: str | None) -> str | None:
        if not link:
            return None
        try:
            return normalize_url(self.links.guard.check_url(link))
        except InputError:
            return None


def _link(entry: FeedEntry) -> str | None:
    return normalize_url(entry.link) if entry.link else None
