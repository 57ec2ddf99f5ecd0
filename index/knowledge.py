"""The knowledge base: the one object both interfaces use to add, find, list and remove articles.

It owns the store, the caches and the embedder, and enforces one writer per data dir with a
lock file that works across processes (the bot and a CLI may share a data dir).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from filelock import FileLock

from index.caches import CacheManager
from index.chunking import chunk_text
from index.embedding import Embedder, SentenceTransformerEmbedder
from index.errors import BriefbotError, IndexMismatchError, InputError
from index.models import AddOutcome, Article, Passage, RawArticle, VerifyReport
from index.normalize import normalize
from index.retrieval import FusionWeights, RetrievalResult, hybrid_search
from index.settings import IndexSettings
from index.similar import DuplicateFinder
from index.store import NewArticle, Store, check_collection_name

logger = logging.getLogger(__name__)
DB_FILE = "briefbot.sqlite3"
ProgressCallback = Callable[[AddOutcome], None]


@dataclass(frozen=True)
class CollectionStats:
    collection: str
    articles: int
    chunks: int
    change_id: int
    model: str
    data_dir: str


def content_hash(text: str) -> str:
    """Identity of an article's content: its clean text, case and spacing folded."""
    return hashlib.sha256(" ".join(text.lower().split()).encode("utf-8")).hexdigest()


