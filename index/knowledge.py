"""The knowledge base: the one object both interfaces use to add, find, list and remove articles.

It owns the store, the caches and the embedder, and enforces one writer per data dir with a
lock file that works across processes (the bot and a CLI may share a data dir).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock, Timeout

from index.caches import CacheManager, approximate_search
from index.chunking import chunk_text
from index.embedder_factory import make_embedder
from index.embedding import Embedder, embed_chunked
from index.errors import (
    BriefbotError,
    CorruptStoreError,
    IndexMismatchError,
    InputError,
    naming,
)
from index.models import (
    AddOutcome,
    Article,
    CollectionStats,
    Overrides,
    Passage,
    RawArticle,
    VerifyReport,
)
from index.normalize import clean_line, normalize
from index.retrieval import FusionWeights, RetrievalResult, hybrid_search
from index.settings import IndexSettings
from index.similar import DuplicateFinder
from index.store import NewArticle, Store, check_collection_name

if TYPE_CHECKING:
    from index.pg_notify import Change, ChangeListener

logger = logging.getLogger(__name__)
DB_FILE = "briefbot.sqlite3"
MAX_TITLE_CHARS = 300
MAX_SOURCE_CHARS = 200
ProgressCallback = Callable[[AddOutcome], None]
# Twelve batches per core a round: about 7 s of embedding on any machine (1,536 sentences on
# 2 cores; `briefbot add` of the 16 SQuAD articles ran at 0.92x of SentenceTransformer.encode,
# 0.89x with eight). Smaller rounds sort too few sentences by length to pad well and leave
# cores idle: 3,515 SQuAD sentences took 17.7 s in one call, 21.3 s in rounds of 1,024,
# 24.9 s of 512, 33.5 s of 256 and 90.9 s of 64 (ONNX, 2 cores).
ROUND_BATCHES_PER_CORE = 12


def open_store(settings: IndexSettings, data_dir: Path | None = None) -> Store:
    """The store the settings name: PostgreSQL when BRIEFBOT_STORE_URL is set, else the
    SQLite file in the data dir (psycopg is imported only then: nothing to load otherwise)."""
    if settings.store_url is not None:
        from index.pg_store import PgStore

        return PgStore(settings.store_url.get_secret_value())
    return Store(Path(data_dir or settings.data_dir) / DB_FILE)


def content_hash(text: str) -> str:
    """Identity of an article's content: its clean text, case and spacing folded."""
    return hashlib.sha256(" ".join(text.lower().split()).encode("utf-8")).hexdigest()


