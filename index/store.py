"""SQLite, the source of truth: articles, chunks, their vectors, and a change counter.

Every add or remove is one transaction, so a crash leaves either the old state or the new
one. WAL with synchronous=FULL makes a committed add survive power loss, which is what
"reported as done" promises the user; the caches (FAISS, lexical) are rebuilt from here.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from index.errors import (
    BriefbotError,
    CorruptStoreError,
    InputError,
    NotFoundError,
    StoreUnavailableError,
)
from index.models import Article, ChunkDraft, Sentence
from index.wording import counted

SCHEMA_VERSION = 1
T = TypeVar("T")
_COLLECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY,
    change_id INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL REFERENCES collections(name),
    title TEXT NOT NULL,
    source TEXT,
    url TEXT,
    published TEXT,
    added_at TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    raw_text TEXT NOT NULL,
    text TEXT NOT NULL,
    UNIQUE (collection, content_hash)
);
CREATE INDEX IF NOT EXISTS articles_by_url ON articles (collection, url);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    collection TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    sentences TEXT NOT NULL,
    vector BLOB NOT NULL,
    sentence_vectors BLOB NOT NULL DEFAULT x''
);
CREATE INDEX IF NOT EXISTS chunks_by_collection ON chunks (collection, id);
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks (article_id);
"""


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as the caches and the retriever read it back."""

    id: int
    article_id: int
    start: int
    end: int
    text: str
    sentences: tuple[Sentence, ...]
    title: str = ""

    @property
    def index_text(self) -> str:
        """What retrieval indexes: the title gives a chunk the context of its article."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True)
class NewArticle:
    """Everything one add writes, prepared outside the transaction (embedding is slow)."""

    collection: str
    title: str
    source: str | None
    url: str | None
    published: date | None
    content_hash: str
    raw_text: str
    text: str
    chunks: tuple[ChunkDraft, ...]
    vectors: np.ndarray
    sentence_vectors: tuple[np.ndarray, ...] = ()
    added_at: datetime | None = None  # kept by `briefbot import`; now when None


def check_collection_name(name: str) -> str:
    if not _COLLECTION_NAME.match(name):
        raise InputError(
            f"invalid collection name {name!r}: use letters, digits, '-', '_' or '.' (max 64)"
        )
    return name