class KnowledgeBase:
    def __init__(self, settings: IndexSettings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.data_dir / DB_FILE)
        self._embedder = embedder
        self._caches: CacheManager | None = None
        self._write_lock = threading.RLock()
        self._file_lock = FileLock(str(self.data_dir / "write.lock"), timeout=600)
        self._duplicates = DuplicateFinder(self.store)
        self._check_model_name()

    # -- setup --------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = SentenceTransformerEmbedder(
                self.settings.embedding_model, self.settings.embed_batch_size
            )
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
            self._caches = CacheManager(self.data_dir, self.store, self.embedder.name, dimension)
        return self._caches

    def close(self) -> None:
        self.store.close()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One writer per data dir: threads of this process, then other processes."""
        with self._write_lock, self._file_lock:
            yield

    # -- adding -------------------------------------------------------------------------
    def add(
        self,
        articles: Iterable[RawArticle | BriefbotError],
        collection: str = "default",
        progress: ProgressCallback | None = None,
        batch_size: int = 16,
        *,
        check_duplicates: bool = False,
    ) -> list[AddOutcome]:
        """Add articles; each gets an outcome, a failure never stops the others.

        An item may be an error already (a file that could not be read) so the caller's batch
        reports it in order with the rest. With `check_duplicates`, an article near-identical
        to a stored one at another URL (a syndicated copy) is refused, not stored.
        """
        check_collection_name(collection)
        outcomes: list[AddOutcome] = []
        batch: list[RawArticle | BriefbotError] = []
        touched = False
        for item in articles:
            batch.append(item)
            if len(batch) >= batch_size:
                touched |= self._add_batch(batch, collection, outcomes, progress, check_duplicates)
                batch = []
        if batch:
            touched |= self._add_batch(batch, collection, outcomes, progress, check_duplicates)
        if touched:
            with self.writing():
                self.caches.refresh(collection)
        return outcomes

    def _add_batch(
        self,
        items: list[RawArticle | BriefbotError],
        collection: str,
        outcomes: list[AddOutcome],
        progress: ProgressCallback | None,
        check_duplicates: bool = False,
    ) -> bool:
        prepared: list[tuple[RawArticle, NewArticle]] = []
        results: dict[int, AddOutcome] = {}
        for position, item in enumerate(items):
            if isinstance(item, BriefbotError):
                results[position] = AddOutcome("failed", "", error=str(item))
                continue
            try:
                prepared.append((item, self._prepare(item, collection)))
            except BriefbotError as exc:
                results[position] = AddOutcome("failed", item.origin, error=_with_origin(item, exc))
        prepared = self._embed(prepared)
        touched = False
        stored = iter(prepared)
        for position in range(len(items)):
            if position not in results:
                raw, new = next(stored)
                try:
                    results[position] = self._store(raw, new, check_duplicates)
                except BriefbotError as exc:
                    results[position] = AddOutcome(
                        "failed", raw.origin, error=_with_origin(raw, exc)
                    )
                touched |= results[position].status in ("added", "replaced")
            outcomes.append(results[position])
            if progress:
                progress(results[position])
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
        title = (raw.title or "").strip() or "Untitled"
        return NewArticle(
            collection=collection,
            title=title,
            source=raw.source,
            url=raw.url,
            published=raw.published,
            content_hash=content_hash(clean.text),
            raw_text=raw.text,
            text=clean.text,
            chunks=chunks,
            vectors=np.zeros((0, 0), dtype=np.float32),
        )

    def _embed(
        self, prepared: list[tuple[RawArticle, NewArticle]]
    ) -> list[tuple[RawArticle, NewArticle]]:
        """Embed the chunks of a batch of articles in one call (fewer, fuller batches).

        Articles already stored are skipped: re-adding a folder costs no embedding.
        """
        todo = [
            i
            for i, (_, new) in enumerate(prepared)
            if self.store.find_by_hash(new.collection, new.content_hash) is None
        ]
        texts = [
            _index_text(prepared[i][1].title, c.text) for i in todo for c in prepared[i][1].chunks
        ]
        vectors = self.embedder.encode(texts) if texts else None
        result = list(prepared)
        offset = 0
        for i in todo:
            raw, new = prepared[i]
            count = len(new.chunks)
            assert vectors is not None
            result[i] = (raw, replace(new, vectors=vectors[offset : offset + count]))
            offset += count
        return result

    def _store(
        self, raw: RawArticle, new: NewArticle, check_duplicates: bool = False
    ) -> AddOutcome:
        with self.writing():
            existing = self.store.find_by_hash(new.collection, new.content_hash)
            if existing is not None:
                return AddOutcome(
                    "unchanged", raw.origin, existing, note=f"already added as #{existing.id}"
                )
            previous = self.store.find_by_url(new.collection, new.url) if new.url else None
            if previous is None and check_duplicates:
                refused = self._near_duplicate(raw, new)
                if refused is not None:
                    return refused
            if len(new.vectors) != len(new.chunks):  # stored meanwhile, then removed: embed now
                texts = [_index_text(new.title, c.text) for c in new.chunks]
                new = replace(new, vectors=self.embedder.encode(texts))
            self._record_model(new.vectors.shape[1])
            article_id = self.store.insert_article(new, previous.id if previous else None)
            article = self.store.get_article(new.collection, article_id)
            if previous is None:
                return AddOutcome("added", raw.origin, article)
            note = f"updated #{article_id}: the article at {new.url} changed; stored the new text"
            return AddOutcome("replaced", raw.origin, article, note=note)

    def _near_duplicate(self, raw: RawArticle, new: NewArticle) -> AddOutcome | None:
        """A refusal when a stored article is near-identical to this one (a syndicated copy)."""
        found = self._duplicates.find(new.collection, new.text, self.settings.duplicate_threshold)
        if found is None:
            return None
        other = self.store.get_article(new.collection, found.article_id)
        where = f" ({other.source})" if other.source else ""
        message = (
            f"near-identical to #{other.id} '{other.title}'{where}: "
            f"{found.similarity:.0%} of the wording is the same, likely a syndicated copy; "
            "not stored (add it with allow-duplicate to keep both)"
        )
        error = f"{raw.origin}: {message}" if raw.origin else message
        return AddOutcome("failed", raw.origin, error=error, duplicate_of=other.id)

    def _record_model(self, dimension: int) -> None:
        if self.store.meta("model") is None:
            self.store.set_meta("model", self.embedder.name)
            self.store.set_meta("dimension", str(dimension))

    # -- reading ------------------------------------------------------------------------
    def retrieve(self, collection: str, query: str, k: int = 5) -> RetrievalResult:
        check_collection_name(collection)
        vector = self.embedder.encode([query])[0]
        cache = self.caches.get(collection)
        weights = FusionWeights(
            dense=self.settings.dense_weight,
            dense_candidates=self.settings.dense_candidates,
            lexical_candidates=self.settings.lexical_candidates,
        )
        passages = hybrid_search(self.store, cache, query, vector, k, weights)
        return RetrievalResult(tuple(passages), vector)

    def search(self, collection: str, query: str, k: int = 5) -> list[Passage]:
        return list(self.retrieve(collection, query, k).passages)

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
        repaired: list[str] = []
        names = [collection] if collection else self.store.collections()
        checked: dict[str, int] = {}
        for name in names:
            found = self.caches.problems(name)
            checked[name] = self.store.count(name)[1]
            if found and repair:
                with self.writing():
                    self.caches.refresh(name)
                repaired.append(f"{name}: caches rebuilt ({'; '.join(found)})")
                found = self.caches.problems(name)
            problems.extend(f"{name}: {p}" for p in found)
        return VerifyReport(not problems, tuple(problems), tuple(repaired), checked)


def _index_text(title: str, text: str) -> str:
    """What gets embedded for a chunk; the same as StoredChunk.index_text gives the lexical side."""
    return f"{title}\n{text}" if title else text


def _with_origin(raw: RawArticle, exc: BriefbotError) -> str:
    message = str(exc)
    if raw.origin and not message.startswith(raw.origin):
        return f"{raw.origin}: {message}"
    return message
