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

How a main segment is searched is chosen here when it is built (`ApproximateSearch`): exact
FAISS and full BM25 score arrays below the threshold, a FAISS inverted file (IVF) and BM25
top-k over the chunks holding a query term past it. The manifest records the FAISS index's
shape; a cache built another way (the threshold or the IVF parameters changed) is rebuilt,
which is a change of settings, not damage.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections import OrderedDict
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
from index.settings import ANN_THRESHOLD, IndexSettings
from index.store import SCHEMA_VERSION, Store, StoredChunk
from index.vectors import FLAT, IVF, IvfParams, VectorIndex, VectorSegments
from index.wording import counted

logger = logging.getLogger(__name__)
MANIFEST = "manifest.json"
CACHE_FORMAT = 2  # 2: main + recent segments, lexical segment.json
MERGE_MIN = 500  # recent chunks always allowed before a merge...
MERGE_SHARE = 0.05  # ...or this share of the main segment, whichever is larger


@dataclass(frozen=True)
class ApproximateSearch:
    """Main segments of `threshold` chunks or more are searched approximately: an inverted
    file for the dense side, top-k over matching chunks for the lexical side. Smaller ones
    stay exact, so their answers do not change."""

    threshold: int = ANN_THRESHOLD
    ivf: IvfParams = IvfParams()

    def applies(self, size: int) -> bool:
        return size >= self.threshold

    def shape(self, size: int) -> dict[str, int | str]:
        """What the manifest of a main segment of `size` chunks must record (VectorIndex.shape)."""
        if not self.applies(size):
            return {"type": FLAT}
        return {"type": IVF, "nlist": self.ivf.nlist(size)}


def approximate_search(settings: IndexSettings) -> ApproximateSearch:
    """The choice as the settings make it (the threshold and the lists read per search)."""
    return ApproximateSearch(settings.ann_threshold, IvfParams(nprobe=settings.ivf_nprobe))


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


# Estimated bytes held per chunk besides the vectors and bm25s arrays: FAISS's id map and its
# reverse hash map, the chunk id arrays, and the id -> position dicts built on first search.
# Measured against RSS (docs/SCALING.md, Shards).
PER_CHUNK_BYTES = 160
PER_TERM_BYTES = 120  # a bm25s vocabulary entry: the term's str and its dict slot


def estimated_bytes(cache: CollectionCache) -> int:
    """Memory a collection's caches hold: FAISS vectors, bm25s arrays, ids (and what comes with
    them, per chunk and per term). Counted from sizes alone: cheap enough for every load."""
    vectors, lexical = cache.vectors, cache.lexical
    total = vectors.main.size * vectors.dimension * 4 + vectors.recent.nbytes
    total += vectors.size * PER_CHUNK_BYTES
    retriever = getattr(lexical.main, "_retriever", None)  # bm25s.BM25 (index/lexical.py)
    arrays = getattr(retriever, "scores", None) or {}
    total += sum(a.nbytes for a in arrays.values() if isinstance(a, np.ndarray))
    total += len(getattr(retriever, "vocab_dict", None) or ()) * PER_TERM_BYTES
    return int(total)


