"""Moving a deployment from its SQLite file to PostgreSQL (`briefbot migrate --to URL`).

Why a direct copy rather than export + import: an archive holds each article's text only, so
importing re-embeds everything (hours at 1M chunks) and gives new article ids; the copy moves
the stored vectors as they are, keeps every id (the ids people cite, feeds' records, the
caches' manifests stay valid) and also moves the feeds and the bot's feedback, which archives
do not hold. It is all-or-nothing: one transaction on the target, committed at the end, so a
failure or an interrupt leaves the target as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from index.errors import InputError
from index.pg_store import PgStore
from index.store import Store

logger = logging.getLogger(__name__)
# In dependency order (a row's references are copied before it). Rows of a table the
# SQLite file does not have (no feed ever followed, the bot never run) are simply none.
TABLES = (
    "collections",
    "articles",
    "chunks",
    "feeds",
    "feed_entries",
    "bot_answers",
    "bot_feedback",
)
_WITH_IDS = ("articles", "chunks", "feeds", "feed_entries", "bot_answers", "bot_feedback")
_BATCH = 500
_OWN_META = "('schema_version', 'store_id')"  # the target's own, never copied


@dataclass(frozen=True)
class MigrationReport:
    """Rows copied per table (the CLI prints them; `--json` gives them as they are)."""

    target: str
    counts: dict[str, int]
    replaced: bool


def migrate_store(source: Store, target: PgStore, replace: bool = False) -> MigrationReport:
    """Copy every row of `source` into `target` in one transaction. A target that holds
    anything is refused unless `replace` (then emptied first, in the same transaction)."""
    if source.meta("reindex_model") is not None:
        raise InputError(
            "a reindex is in progress in this data dir; finish it (briefbot reindex) first"
        )
    present = set(_sqlite_tables(source))
    counts: dict[str, int] = {}
    with target.transaction() as out, source.reading() as conn:
        held = _target_rows(out)
        if held and not replace:
            raise InputError(
                f"{target.describe()} already holds {held}; migrate into an empty database, "
                "or add --replace to empty it first"
            )
        if held:
            out.execute(f"TRUNCATE {', '.join(TABLES)}, staged_vectors RESTART IDENTITY")
            out.execute(f"DELETE FROM meta WHERE key NOT IN {_OWN_META}")
        for key, value in conn.execute(
            f"SELECT key, value FROM meta WHERE key NOT IN {_OWN_META}"
        ).fetchall():
            out.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
        for table in TABLES:
            counts[table] = _copy(conn, out, table) if table in present else 0
        for table in _WITH_IDS:  # new rows continue after the copied ids
            out.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
    logger.info("migrated %s into %s", counts, target.describe())
    return MigrationReport(target.describe(), counts, bool(replace))


def _sqlite_tables(source: Store) -> list[str]:
    rows = source.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
    return [str(r[0]) for r in rows]


def _target_rows(out: Any) -> str:
    """What the target holds already ('' when empty), counted over the copied tables."""
    found = []
    for table in ("collections", "articles", "feeds", "bot_answers"):
        (n,) = out.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        if n:
            found.append(f"{n:,} {table.replace('_', ' ')} rows")
    return ", ".join(found)


def _copy(conn: Any, out: Any, table: str) -> int:
    """Every row of one table, source columns by name, through COPY (fast for vectors)."""
    columns = [str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})")]
    quoted = ", ".join(f'"{c}"' for c in columns)
    copied = 0
    rows = conn.execute(f"SELECT {quoted} FROM {table} ORDER BY 1")
    with out.raw.cursor().copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        for row in _batches(rows):
            copy.write_row(row)
            copied += 1
    return copied


def _batches(cursor: Any) -> Iterator[tuple[object, ...]]:
    while True:
        rows = cursor.fetchmany(_BATCH)
        if not rows:
            return
        yield from rows