class KnowledgeBase:
    def __init__(
        self,
        settings: IndexSettings,
        embedder: Embedder | None = None,
        *,
        check_model: bool = True,
    ) -> None:
        """`check_model=False` only for `briefbot reindex`, which exists to change the model."""
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # settings checked it; the disk may still say no
            raise InputError(f"cannot create the data dir {self.data_dir}: {exc}") from exc
        self.store = open_store(settings, self.data_dir)
        self._embedder = embedder
        self._caches: CacheManager | None = None
        self._write_lock = threading.RLock()
        self._file_lock = FileLock(str(self.data_dir / "write.lock"), timeout=600)
        self._duplicates = DuplicateFinder(self.store)
        self._listener: ChangeListener | None = None
        if check_model:
            try:
                self._check_model_name()
            except BriefbotError:
                self.store.close()  # a server store holds a pool of connections
                raise

    # -- setup --------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        return self._embedder

    def _check_model_name(self) -> None:
        stored = self.store.meta("model")
        if stored is not None and stored != self.embedder.name:
            raise IndexMismatchError(
                f"this index was built with the model '{stored}', but the configured model is "
                f"'{self.embedder.name}'. Set BRIEFBOT_EMBEDDING_MODEL back, or run "
                "`briefbot reindex` to re-embed every article with the new model."
            )

    @property
    def caches(self) -> CacheManager:
        if self._caches is None:
            dimension = self.embedder.dimension
            stored = self.store.meta("dimension")
            if stored is not None and int(stored) != dimension:
                raise IndexMismatchError(
                    f"this index holds {stored}-dimensional vectors, the model makes "
                    f"{dimension}-dimensional ones; run `briefbot reindex`."
                )
            budget = self.settings.cache_max_mb
            self._caches = CacheManager(
                self.data_dir,
                self.store,
                self.embedder.name,
                dimension,
                self.try_writing,
                approximate_search(self.settings),
                max_bytes=int(budget * 2**20) if budget else None,
            )
        return self._caches

    def reset_caches(self) -> None:
        """Forget the cache manager (its model and dimension) after a reindex switched models."""
        self._caches = None

    def close(self) -> None:
        self.stop_listening()
        self.store.close()

    # -- other processes' changes ---------------------------------------------------------
    def start_listening(self) -> bool:
        """On a PostgreSQL store, listen for other processes' writes (index/pg_notify.py) and
        catch up the caches this process holds before their next question is asked; for a
        long-running process (the bot). Returns whether a listener runs: SQLite has none (its
        writers share this machine, and the per-question change-id read sees them)."""
        if self.settings.store_url is None:
            return False
        if self._listener is None:
            from index.pg_notify import ChangeListener

            url = self.settings.store_url.get_secret_value()
            self._listener = ChangeListener(url, self._changed, self._check_held)
        self._listener.start()
        return True

    @property
    def listening(self) -> bool:
        """Whether a change listener runs (connected or reconnecting)."""
        return self._listener is not None and self._listener.running

    def wait_listening(self, timeout: float) -> bool:
        """Whether the listener's LISTEN is in force within `timeout` seconds (it connects in
        its own thread; tests and benchmarks wait for it before writing)."""
        return self._listener is not None and self._listener.listening.wait(timeout)

    def stop_listening(self) -> None:
        if self._listener is not None:
            if not self._listener.stop():
                logger.warning("the change listener did not stop in time")
            self._listener = None

    def _changed(self, change: Change) -> None:
        """Another process (or this one) committed a change: catch up if the caches are held.
        No cache manager yet means nothing held (and no model to load for it here)."""
        if self._caches is not None and self._caches.catch_up(change.collection, change.change_id):
            logger.debug("caches of %r caught up to change %d", change.collection, change.change_id)

    def _check_held(self) -> None:
        """(Re)connected: changes made while not listening were never announced."""
        if self._caches is not None:
            for name in self._caches.held():
                self._caches.catch_up(name)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One writer per data dir: threads of this process, then other processes; on a
        shared server store, also one writer among every process using it."""
        with self._write_lock, self._file_lock, self.store.writer_lock():
            yield

    @contextmanager
    def try_writing(self) -> Iterator[bool]:
        """The writer lock if it is free right now (True), else nothing and no wait (False)."""
        if not self._write_lock.acquire(blocking=False):
            yield False
            return
        try:
            try:
                self._file_lock.acquire(timeout=0)
            except Timeout:
                yield False
                return
            try:
                with self.store.writer_lock(wait=False) as free:
                    yield free
            finally:
                self._file_lock.release()
        finally:
            self._write_lock.release()

    # -- adding -------------------------------------------------------------------------
    def add(
        self,
        articles: Iterable[RawArticle | BriefbotError],
        collection: str = "default",
        progress: ProgressCallback | None = None,
        max_batch: int = 16,
        *,
        check_duplicates: bool = False,
        overrides: Overrides | None = None,
    ) -> list[AddOutcome]:
        """Add articles; each gets an outcome, a failure never stops the others.

        An item may be an error already (a file that could not be read) so the caller's batch
        reports it in order with the rest. With `check_duplicates`, an article near-identical
        to a stored one at another URL (a syndicated copy) is skipped, not stored. `overrides`
        names the metadata the user gave explicitly: for content already stored, those fields
        are updated (the items already carry the values; this says which ones were given).

        Articles are embedded a few at a time (`_sentences_per_round`: enough sentences to keep
        every core of batch embedding busy, at most `max_batch` articles) and each is committed
        and reported as soon as its round is embedded: progress stays visible, and an interrupt
        loses only the articles in hand.
        """
        check_collection_name(collection)
        options = _AddOptions(check_duplicates, overrides)
        outcomes: list[AddOutcome] = []
        batch: list[_Pending | AddOutcome] = []
        sentences = 0
        round_size = self._sentences_per_round()
        touched = False
        for item in articles:
            entry = self._pending(item, collection)
            batch.append(entry)
            sentences += entry.sentence_count if isinstance(entry, _Pending) else 0
            if sentences >= round_size or len(batch) >= max_batch:
                touched |= self._add_batch(batch, outcomes, progress, options)
                batch, sentences = [], 0
        if batch:
            touched |= self._add_batch(batch, outcomes, progress, options)
        if touched:
            # The data dir's lock only: the caches are this data dir's, and other processes'
            # writes to a shared store need not wait for a rebuild here.
            with self._write_lock, self._file_lock:
                self.caches.refresh(collection)
        return outcomes

    def _sentences_per_round(self) -> int:
        """Sentences embedded per round of an add: ROUND_BATCHES_PER_CORE batches for each core
        batch embedding runs on. One batch a round (64 sentences) left a core idle and padded
        badly: the add ran at 0.57x of `SentenceTransformer.encode` (docs/BENCHMARKS.md)."""
        workers = int(getattr(self.embedder, "workers", 1) or 1)
        return self.settings.embed_batch_size * workers * ROUND_BATCHES_PER_CORE

    def _pending(self, item: RawArticle | BriefbotError, collection: str) -> _Pending | AddOutcome:
        """The article prepared for embedding, or its failure."""
        if isinstance(item, BriefbotError):
            return AddOutcome("failed", item.origin, error=str(item))
        try:
            return _Pending(item, self._prepare(item, collection))
        except BriefbotError as exc:
            return AddOutcome("failed", item.origin, error=naming(item.origin, exc))

    def _add_batch(
        self,
        batch: list[_Pending | AddOutcome],
        outcomes: list[AddOutcome],
        progress: ProgressCallback | None,
        options: _AddOptions,
    ) -> bool:
        """Embed the batch's articles in one call, then store and report each in order."""
        embedded = iter(self._embed([e for e in batch if isinstance(e, _Pending)]))
        touched = False
        for entry in batch:
            outcome = entry
            if isinstance(entry, _Pending):
                pending = next(embedded)
                try:
                    outcome = self._store(pending.raw, pending.new, options)
                except (CorruptStoreError, IndexMismatchError):
                    raise  # about the data dir, not this article: stop the whole add
                except BriefbotError as exc:
                    origin = pending.raw.origin
                    outcome = AddOutcome("failed", origin, error=naming(origin, exc))
            assert isinstance(outcome, AddOutcome)
            touched |= outcome.status in ("added", "replaced", "updated")
            outcomes.append(outcome)
            if progress:
                progress(outcome)
        return touched

    def _prepare(self, raw: RawArticle, collection: str) -> NewArticle:
        if len(raw.text) > self.settings.max_article_chars:
            raise InputError(
                f"article too long ({len(raw.text):,} characters; limit "
                f"{self.settings.max_article_chars:,})"
            )
        clean = normalize(raw.text)
        if len(clean.text.split()) < 3:
            raise InputError("no article text found")
        chunks = tuple(
            chunk_text(
                clean.text, self.settings.chunk_max_chars, self.settings.chunk_overlap_sentences
            )
        )
        # Every path (files, pastes, uploads, links, backups) gets the same bounded, visible
        # metadata: an invisible or 10,000-character title never reaches the store.
        title = clean_line(raw.title or "", MAX_TITLE_CHARS) or "Untitled"
        source = clean_line(raw.source or "", MAX_SOURCE_CHARS) or None
        return NewArticle(
            collection=collection,
            title=title,
            source=source,
            url=raw.url,
            published=raw.published,
            content_hash=content_hash(clean.text),
            raw_text=raw.text,
            text=clean.text,
            chunks=chunks,
            vectors=np.zeros((0, 0), dtype=np.float32),
            added_at=raw.added_at,
        )

    def _embed(self, prepared: list[_Pending]) -> list[_Pending]:
        """Embed the chunks of a batch of articles in one call (fewer, fuller batches).

        Articles already stored are skipped: re-adding a folder costs no embedding.
        """
        todo = [
            i
            for i, p in enumerate(prepared)
            if self.store.find_by_hash(p.new.collection, p.new.content_hash) is None
        ]
        vectors = embed_chunked(self.embedder, [prepared[i].new.chunks for i in todo])
        result = list(prepared)
        for i, found in zip(todo, vectors, strict=True):
            new = replace(prepared[i].new, vectors=found.chunks, sentence_vectors=found.sentences)
            result[i] = replace(prepared[i], new=new)
        return result

    def _store(self, raw: RawArticle, new: NewArticle, options: _AddOptions) -> AddOutcome:
        with self.writing():
            existing = self.store.find_by_hash(new.collection, new.content_hash)
            if existing is not None:
                return self._already_stored(raw, new, existing, options.overrides)
            previous = self.store.find_by_url(new.collection, new.url) if new.url else None
            if previous is None and options.check_duplicates:
                refused = self._near_duplicate(raw, new)
                if refused is not None:
                    return refused
            if len(new.vectors) != len(new.chunks):  # stored meanwhile, then removed: embed now
                found = embed_chunked(self.embedder, [new.chunks])[0]
                new = replace(new, vectors=found.chunks, sentence_vectors=found.sentences)
            self._check_or_record_model(new.vectors.shape[1])
            article_id = self.store.insert_article(new, previous.id if previous else None)
            article = self.store.get_article(new.collection, article_id)
            if previous is None:
                return AddOutcome("added", raw.origin, article)
            note = f"updated #{article_id}: the article at {new.url} changed; stored the new text"
            return AddOutcome("replaced", raw.origin, article, note=note)

    def _already_stored(
        self, raw: RawArticle, new: NewArticle, existing: Article, overrides: Overrides | None
    ) -> AddOutcome:
        """Same content as a stored article: unchanged, unless the user gave metadata that
        differs from what is stored, which then updates it (and the outcome says so)."""
        changes = _metadata_changes(existing, new, overrides)
        if not changes:
            return AddOutcome(
                "unchanged", raw.origin, existing, note=f"already added as #{existing.id}"
            )
        if "url" in changes:
            holder = self.store.find_by_url(new.collection, str(changes["url"]))
            if holder is not None and holder.id != existing.id:
                raise InputError(f"the link {changes['url']} belongs to article #{holder.id}")
        self.store.update_metadata(new.collection, existing.id, changes)
        article = self.store.get_article(new.collection, existing.id)
        said = ", ".join(f"{name} {_shown(value)}" for name, value in changes.items())
        note = f"already added as #{existing.id}; updated its {said}"
        return AddOutcome("updated", raw.origin, article, note=note)

    def _near_duplicate(self, raw: RawArticle, new: NewArticle) -> AddOutcome | None:
        """A skip when a stored article is near-identical to this one (a syndicated copy):
        refused on purpose, so not a failure. The note names the stored article; how to keep
        both anyway is the interface's to say (a CLI flag, a Discord option)."""
        found = self._duplicates.find(new.collection, new.text, self.settings.duplicate_threshold)
        if found is None:
            return None
        other = self.store.get_article(new.collection, found.article_id)
        where = f" ({other.source})" if other.source else ""
        note = (
            f"near-identical to #{other.id} '{other.title}'{where}: "
            f"{found.similarity:.0%} of the wording is the same, likely a syndicated copy; "
            "not stored"
        )
        return AddOutcome("skipped", raw.origin, note=note, duplicate_of=other.id)

    def _check_or_record_model(self, dimension: int) -> None:
        """Under the writer lock: the first write records the model; later ones must match.

        Checked at every write, not only at start: another process may have reindexed with a
        new model since this one opened, and mixing vectors of two models corrupts search.
        """
        if self.store.meta("model") is None:
            self.store.set_meta("model", self.embedder.name)
            self.store.set_meta("dimension", str(dimension))
        else:
            self._check_model_name()

    # -- reading ------------------------------------------------------------------------
    def retrieve(self, collection: str, query: str, k: int = 5) -> RetrievalResult:
        check_collection_name(collection)
        self._check_model_name()  # a reindex by another process may have changed the model
        vector = self.embedder.encode([query])[0]
        cache = self.caches.get(collection)
        weights = FusionWeights(
            dense=self.settings.dense_weight,
            dense_candidates=self.settings.dense_candidates,
            lexical_candidates=self.settings.lexical_candidates,
        )
        passages = hybrid_search(self.store, cache, query, vector, k, weights)
        return RetrievalResult(tuple(passages), vector)

    def sentence_vectors(self, passages: Sequence[Passage]) -> dict[str, np.ndarray]:
        """Stored vectors of the passages' sentences, by sentence text (for the answer engine);
        read from the store only for passages that retrieval did not already read them for."""
        unread = [p.chunk_id for p in passages if p.sentence_vectors is None]
        stored = self.store.sentence_vectors(unread) if unread else {}
        found: dict[str, np.ndarray] = {}
        for p in passages:
            matrix = stored.get(p.chunk_id) if p.sentence_vectors is None else p.sentence_vectors
            if matrix is not None and len(matrix) == len(p.sentences):
                for (_, text), vector in zip(p.sentence_texts(), matrix, strict=True):
                    found[text] = vector
        return found

    def get(self, collection: str, article_id: int) -> Article:
        return self.store.get_article(collection, article_id)

    def text(self, collection: str, article_id: int) -> str:
        self.store.get_article(collection, article_id)  # checks the collection
        return self.store.article_text(article_id)

    def list(self, collection: str, limit: int = 1000, offset: int = 0) -> list[Article]:
        return self.store.list_articles(collection, limit, offset)

    def stats(self, collection: str) -> CollectionStats:
        articles, chunks = self.store.count(collection)
        return CollectionStats(
            collection,
            articles,
            chunks,
            self.store.change_id(collection),
            self.store.meta("model") or self.embedder.name,
            str(self.data_dir),
        )

    # -- changing and checking ----------------------------------------------------------
    def remove(self, collection: str, article_id: int) -> Article:
        with self.writing():
            article = self.store.delete_article(collection, article_id)
            self.caches.refresh(collection)
        return article

    def verify(self, collection: str | None = None, repair: bool = False) -> VerifyReport:
        """Check that the store is sound and every cache matches it; optionally rebuild caches."""
        problems = [f"store: {p}" for p in self.store.integrity_problems()]
        if problems:  # caches are rebuilt from the store: never from a damaged one
            return VerifyReport(False, tuple(problems), (), {})
        repaired: list[str] = []
        notes: list[str] = []
        names = [collection] if collection else self.store.collections()
        checked: dict[str, int] = {}
        for name in names:
            found, behind = self.caches.status(name)
            checked[name] = self.store.count(name)[1]
            if (found or behind) and repair:
                with self.writing():
                    self.caches.refresh(name)
                repaired.append(f"{name}: caches rebuilt ({'; '.join(found) or behind})")
                found, behind = self.caches.status(name)
            if behind:
                notes.append(f"{name}: {behind}; they catch up on next use (not damage)")
            problems.extend(f"{name}: {p}" for p in found)
        return VerifyReport(not problems, tuple(problems), tuple(repaired), checked, tuple(notes))


@dataclass(frozen=True)
class _AddOptions:
    check_duplicates: bool
    overrides: Overrides | None


@dataclass(frozen=True)
class _Pending:
    """An article read and chunked, waiting for its batch to be embedded and stored."""

    raw: RawArticle
    new: NewArticle

    @property
    def sentence_count(self) -> int:
        return sum(len(chunk.sentences) for chunk in self.new.chunks)


def _metadata_changes(
    existing: Article, new: NewArticle, overrides: Overrides | None
) -> dict[str, object]:
    """The explicitly given fields whose (cleaned) value differs from the stored one."""
    if overrides is None:
        return {}
    given = {
        "title": (overrides.title, new.title, existing.title),
        "source": (overrides.source, new.source, existing.source),
        "url": (overrides.url, new.url, existing.url),
        "published": (overrides.published, new.published, existing.published),
    }
    return {
        name: value
        for name, (explicit, value, stored) in given.items()
        if explicit is not None and value != stored
    }


def _shown(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else repr(value)