class HeldCaches:
    """The collection caches a process holds, least recently used first, within a budget of
    estimated bytes (BRIEFBOT_CACHE_MAX_MB; None: no limit).

    Dropping a cache only forgets it here: an answer running in a worker thread keeps the
    object it was given and finishes with it; the memory goes when the last user lets go. A
    collection that alone exceeds the budget is still held (alone), with one warning. Not
    thread-safe on its own: the CacheManager's lock guards it."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes
        self._held: OrderedDict[str, tuple[CollectionCache, int]] = OrderedDict()
        self._warned: set[str] = set()

    def get(self, collection: str) -> CollectionCache | None:
        """The held cache (now the most recently used), or None."""
        entry = self._held.get(collection)
        if entry is None:
            return None
        self._held.move_to_end(collection)
        return entry[0]

    def peek(self, collection: str) -> CollectionCache | None:
        """The held cache without counting it as used (a background refresh is no use)."""
        entry = self._held.get(collection)
        return entry[0] if entry is not None else None

    def put(self, cache: CollectionCache, used: bool = True) -> list[str]:
        """Hold `cache` as the most recently used (with `used=False`, a cache replacing a held
        one keeps its place); returns the collections dropped for it."""
        size = estimated_bytes(cache)
        held = cache.collection in self._held
        self._held[cache.collection] = (cache, size)
        if used or not held:
            self._held.move_to_end(cache.collection)
        if self.max_bytes is None:
            return []
        dropped = []
        while self.total_bytes() > self.max_bytes and len(self._held) > 1:
            name, _ = self._held.popitem(last=False)
            dropped.append(name)
        if dropped:
            logger.info("dropped the caches of %s to stay within the budget", ", ".join(dropped))
        if size > self.max_bytes and cache.collection not in self._warned:
            self._warned.add(cache.collection)
            logger.warning(
                "the caches of collection %r need about %.0f MB, more than "
                "BRIEFBOT_CACHE_MAX_MB (%.0f): held alone",
                cache.collection,
                size / 2**20,
                self.max_bytes / 2**20,
            )
        return dropped

    def total_bytes(self) -> int:
        return sum(size for _, size in self._held.values())

    def names(self) -> list[str]:
        """Held collections, least recently used first."""
        return list(self._held)


class CacheManager:
    """Loads, checks, rebuilds and saves the caches of the collections of a data dir, holding
    those in use (loaded on first use, dropped least recently used past `max_bytes`)."""

    def __init__(
        self,
        root: Path,
        store: Store,
        model: str,
        dimension: int,
        try_lock: Callable[[], AbstractContextManager[bool]] | None = None,
        approximate: ApproximateSearch = ApproximateSearch(),
        max_bytes: int | None = None,
    ) -> None:
        """`try_lock` takes the data dir's writer lock without waiting (yields False when busy);
        with it, caches rebuilt by a reader are saved too."""
        self.approximate = approximate
        self.root = root
        self.try_lock = try_lock
        self.store = store
        self.model = model
        self.dimension = dimension
        self._loaded = HeldCaches(max_bytes)
        self._lock = threading.Lock()

    def held(self) -> list[str]:
        """Collections whose caches this process holds, least recently used first."""
        with self._lock:
            return self._loaded.names()

    def peek(self, collection: str) -> CollectionCache | None:
        """The held caches of a collection as they are (not loaded, not counted as used), or
        None: what the next question starts from, for checks and benchmarks."""
        with self._lock:
            return self._loaded.peek(collection)

    def folder(self, collection: str) -> Path:
        return self.root / "collections" / collection

    def get(self, collection: str) -> CollectionCache:
        """The caches for the store's current state, reloading or rebuilding when it moved on."""
        current = self.store.change_id(collection)
        with self._lock:
            cache = self._loaded.get(collection)
            if cache is None or cache.change_id != current:
                cache = self._caught_up(collection, cache)
                self._loaded.put(cache)
            return cache

    def catch_up(self, collection: str, change_id: int | None = None) -> bool:
        """Bring a held collection's caches to the store's state before its next question, as
        that question would (`get`), when another process announced a change (`change_id`:
        the change id it reached; None: unknown, check). Collections not held are left to be
        loaded on first use. Returns whether the caches moved."""
        with self._lock:
            cache = self._loaded.peek(collection)
            if cache is None or (change_id is not None and cache.change_id >= change_id):
                return False  # not held, or already there (this process wrote it, say)
            if self.store.change_id(collection) == cache.change_id:
                return False
            self._loaded.put(self._caught_up(collection, cache), used=False)
            return True

    def _caught_up(self, collection: str, held: CollectionCache | None) -> CollectionCache:
        """The caches at the store's state: the held ones extended by the chunks added since
        (what an add does), else loaded from the saved files or rebuilt. Extending in memory
        spares reading the whole main segment from disk again after every added article,
        which questions and the change listener would otherwise do."""
        extended = self._extended(held) if held is not None else None
        return extended if extended is not None else self._load_or_build(collection)

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
            self._loaded.put(cache)
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
        if manifest is None or self._mismatches(manifest) or self._built_otherwise(manifest):
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
        return CollectionCache(collection, -1, *self._segments(vectors, lexical), files)

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
        lexical = LexicalSegments(cache.lexical.main, recent, cache.lexical.sparse)
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
        otherwise = self._built_otherwise(manifest)
        if otherwise:  # the settings changed: rebuild, but nothing is damaged
            return _Check(change, [], None, otherwise)
        try:
            main_vectors, main_lexical = self._read_files(collection, manifest)
        except Exception as exc:  # any damage to a cache file means: rebuild it
            return _Check(change, [f"cache files unreadable ({type(exc).__name__}: {exc})"])
        files = (str(manifest["vectors"]), str(manifest["lexical"]))
        main = CollectionCache(
            collection, change, *self._segments(main_vectors, main_lexical), files
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
        vectors.set_nprobe(self.approximate.ivf.nprobe)
        return vectors, lexical

    def _built_otherwise(self, manifest: dict[str, Any]) -> str | None:
        """Why saved main files were built another way than the settings now ask for their
        size, or None. Manifests from before approximate search recorded no shape: flat."""
        size = manifest.get("main_chunk_count")
        built = manifest.get("dense_index", {"type": FLAT})
        wanted = self.approximate.shape(size if isinstance(size, int) else 0)
        if built == wanted:
            return None
        return f"dense index built as {built}, the settings ask for {wanted}"

    def _segments(
        self, vectors: VectorIndex, lexical: LexicalIndex
    ) -> tuple[VectorSegments, LexicalSegments]:
        """Main segments wrapped for search: lexically sparse when the dense side is past the
        threshold too."""
        sparse = self.approximate.applies(vectors.size)
        return VectorSegments(vectors), LexicalSegments(lexical, sparse=sparse)

    def _build(self, collection: str) -> CollectionCache:
        change, chunks, matrix = self.store.snapshot(collection)
        if chunks and matrix.shape[1] != self.dimension:
            raise IndexMismatchError(
                f"stored vectors have dimension {matrix.shape[1]}, model has {self.dimension}"
            )
        ids = np.asarray([c.id for c in chunks], dtype=np.int64)
        approximate = self.approximate.applies(len(chunks))
        ivf = self.approximate.ivf if approximate else None
        if approximate:
            logger.info(
                "building an IVF index of %s for %r", counted(len(ids), "chunk"), collection
            )
        vectors = VectorIndex.build(self.dimension, ids, matrix, ivf)
        lexical = LexicalIndex.build(ids.tolist(), [c.index_text for c in chunks])
        return CollectionCache(collection, change, *self._segments(vectors, lexical))

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
            "dense_index": cache.vectors.main.shape(),
            "ann_threshold": self.approximate.threshold,
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
