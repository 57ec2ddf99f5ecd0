"""The per-collection caches (FAISS + BM25) and the manifest that says what they were built from.

SQLite is the truth. The manifest names the cache files and the store's change id at build
time; it is replaced atomically after the files it names are on disk, so a crash at any point
leaves either the old consistent set or the new one. A cache that disagrees with the store, or
cannot be read, is rebuilt from SQLite, with a log line saying why.

Each cache has a main segment (FAISS + bm25s files, named by the manifest) and a recent segment
of the chunks added since it was built. The recent segment is never saved: it is read from
SQLite (chunks with ids above the main segment's, which only grow) whenever the caches are
loaded, so an add rewrites only the manifest, not 100k vectors. When the recent segment grows
past `merge_at` chunks, or a chunk of the main segment is removed, the next refresh rebuilds
the main segment from SQLite (a merge).
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.atomic import write_text_atomic
from index.errors import IndexMismatchError
from index.lexical import LexicalIndex, LexicalSegments
from index.store import SCHEMA_VERSION, Store, StoredChunk
from index.vectors import VectorIndex, VectorSegments
from index.wording import counted

logger = logging.getLogger(__name__)
MANIFEST = "manifest.json"
CACHE_FORMAT = 2  # 2: main + recent segments, lexical segment.json
MERGE_MIN = 500  # recent chunks always allowed before a merge...
MERGE_SHARE = 0.05  # ...or this share of the main segment, whichever is larger


@dataclass(frozen=True)
class CollectionCache:
    """Loaded caches of one collection, valid for exactly one change id of the store."""

    collection: str
    change_id: int
    vectors: VectorSegments
    lexical: LexicalSegments
    files: tuple[str, str] | None = None  # (vectors, lexical) main files on disk, if saved

    @property
    def main_max_id(self) -> int:
        ids = self.vectors.main.ids()
        return int(ids.max()) if len(ids) else 0


class CacheManager:
    """Loads, checks, rebuilds and saves the caches of every collection of a data dir."""

    def __init__(
        self,
        root: Path,
        store: Store,
        model: str,
        dimension: int,
        try_lock: Callable[[], AbstractContextManager[bool]] | None = None,
    ) -> None:
        """`try_lock` takes the data dir's writer lock without waiting (yields False when busy);
        with it, caches rebuilt by a reader are saved too."""
        self.root = root
        self.try_lock = try_lock
        self.store = store
        self.model = model
        self.dimension = dimension
        self._loaded: dict[str, CollectionCache] = {}
        self._lock = threading.Lock()

    def folder(self, collection: str) -> Path:
        return self.root / "collections" / collection

    def get(self, collection: str) -> CollectionCache:
        """The caches for the store's current state, reloading or rebuilding when it moved on."""
        current = self.store.change_id(collection)
        with self._lock:
            cache = self._loaded.get(collection)
            if cache is None or cache.change_id != current:
                cache = self._load_or_build(collection)
                self._loaded[collection] = cache
            return cache

    def refresh(self, collection: str) -> CollectionCache:
        """Bring the caches up to the store and save (the caller holds the writer lock): only
        the recent segment and the manifest when chunks were only added since the main
        segment was saved, else a full rebuild."""
        with self._lock:
            loaded = self._loaded.get(collection) or self._saved_main(collection)
            cache = self._extended(loaded) if loaded is not None else None
            if cache is None:
                cache = self._build(collection)
                cache = self._save(cache)
            else:
                self._write_manifest(cache, cache.files or ("", ""))
            self._loaded[collection] = cache
            return cache

    def read_manifest(self, collection: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self.folder(collection) / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def expected_manifest(self) -> dict[str, Any]:
        """What a manifest must say, besides the change id, for its caches to be used."""
        expected: dict[str, Any] = {
            "format": CACHE_FORMAT,
            "schema_version": SCHEMA_VERSION,
            "model": self.model,
            "dimension": self.dimension,
            "bm25s": _bm25s_version(),
        }
        store = self.store.identity()  # a server's database: the data dir may be re-pointed
        if store is not None:
            expected["store"] = store
        return expected

    def _mismatches(self, manifest: dict[str, Any]) -> list[str]:
        """How a manifest differs from `expected_manifest`. One without a store id was saved
        before the store moved to this server by `briefbot migrate` (ids kept): it holds."""
        return [
            f"manifest {key} is {manifest.get(key)!r}, expected {value!r}"
            for key, value in self.expected_manifest().items()
            if manifest.get(key) != value and (key != "store" or "store" in manifest)
        ]

    def status(self, collection: str) -> tuple[list[str], str | None]:
        """(problems, behind): damage found, and why the saved caches are merely behind the
        store (a write committed, the caches not yet saved: an add interrupted or still
        running), or None. Behind is not damage: SQLite is the truth and the caches are
        rebuilt from it on next use."""
        check = self._check(collection)
        return check.problems, check.behind

    # -- internals ------------------------------------------------------------------------
    def _saved_main(self, collection: str) -> CollectionCache | None:
        """The saved main segment, for a writer that has not loaded it (a `briefbot add`
        process): usable when the manifest matches this model and format and the main files
        hold exactly the store's chunks up to their highest id. Else None (full rebuild)."""
        manifest = self.read_manifest(collection)
        if manifest is None or self._mismatches(manifest):
            return None
        try:
            vectors, lexical = self._read_files(collection, manifest)
        except Exception as exc:  # damaged: the full rebuild that follows replaces it
            logger.info("saved caches of %r unreadable (%s); rebuilding", collection, exc)
            return None
        main_ids = np.sort(vectors.ids())
        top = int(main_ids[-1]) if len(main_ids) else 0
        stored = np.asarray(self.store.chunk_ids(collection), dtype=np.int64)
        stored = stored[stored <= top]
        if not (
            np.array_equal(main_ids, stored) and np.array_equal(np.sort(lexical.ids()), stored)
        ):
            return None
        files = (str(manifest["vectors"]), str(manifest["lexical"]))
        return CollectionCache(
            collection, -1, VectorSegments(vectors), LexicalSegments(lexical), files
        )

    def _extended(self, cache: CollectionCache) -> CollectionCache | None:
        """The loaded cache caught up with the store through its recent segment, or None when
        that is not possible (main files not the saved ones, main chunks removed, too many
        recent chunks)."""
        manifest = self.read_manifest(cache.collection) or {}
        if cache.files is None or (manifest.get("vectors"), manifest.get("lexical")) != cache.files:
            return None
        after = cache.main_max_id
        change, below, chunks, matrix = self.store.chunks_after(cache.collection, after)
        main_size = cache.vectors.main.size
        if below != main_size:
            return None  # a main chunk was removed (or the main segment is wrong): rebuild
        if len(chunks) > max(MERGE_MIN, MERGE_SHARE * main_size):
            return None  # merge
        return self._with_recent(cache, change, chunks, matrix)

    def _with_recent(
        self,
        cache: CollectionCache,
        change: int,
        chunks: list[StoredChunk],
        matrix: np.ndarray,
    ) -> CollectionCache:
        if chunks and matrix.shape[1] != self.dimension:
            raise IndexMismatchError(
                f"stored vectors have dimension {matrix.shape[1]}, model has {self.dimension}"
            )
        ids = [c.id for c in chunks]
        texts = {c.id: c.index_text for c in chunks}
        recent = cache.lexical.recent.extended(ids, texts)
        vectors = VectorSegments(cache.vectors.main, np.asarray(ids, dtype=np.int64), matrix)
        lexical = LexicalSegments(cache.lexical.main, recent)
        return CollectionCache(cache.collection, change, vectors, lexical, cache.files)

    def _check(self, collection: str) -> _Check:
        """Every way a saved cache can disagree with the store, compared with one consistent
        state of the store.

        A manifest from an earlier change id is behind, not damaged: the SQLite commit comes
        first and the caches follow, so an interrupt in between leaves exactly that. When
        only chunks were added since, the saved main segment plus the recent chunks read from
        SQLite are the store's exact state (usable as they are); else they need a rebuild.
        """
        change, chunk_ids = self.store.chunk_ids_at(collection)
        manifest = self.read_manifest(collection)
        if manifest is None:
            if self.folder(collection).exists():
                return _Check(change, ["manifest missing or unreadable"])
            # No folder yet: the first add has not saved caches yet (or died before it did).
            return _Check(change, [], None, "no caches saved yet" if chunk_ids else None)
        problems = self._mismatches(manifest)
        built_at = manifest.get("change_id")
        behind = None
        if isinstance(built_at, int) and built_at < change:
            behind = f"caches built at change {built_at}, the store is at {change}"
        elif built_at != change:
            problems.append(f"manifest change_id is {built_at!r}, store {change}")
        if problems:
            return _Check(change, problems)
        try:
            main_vectors, main_lexical = self._read_files(collection, manifest)
        except Exception as exc:  # any damage to a cache file means: rebuild it
            return _Check(change, [f"cache files unreadable ({type(exc).__name__}: {exc})"])
        files = (str(manifest["vectors"]), str(manifest["lexical"]))
        main = CollectionCache(
            collection, change, VectorSegments(main_vectors), LexicalSegments(main_lexical), files
        )
        recent_change, chunk_ids, chunks, matrix = self.store.chunks_since(
            collection, main.main_max_id
        )
        if recent_change != change:  # a writer committed while this ran: not damage
            return _Check(change, [], None, f"the store changed during the check ({change})")
        try:
            cache = self._with_recent(main, change, chunks, matrix)
        except IndexMismatchError as exc:
            return _Check(change, [str(exc)])
        ids = np.asarray(chunk_ids, dtype=np.int64)
        vectors, lexical = cache.vectors, cache.lexical
        if not np.array_equal(np.sort(vectors.ids()), ids):
            held, stored = counted(vectors.size, "vector"), counted(len(ids), "chunk")
            problems.append(f"FAISS holds {held}, the store {stored}")
        if not np.array_equal(np.sort(lexical.ids()), ids):
            held = counted(lexical.size, "chunk")
            problems.append(f"lexical index holds {held}, the store {len(ids):,}")
        if problems and behind:  # chunks removed since the caches were saved: rebuild later
            return _Check(change, [], None, behind)
        return _Check(change, problems, None if problems else cache)

    def _load_or_build(self, collection: str) -> CollectionCache:
        """Load the saved caches when they match the store exactly; else rebuild, say why,
        and save the rebuilt ones when no writer is busy (so the next start is clean)."""
        check = self._check(collection)
        if check.loaded is not None:
            return check.loaded
        problems = check.problems or [check.behind or "no caches saved yet"]
        lagging = not check.problems
        cache = self._build(collection)
        if cache.change_id or cache.vectors.size:  # an untouched collection: nothing to report
            # Behind the store is normal while a writer is mid-add (or after a crash during
            # one); anything else is damage and is worth a warning.
            log = logger.info if lagging else logger.warning
            log(
                "rebuilding caches of collection %r from SQLite: %s",
                collection,
                "; ".join(problems),
            )
            cache = self._save_if_idle(cache)
        return cache

    def _save_if_idle(self, cache: CollectionCache) -> CollectionCache:
        if self.try_lock is None:
            return cache
        with self.try_lock() as locked:
            if locked and self.store.change_id(cache.collection) == cache.change_id:
                return self._save(cache)
        return cache

    def _read_files(
        self, collection: str, manifest: dict[str, Any]
    ) -> tuple[VectorIndex, LexicalIndex]:
        folder = self.folder(collection)
        vectors = VectorIndex.load(folder / str(manifest["vectors"]))
        if vectors.dimension != self.dimension:
            raise ValueError(f"FAISS dimension {vectors.dimension} != {self.dimension}")
        lexical = LexicalIndex.load(folder / str(manifest["lexical"]))
        return vectors, lexical

    def _build(self, collection: str) -> CollectionCache:
        change, chunks, matrix = self.store.snapshot(collection)
        vectors = VectorIndex(self.dimension)
        if chunks:
            if matrix.shape[1] != self.dimension:
                raise IndexMismatchError(
                    f"stored vectors have dimension {matrix.shape[1]}, model has {self.dimension}"
                )
            vectors.add(np.asarray([c.id for c in chunks], dtype=np.int64), matrix)
        lexical = LexicalIndex.build([c.id for c in chunks], [c.index_text for c in chunks])
        return CollectionCache(
            collection, change, VectorSegments(vectors), LexicalSegments(lexical)
        )

    def _save(self, cache: CollectionCache) -> CollectionCache:
        """Write new main files, switch the manifest, then delete all but this and the previous
        generation (a reader in another process may be loading the previous one right now).
        Returns the cache knowing its file names (so later adds can extend it)."""
        folder = self.folder(cache.collection)
        folder.mkdir(parents=True, exist_ok=True)
        previous = self.read_manifest(cache.collection) or {}
        stamp = f"{cache.change_id}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"
        vectors_name, lexical_name = f"vectors-{stamp}.faiss", f"lexical-{stamp}"
        cache.vectors.main.save(folder / vectors_name)
        cache.lexical.main.save(folder / lexical_name)
        saved = replace(cache, files=(vectors_name, lexical_name))
        self._write_manifest(saved, (vectors_name, lexical_name))
        keep = {MANIFEST, vectors_name, lexical_name}
        keep |= {str(previous.get("vectors")), str(previous.get("lexical"))}
        for old in folder.iterdir():
            if old.name not in keep:
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    old.unlink(missing_ok=True)
        return saved

    def _write_manifest(self, cache: CollectionCache, files: tuple[str, str]) -> None:
        vectors_name, lexical_name = files
        manifest = {
            **self.expected_manifest(),
            "collection": cache.collection,
            "change_id": cache.change_id,
            "chunk_count": cache.vectors.size,
            "main_chunk_count": cache.vectors.main.size,
            "vectors": vectors_name,
            "lexical": lexical_name,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_text_atomic(self.folder(cache.collection) / MANIFEST, json.dumps(manifest, indent=2))


@dataclass(frozen=True)
class _Check:
    """What checking a collection's saved caches against the store found."""

    change_id: int
    problems: list[str]
    loaded: CollectionCache | None = None  # usable as they are
    behind: str | None = None  # not usable as they are, but not damaged either


@lru_cache(maxsize=1)
def _bm25s_version() -> str:
    """The lexical index is saved in bm25s's own format; another version means: rebuild."""
    from importlib.metadata import version

    return version("bm25s")
