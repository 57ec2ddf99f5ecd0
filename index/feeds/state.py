"""The feeds a collection follows and the entries seen, in the store's SQLite file.

Two tables beside the articles, created with CREATE TABLE IF NOT EXISTS (an older store
gains them on first use; nothing to migrate). Every change is one transaction. Times are
seconds since the epoch from the poller's clock, so tests drive them with a fake one.

An entry's seen-record is written right after its article is committed (never before): a
poller killed in between finds the story stored under its link (or adds it again and gets
"unchanged" from the content hash), so a crash never stores half a story or a story twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from index.errors import InputError, NotFoundError
from index.store import Store, store_error, translating_errors

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS feeds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL,
    url TEXT NOT NULL,
    feed_url TEXT NOT NULL,
    title TEXT NOT NULL,
    channel_id TEXT,
    added_at REAL NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_success REAL,
    last_error TEXT,
    last_error_at REAL,
    failures INTEGER NOT NULL DEFAULT 0,
    next_poll REAL NOT NULL DEFAULT 0,
    UNIQUE (collection, url)
)""",
    """CREATE TABLE IF NOT EXISTS feed_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    collection TEXT NOT NULL,
    guid TEXT NOT NULL,
    link TEXT,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    article_id INTEGER,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    seen_at REAL NOT NULL,
    UNIQUE (feed_id, guid)
)""",
    "CREATE INDEX IF NOT EXISTS feed_entries_by_link ON feed_entries (collection, link)",
    "CREATE INDEX IF NOT EXISTS feed_entries_by_guid ON feed_entries (collection, guid)",
)
# Entry statuses that put a story in the collection (what "stories added" counts).
STORED = ("added", "replaced")
_FEED_COLUMNS = (
    "f.id, f.collection, f.url, f.feed_url, f.title, f.channel_id, f.added_at, f.last_success, "
    "f.last_error, f.last_error_at, f.failures, f.next_poll, f.etag, f.last_modified, "
    "(SELECT COUNT(*) FROM feed_entries e WHERE e.feed_id = f.id AND e.status IN "
    "('added', 'replaced'))"
)


@dataclass(frozen=True)
class FeedInfo:
    """A followed feed and how its polling goes (what `briefbot feeds` and /feeds show)."""

    id: int
    collection: str
    url: str  # as followed
    feed_url: str  # the feed itself (after discovery from a web page)
    title: str
    channel_id: str | None  # where new stories are announced (Discord), if anywhere
    added_at: datetime
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failures: int  # polls failed in a row (the back-off grows with it)
    next_poll: datetime
    etag: str | None
    last_modified: str | None
    stories_added: int


@dataclass(frozen=True)
class SeenEntry:
    fingerprint: str
    status: str
    attempts: int
    article_id: int | None


@dataclass(frozen=True)
class EntryRecord:
    """What became of one entry: written once its article (if any) is committed."""

    guid: str
    link: str | None
    fingerprint: str
    status: str  # an AddOutcome status, "known" (stored before), or "failed"
    article_id: int | None = None
    error: str | None = None