class Store:
    """One SQLite file; a connection per thread, writes serialized by the caller's lock.

    The SQL here is written to mean the same on PostgreSQL (`index/pg_store.py` subclasses
    this and overrides only connections, transactions and the checks SQLite alone has):
    `?` placeholders (translated there), RETURNING instead of lastrowid, the column "end"
    quoted, standard upserts. Companions (feeds, reindex staging, the bot's feedback) use
    `transaction`, `reading`, `rows` and `ensure_tables` the same way.
    """

    backend = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._checked = False
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.transaction() as conn:
                for statement in _SCHEMA.split(";"):  # executescript would commit midway
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
        except sqlite3.DatabaseError as exc:
            self.close()
            raise CorruptStoreError(
                f"{path}: the database is damaged or not a Briefbot store ({exc}); "
                "nothing was written. Restore it from a backup (briefbot export/import)."
            ) from exc

    # -- connections -------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # Each connection is used only by the thread that opened it; check_same_thread is
            # off so close() can close worker threads' connections (the bot's thread pool).
            conn = sqlite3.connect(
                self.path, timeout=60, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before "added" is printed; WAL alone could lose it.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def check_before_writing(self) -> None:
        """Refuse to write into a damaged file: a write could spread the damage.

        `quick_check` reads every page once (well under a second for a large store), so it runs
        once per Store, before its first write, not on every read.
        """
        if self._checked:
            return
        problems = self._page_problems()
        if problems:
            raise CorruptStoreError(
                f"{self.path}: the database is damaged ({'; '.join(problems[:3])}); nothing was "
                "written. Restore it from a backup (briefbot import) into a new data dir."
            )
        self._checked = True

    def _page_problems(self) -> list[str]:
        """What SQLite's `quick_check` finds wrong with the file's pages (none: [])."""
        try:
            problems = [str(r[0]) for r in self._conn().execute("PRAGMA quick_check").fetchall()]
        except sqlite3.DatabaseError as exc:
            return [str(exc)]
        return [p for p in problems if p != "ok"]

    def describe(self) -> str:
        """Where the store is, for messages (a server's URL never shows its password)."""
        return str(self.path)

    def identity(self) -> str | None:
        """Which database this is, for the caches' manifest; None for the SQLite file, whose
        caches live beside it in the same data dir (a server's are in each process's)."""
        return None

    def ensure_tables(self, statements: Sequence[str]) -> None:
        """Create a companion's tables (CREATE ... IF NOT EXISTS, SQLite's dialect) in one
        transaction. A server store has them from its versioned migrations instead."""
        with self.transaction() as conn:
            for statement in statements:
                if statement.strip():
                    conn.execute(statement)

    @contextmanager
    def writer_lock(self, wait: bool = True) -> Iterator[bool]:
        """Writers of other processes that share this store without sharing the data dir's
        lock file: none for a SQLite file (its data dir's lock covers every writer)."""
        yield True

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """One consistent read transaction: everything read inside sees the same state."""
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise store_error(self.path, exc) from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise store_error(self.path, exc) from exc

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        """The rows of one read query, for the store's companions (reindex staging, feeds)."""
        return self._conn().execute(sql, tuple(params)).fetchall()

    def meta(self, key: str) -> str | None:
        row = self._conn().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- reads --------------------------------------------------------------------------
    def change_id(self, collection: str) -> int:
        row = (
            self._conn()
            .execute("SELECT change_id FROM collections WHERE name = ?", (collection,))
            .fetchone()
        )
        return 0 if row is None else int(row[0])

    def collections(self) -> list[str]:
        rows = self._conn().execute("SELECT name FROM collections ORDER BY name").fetchall()
        return [str(r[0]) for r in rows]

    def find_by_hash(self, collection: str, content_hash: str) -> Article | None:
        return self._one_article(
            "a.collection = ? AND a.content_hash = ?", (collection, content_hash)
        )

    def find_by_url(self, collection: str, url: str) -> Article | None:
        return self._one_article("a.collection = ? AND a.url = ?", (collection, url))

    def get_article(self, collection: str, article_id: int) -> Article:
        article = self._one_article("a.collection = ? AND a.id = ?", (collection, article_id))
        if article is None:
            raise NotFoundError(f"no article #{article_id} in collection '{collection}'")
        return article

    def article_text(self, article_id: int) -> str:
        row = (
            self._conn().execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        )
        if row is None:
            raise NotFoundError(f"no article #{article_id}")
        return str(row[0])

    def article_sizes(
        self, collection: str, min_chars: int, max_chars: int
    ) -> list[tuple[int, str, int]]:
        """(id, content hash, text length) of the articles whose clean text length is in range."""
        rows = (
            self._conn()
            .execute(
                "SELECT id, content_hash, length(text) FROM articles "
                "WHERE collection = ? AND length(text) BETWEEN ? AND ? ORDER BY id",
                (collection, min_chars, max_chars),
            )
            .fetchall()
        )
        return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    def list_articles(self, collection: str, limit: int = 1000, offset: int = 0) -> list[Article]:
        """Newest first by publication date (ISO text sorts as dates); articles whose date is
        unknown come after all dated ones, latest added first. The date added says nothing
        about when a story was written, so it never places an undated 2005 story above 2026."""
        return self._articles(
            "a.collection = ? ORDER BY a.published IS NULL, a.published DESC, a.added_at DESC, "
            "a.id DESC LIMIT ? OFFSET ?",
            (collection, limit, offset),
        )

    def articles_by_ids(self, ids: Sequence[int]) -> dict[int, Article]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return {a.id: a for a in self._articles(f"a.id IN ({marks})", tuple(ids))}

    def count(self, collection: str) -> tuple[int, int]:
        conn = self._conn()
        articles = conn.execute(
            "SELECT COUNT(*) FROM articles WHERE collection = ?", (collection,)
        ).fetchone()[0]
        chunks = conn.execute(
            "SELECT COUNT(*) FROM chunks WHERE collection = ?", (collection,)
        ).fetchone()[0]
        return int(articles), int(chunks)

    def _chunk_rows(self, columns: str, ids: Sequence[int]) -> list[Any]:
        """These columns of the chunks with these ids, in one query (none for no ids)."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return (
            self._conn()
            .execute(f"SELECT {columns} FROM chunks WHERE id IN ({marks})", tuple(ids))
            .fetchall()
        )

    def chunks_by_ids(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        rows = self._chunk_rows('id, article_id, start, "end", text, sentences', ids)
        return {int(r[0]): _chunk_from_row(r) for r in rows}

    def sentence_vectors(self, chunk_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """Each chunk's sentence vectors as an (n_sentences, dim) matrix."""
        rows = self._chunk_rows("id, sentence_vectors, length(vector)", chunk_ids)
        result = {}
        for chunk_id, blob, vector_bytes in rows:
            dim = int(vector_bytes) // 4
            if blob and dim:
                result[int(chunk_id)] = np.frombuffer(blob, dtype=np.float32).reshape(-1, dim)
        return result

    def snapshot(self, collection: str) -> tuple[int, list[StoredChunk], np.ndarray]:
        """(change id, chunks, vectors) of a collection, read in one consistent transaction."""
        with self.reading() as conn:
            change = self.change_id(collection)
            rows = conn.execute(
                'SELECT c.id, c.article_id, c.start, c."end", c.text, c.sentences, c.vector, '
                "a.title FROM chunks c JOIN articles a ON a.id = c.article_id "
                "WHERE c.collection = ? ORDER BY c.id",
                (collection,),
            ).fetchall()
        chunks = [_chunk_from_row(r) for r in rows]
        if rows:
            vectors = np.vstack([np.frombuffer(r[6], dtype=np.float32) for r in rows])
        else:
            vectors = np.zeros((0, 0), dtype=np.float32)
        return change, chunks, vectors

    def chunks_since(
        self, collection: str, after_id: int
    ) -> tuple[int, list[int], list[StoredChunk], np.ndarray]:
        """(change id, every chunk id, the chunks with ids above `after_id`, their vectors),
        read in one transaction: what the caches need to catch up without a full rebuild.
        Chunk ids only grow (AUTOINCREMENT), so chunks added later always come above it."""
        with self.reading():
            change, ids = self.change_id(collection), self.chunk_ids(collection)
            rows = self._rows_after(collection, after_id)
        chunks, vectors = _chunks_and_vectors(rows)
        return change, ids, chunks, vectors

    def chunks_after(
        self, collection: str, after_id: int
    ) -> tuple[int, int, list[StoredChunk], np.ndarray]:
        """Like `chunks_since`, with how many chunks have ids up to `after_id` instead of
        every id (what an add needs: reading 100k ids per add is most of its cost)."""
        with self.reading() as conn:
            change = self.change_id(collection)
            below = conn.execute(
                "SELECT COUNT(*) FROM chunks WHERE collection = ? AND id <= ?",
                (collection, after_id),
            ).fetchone()[0]
            rows = self._rows_after(collection, after_id)
        chunks, vectors = _chunks_and_vectors(rows)
        return change, int(below), chunks, vectors

    def _rows_after(self, collection: str, after_id: int) -> list[Any]:
        return (
            self._conn()
            .execute(
                'SELECT c.id, c.article_id, c.start, c."end", c.text, c.sentences, c.vector, '
                "a.title FROM chunks c JOIN articles a ON a.id = c.article_id "
                "WHERE c.collection = ? AND c.id > ? ORDER BY c.id",
                (collection, after_id),
            )
            .fetchall()
        )

    def chunk_ids_at(self, collection: str) -> tuple[int, list[int]]:
        """(change id, chunk ids) read together: a cache is checked against ONE state."""
        with self.reading():
            return self.change_id(collection), self.chunk_ids(collection)

    def chunk_ids(self, collection: str) -> list[int]:
        rows = (
            self._conn()
            .execute("SELECT id FROM chunks WHERE collection = ? ORDER BY id", (collection,))
            .fetchall()
        )
        return [int(r[0]) for r in rows]

    def integrity_problems(self) -> list[str]:
        conn = self._conn()
        try:
            problems = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
            problems = [p for p in problems if p != "ok"]
        except sqlite3.DatabaseError as exc:
            return [f"damaged ({exc}); restore from a backup (briefbot import)"]
        if problems:  # the counts below would read damaged pages
            return problems[:10]
        return self._consistency_problems()

    def _consistency_problems(self) -> list[str]:
        """Chunks without their article and articles without chunks (any backend)."""
        conn = self._conn()
        problems: list[str] = []
        orphans = conn.execute(
            "SELECT COUNT(*) FROM chunks c LEFT JOIN articles a ON a.id = c.article_id "
            "WHERE a.id IS NULL OR a.collection != c.collection"
        ).fetchone()[0]
        if orphans:
            problems.append(f"{counted(orphans, 'chunk')} without their article")
        empty = conn.execute(
            "SELECT COUNT(*) FROM articles a WHERE NOT EXISTS "
            "(SELECT 1 FROM chunks c WHERE c.article_id = a.id)"
        ).fetchone()[0]
        if empty:
            problems.append(f"{counted(empty, 'article')} without chunks")
        return problems

    # -- writes (caller holds the data dir's writer lock) -------------------------------
    def insert_article(self, new: NewArticle, replace_id: int | None = None) -> int:
        """Store an article with its chunks and vectors in one transaction; return its id."""
        self.check_before_writing()
        when = new.added_at or datetime.now(UTC)
        now = when.isoformat(timespec="seconds")
        published = new.published.isoformat() if new.published else None
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO collections(name, change_id) VALUES (?, 1) "
                "ON CONFLICT(name) DO UPDATE SET change_id = collections.change_id + 1",
                (new.collection,),
            )
            values = (
                new.title,
                new.source,
                new.url,
                published,
                now,
                new.content_hash,
                new.raw_text,
                new.text,
            )
            if replace_id is None:
                cursor = conn.execute(
                    "INSERT INTO articles(collection, title, source, url, published, added_at, "
                    "content_hash, raw_text, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (new.collection, *values),
                )
                article_id = int(cursor.fetchone()[0])
            else:
                article_id = replace_id
                conn.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
                conn.execute(
                    "UPDATE articles SET title=?, source=?, url=?, published=?, added_at=?, "
                    "content_hash=?, raw_text=?, text=? WHERE id = ?",
                    (*values, article_id),
                )
            conn.executemany(
                'INSERT INTO chunks(article_id, collection, ordinal, start, "end", text, '
                "sentences, vector, sentence_vectors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        article_id,
                        new.collection,
                        c.ordinal,
                        c.start,
                        c.end,
                        c.text,
                        json.dumps([[s.start, s.end] for s in c.sentences]),
                        np.asarray(v, dtype=np.float32).tobytes(),
                        np.asarray(sv, dtype=np.float32).tobytes(),
                    )
                    for c, v, sv in zip(new.chunks, new.vectors, _per_chunk(new), strict=True)
                ],
            )
        return article_id

    def update_metadata(
        self, collection: str, article_id: int, changes: Mapping[str, object]
    ) -> None:
        """Set an article's title, source, url or published date (keys of `changes`).

        A new title also renumbers the article's chunks (same text and vectors, new ids):
        retrieval indexes the title with every chunk, and the caches rebuild a chunk's
        lexical entry only when its id is new.
        """
        columns = [name for name in ("title", "source", "url", "published") if name in changes]
        if not columns:
            return
        values = [
            v.isoformat() if isinstance(v, date) else v for v in (changes[c] for c in columns)
        ]
        self.get_article(collection, article_id)
        self.check_before_writing()
        with self.transaction() as conn:
            _bump(conn, collection)
            conn.execute(
                f"UPDATE articles SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
                (*values, article_id),
            )
            if "title" in changes:
                kept = 'article_id, collection, ordinal, start, "end", text, sentences, vector, '
                kept += "sentence_vectors"
                (old_last,) = conn.execute(
                    "SELECT MAX(id) FROM chunks WHERE article_id = ?", (article_id,)
                ).fetchone()
                conn.execute(
                    f"INSERT INTO chunks({kept}) SELECT {kept} FROM chunks "
                    "WHERE article_id = ? ORDER BY id",
                    (article_id,),
                )
                conn.execute(
                    "DELETE FROM chunks WHERE article_id = ? AND id <= ?", (article_id, old_last)
                )

    def delete_article(self, collection: str, article_id: int) -> Article:
        article = self.get_article(collection, article_id)
        self.check_before_writing()
        with self.transaction() as conn:
            _bump(conn, collection)
            conn.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
            conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return article

    # -- helpers ------------------------------------------------------------------------
    def _one_article(self, where: str, params: tuple[object, ...]) -> Article | None:
        found = self._articles(where + " LIMIT 1", params)
        return found[0] if found else None

    def _articles(self, where: str, params: tuple[object, ...]) -> list[Article]:
        rows = (
            self._conn()
            .execute(
                "SELECT a.id, a.collection, a.title, a.source, a.url, a.published, a.added_at, "
                "a.content_hash, (SELECT COUNT(*) FROM chunks c WHERE c.article_id = a.id) "
                f"FROM articles a WHERE {where}",
                params,
            )
            .fetchall()
        )
        return [
            Article(
                id=int(r[0]),
                collection=str(r[1]),
                title=str(r[2]),
                source=r[3],
                url=r[4],
                published=date.fromisoformat(r[5]) if r[5] else None,
                added_at=datetime.fromisoformat(r[6]),
                content_hash=str(r[7]),
                chunk_count=int(r[8]),
            )
            for r in rows
        ]