def _time(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(float(value), UTC)


@translating_errors
class FeedState:
    """Reads and atomic writes of the two feed tables (a companion of the store, like
    reindex staging: its public methods raise Briefbot's errors, never sqlite3's)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.path = store.path
        try:
            self.store.ensure_tables(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise store_error(self.path, exc) from exc

    def _rows(self, sql: str, params: Sequence[object]) -> list[Any]:
        return self.store.rows(sql, params)

    # -- feeds ------------------------------------------------------------------------------
    def feeds(self, collection: str | None = None) -> list[FeedInfo]:
        where, params = ("WHERE f.collection = ?", (collection,)) if collection else ("", ())
        rows = self._rows(f"SELECT {_FEED_COLUMNS} FROM feeds f {where} ORDER BY f.id", params)
        return [_feed(r) for r in rows]

    def feed(self, feed_id: int) -> FeedInfo:
        rows = self._rows(f"SELECT {_FEED_COLUMNS} FROM feeds f WHERE f.id = ?", (feed_id,))
        if not rows:
            raise NotFoundError(f"no feed #{feed_id}")
        return _feed(rows[0])

    def find(self, collection: str, url: str) -> FeedInfo | None:
        """The feed followed under this link, or whose feed is at this link."""
        rows = self._rows(
            f"SELECT {_FEED_COLUMNS} FROM feeds f WHERE f.collection = ? "
            "AND (f.url = ? OR f.feed_url = ?) ORDER BY f.id LIMIT 1",
            (collection, url, url),
        )
        return _feed(rows[0]) if rows else None

    def count(self, collection: str) -> int:
        rows = self._rows("SELECT COUNT(*) FROM feeds WHERE collection = ?", (collection,))
        return int(rows[0][0])

    def add_feed(
        self,
        collection: str,
        url: str,
        feed_url: str,
        title: str,
        channel: str | None,
        now: float,
        limit: int,
    ) -> tuple[FeedInfo, bool]:
        """(feed, created): following a link already followed changes nothing but the channel
        (when one is given). The count limit is checked in the same transaction."""
        self.store.check_before_writing()
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT id FROM feeds WHERE collection = ? AND (url IN (?, ?) OR feed_url IN "
                "(?, ?)) ORDER BY id LIMIT 1",
                (collection, url, feed_url, url, feed_url),
            ).fetchone()
            if row is not None:
                if channel is not None:
                    conn.execute("UPDATE feeds SET channel_id = ? WHERE id = ?", (channel, row[0]))
                feed_id, created = int(row[0]), False
            else:
                (count,) = conn.execute(
                    "SELECT COUNT(*) FROM feeds WHERE collection = ?", (collection,)
                ).fetchone()
                if count >= limit:
                    raise FeedLimitError(
                        f"'{collection}' already follows {count} feeds, the limit "
                        "(BRIEFBOT_FEED_MAX_FEEDS); unfollow one first"
                    )
                cursor = conn.execute(
                    "INSERT INTO feeds(collection, url, feed_url, title, channel_id, added_at, "
                    "next_poll) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (collection, url, feed_url, title, channel, now, now),
                )
                feed_id, created = int(cursor.fetchone()[0]), True
        return self.feed(feed_id), created

    def remove_feed(self, feed: FeedInfo) -> None:
        """Unfollow: the feed and its seen-records go; the articles it added stay."""
        self.store.check_before_writing()
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM feed_entries WHERE feed_id = ?", (feed.id,))
            conn.execute("DELETE FROM feeds WHERE id = ?", (feed.id,))

    def record_success(
        self,
        feed_id: int,
        title: str | None,
        etag: str | None,
        modified: str | None,
        now: float,
        next_poll: float,
    ) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE feeds SET title = COALESCE(?, title), etag = ?, last_modified = ?, "
                "last_success = ?, failures = 0, next_poll = ? WHERE id = ?",
                (title, etag, modified, now, next_poll, feed_id),
            )

    def record_failure(self, feed_id: int, error: str, now: float, next_poll: float) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE feeds SET last_error = ?, last_error_at = ?, failures = failures + 1, "
                "next_poll = ? WHERE id = ?",
                (error, now, next_poll, feed_id),
            )

    def note_error(self, feed_id: int, error: str, now: float) -> None:
        """An entry's failure, shown as the feed's last error (the feed itself answered)."""
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE feeds SET last_error = ?, last_error_at = ? WHERE id = ?",
                (error, now, feed_id),
            )

    # -- entries ----------------------------------------------------------------------------
    def seen(self, feed_id: int) -> dict[str, SeenEntry]:
        rows = self._rows(
            "SELECT guid, fingerprint, status, attempts, article_id FROM feed_entries "
            "WHERE feed_id = ?",
            (feed_id,),
        )
        return {str(r[0]): SeenEntry(str(r[1]), str(r[2]), int(r[3]), r[4]) for r in rows}

    def known_elsewhere(self, collection: str, guid: str, link: str | None) -> int | None:
        """The article another feed of the collection stored for this link, or for this guid
        when it is unique across sites (a URL, urn: or tag:); a guid like "1234" is only
        unique within its own feed, and two sites' story 1234 are different stories."""
        global_guid = "://" in guid or guid.lower().startswith(("urn:", "tag:"))
        rows = self._rows(
            "SELECT article_id FROM feed_entries WHERE collection = ? AND article_id IS NOT NULL "
            "AND ((? AND guid = ?) OR (link IS NOT NULL AND link = ?)) LIMIT 1",
            (collection, global_guid, guid, link),
        )
        return int(rows[0][0]) if rows else None

    def record_entry(self, feed: FeedInfo, record: EntryRecord, now: float) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO feed_entries(feed_id, collection, guid, link, fingerprint, status, "
                "article_id, error, attempts, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(feed_id, guid) DO UPDATE SET link = excluded.link, "
                "fingerprint = excluded.fingerprint, status = excluded.status, "
                "article_id = COALESCE(excluded.article_id, feed_entries.article_id), "
                "error = excluded.error, seen_at = excluded.seen_at, "
                "attempts = CASE WHEN excluded.status = 'failed' "
                "THEN feed_entries.attempts + 1 ELSE 0 END",
                (
                    feed.id,
                    feed.collection,
                    record.guid,
                    record.link,
                    record.fingerprint,
                    record.status,
                    record.article_id,
                    record.error,
                    1 if record.status == "failed" else 0,
                    now,
                ),
            )


class FeedLimitError(InputError):
    """The collection follows as many feeds as it may."""


def _feed(r: Any) -> FeedInfo:
    added = _time(r[6])
    next_poll = _time(r[11])
    assert added is not None and next_poll is not None
    return FeedInfo(
        id=int(r[0]),
        collection=str(r[1]),
        url=str(r[2]),
        feed_url=str(r[3]),
        title=str(r[4]),
        channel_id=r[5],
        added_at=added,
        last_success=_time(r[7]),
        last_error=r[8],
        last_error_at=_time(r[9]),
        failures=int(r[10]),
        next_poll=next_poll,
        etag=r[12],
        last_modified=r[13],
        stories_added=int(r[14]),
    )