def store_error(
    path: Path, exc: sqlite3.DatabaseError
) -> CorruptStoreError | StoreUnavailableError:
    """sqlite3's error as Briefbot's own, so every interface reports it as one clear line:
    damage (a malformed page found mid-command) or a store that cannot be used right now
    (locked past the busy timeout, disk I/O, no permission)."""
    if isinstance(exc, sqlite3.OperationalError):
        return StoreUnavailableError(f"{path}: the database cannot be used right now ({exc})")
    return CorruptStoreError(
        f"{path}: the database is damaged ({exc}); nothing more was written. Restore it from a "
        "backup (briefbot import) into a new data dir."
    )


# Other backends' error translators: (their base error class, exception -> Briefbot's).
FOREIGN_ERRORS: list[tuple[type[BaseException], Callable[[BaseException], BriefbotError]]] = []


def foreign_error(exc: BaseException) -> BriefbotError | None:
    """A server backend's exception as Briefbot's own (None when it is not one of theirs)."""
    for kind, translate in FOREIGN_ERRORS:
        if isinstance(exc, kind):
            return translate(exc)
    return None


def _translating(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise store_error(self.path, exc) from exc
        except BriefbotError:
            raise
        except Exception as exc:
            translated = foreign_error(exc)
            if translated is None:
                raise
            raise translated from exc

    return call


def translating_errors(cls: type[T]) -> type[T]:
    """Every public method of `cls` raises Briefbot's errors, never sqlite3's: damage can
    surface in any read (a bad page is found when it is read), and callers (the CLI, the
    Discord error handler) know only BriefbotError. `transaction` translates its own BEGIN and
    COMMIT. `cls` has a `path` attribute (the database file)."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and name != "transaction" and inspect.isfunction(member):
            setattr(cls, name, _translating(member))
    return cls


translating_errors(Store)


def _bump(conn: Any, collection: str) -> None:
    """The collection's change id + 1, first in a write transaction: on a server this locks
    the collection's row, so writers of one collection commit in the order their chunk ids
    were given (the caches catch up by reading ids above the highest they hold)."""
    conn.execute("UPDATE collections SET change_id = change_id + 1 WHERE name = ?", (collection,))


def _per_chunk(new: NewArticle) -> Sequence[np.ndarray]:
    if new.sentence_vectors:
        return new.sentence_vectors
    return [np.zeros((0,), dtype=np.float32)] * len(new.chunks)


def _chunks_and_vectors(rows: list[Any]) -> tuple[list[StoredChunk], np.ndarray]:
    chunks = [_chunk_from_row(r) for r in rows]
    vectors = (
        np.vstack([np.frombuffer(r[6], dtype=np.float32) for r in rows])
        if rows
        else np.zeros((0, 0), dtype=np.float32)
    )
    return chunks, vectors


def _chunk_from_row(row: Sequence[object]) -> StoredChunk:
    spans = json.loads(str(row[5]))
    return StoredChunk(
        id=int(row[0]),  # type: ignore[call-overload]
        article_id=int(row[1]),  # type: ignore[call-overload]
        start=int(row[2]),  # type: ignore[call-overload]
        end=int(row[3]),  # type: ignore[call-overload]
        text=str(row[4]),
        sentences=tuple(Sentence(int(s), int(e)) for s, e in spans),
        title=str(row[7]) if len(row) > 7 else "",
    )
