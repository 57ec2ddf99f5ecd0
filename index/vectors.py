"""The FAISS cache: inner product over unit vectors, ids are SQLite chunk ids.

A main segment is exact (`IndexFlatIP`) below the approximate-search threshold and an
inverted-file index over the same vectors past it (`IndexIVFFlat`, chosen in index/caches.py):
a flat search reads every vector per question, about 76 ms at 1M chunks on a busy core, while
IVF compares the question with the list centroids and reads only the `nprobe` nearest lists.
IVF beat HNSW in benchmarks/scale.py: at 1M chunks recall@10 0.9985-1.0 against 0.81-0.91,
built in 144 s against 560 s, 8 bytes per chunk beside the vectors against 270
(docs/SCALING.md). The lists hold the vectors themselves and a direct map, so `scores_for`
stays exact.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from index.atomic import write_atomic
from index.settings import IVF_NPROBE

# Searches here are one question at a time: FAISS's OpenMP threads then cost more than they
# save, and on busy cores they spin-wait on each other (a 10k-vector search measured 20 ms with
# two threads on a loaded 2-core machine, about 1 ms with one; docs/BENCHMARKS.md).
faiss.omp_set_num_threads(1)
logger = logging.getLogger(__name__)
FLAT, IVF = "flat", "ivf"


@dataclass(frozen=True)
class IvfParams:
    """The inverted file's shape (`lists_per_root` sqrt(n) lists, each trained on
    `train_per_list` sampled vectors: FAISS's guidance is 30-256) and its search breadth
    (`nprobe` lists read per question: a setting, applied when loaded). Chosen by
    benchmarks/scale.py: recall@10 against exact search at least 0.98 at 1M chunks."""

    lists_per_root: float = 4.0
    train_per_list: int = 40
    nprobe: int = IVF_NPROBE

    def nlist(self, size: int) -> int:
        """Lists for `size` vectors: never more than the training sample can place well."""
        return max(1, min(int(self.lists_per_root * math.sqrt(size)), size // self.train_per_list))


@contextmanager
def _every_core() -> Iterator[None]:
    """Training and filling an inverted file is minutes of work at 1M vectors and FAISS
    spreads it over threads; questions go back to one thread after (see the comment above)."""
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(1)


class VectorIndex:
    """An IndexIDMap2 over a flat inner-product index (exact) or an inverted file (approximate);
    ids are chunk ids either way."""

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        self.dimension = dimension
        self._index = (
            index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        )

    @classmethod
    def build(
        cls, dimension: int, ids: np.ndarray, vectors: np.ndarray, ivf: IvfParams | None
    ) -> VectorIndex:
        """Exact when `ivf` is None, else an inverted file of those parameters, its centroids
        trained on a fixed-seed sample (the same vectors give the same index)."""
        if ivf is None:
            index = cls(dimension)
            index.add(ids, vectors)
            return index
        nlist = ivf.nlist(len(ids))
        lists = faiss.IndexIVFFlat(
            faiss.IndexFlatIP(dimension), dimension, nlist, faiss.METRIC_INNER_PRODUCT
        )
        lists.nprobe = ivf.nprobe
        lists.set_direct_map_type(faiss.DirectMap.Array)  # type: ignore[attr-defined]
        sample = np.random.default_rng(0).choice(
            len(ids), min(len(ids), nlist * ivf.train_per_list), replace=False
        )
        index = cls(dimension, faiss.IndexIDMap2(lists))
        with _every_core():
            lists.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
            index.add(ids, vectors)
        return index

    def _lists(self) -> faiss.IndexIVF | None:
        inner = faiss.downcast_index(self._index.index)  # type: ignore[attr-defined]
        return inner if isinstance(inner, faiss.IndexIVF) else None

    @property
    def kind(self) -> str:
        """ "flat" or "ivf": what the manifest records and the cache layer checks."""
        return FLAT if self._lists() is None else IVF

    def shape(self) -> dict[str, int | str]:
        """What this index was built as, for the manifest (IVF: its number of lists)."""
        lists = self._lists()
        return {"type": FLAT} if lists is None else {"type": IVF, "nlist": int(lists.nlist)}

    def set_nprobe(self, nprobe: int) -> None:
        """How many lists a search reads (IVF only): more is slower and closer to exact."""
        lists = self._lists()
        if lists is not None:
            lists.nprobe = min(nprobe, int(lists.nlist))

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32),
                np.ascontiguousarray(ids, dtype=np.int64),
            )

    def remove(self, ids: list[int]) -> None:
        if ids:
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))  # type: ignore[arg-type]

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Best k (id, cosine) pairs; FAISS's -1 padding never leaves this method."""
        k = min(k, self.size)
        if k <= 0:
            return []
        scores, ids = self._index.search(np.ascontiguousarray(query.reshape(1, -1)), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def scores_for(self, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Exact cosine of the query with chosen chunks (for candidates found lexically)."""
        result: dict[int, float] = {}
        for chunk_id in ids:
            try:
                vector = self._index.reconstruct(int(chunk_id))
            except RuntimeError:
                continue
            result[chunk_id] = float(np.dot(vector, query))
        return result

    def ids(self) -> np.ndarray:
        """Every id in the index (for checking it against the store)."""
        id_map = faiss.vector_to_array(self._index.id_map)  # type: ignore[attr-defined]
        return np.asarray(id_map, dtype=np.int64)

    def save(self, path: Path) -> None:
        write_atomic(path, lambda temp: faiss.write_index(self._index, str(temp)))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        index = faiss.read_index(str(path))
        return cls(int(index.d), index)


class VectorSegments:
    """A main FAISS index (rebuilt now and then) plus the few vectors added since, searched
    exactly with numpy; both are immutable, so readers never see a half-made change."""

    def __init__(
        self,
        main: VectorIndex,
        recent_ids: np.ndarray | None = None,
        recent: np.ndarray | None = None,
    ) -> None:
        self.main = main
        self.dimension = main.dimension
        self.recent_ids = (
            np.zeros(0, dtype=np.int64) if recent_ids is None else np.asarray(recent_ids, np.int64)
        )
        self.recent = (
            np.zeros((0, main.dimension), dtype=np.float32)
            if recent is None
            else np.ascontiguousarray(recent, dtype=np.float32)
        )
        self._rows = {int(c): r for r, c in enumerate(self.recent_ids)}

    @property
    def size(self) -> int:
        return self.main.size + len(self.recent_ids)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        found = self.main.search(query, k)
        if len(self.recent_ids):
            scores = self.recent @ query.reshape(-1).astype(np.float32)
            found += [(int(i), float(s)) for i, s in zip(self.recent_ids, scores, strict=True)]
            found.sort(key=lambda pair: -pair[1])
        return found[:k]

    def scores_for(self, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        result = self.main.scores_for(query, [i for i in ids if i not in self._rows])
        for chunk_id in ids:
            row = self._rows.get(chunk_id)
            if row is not None:
                result[chunk_id] = float(np.dot(self.recent[row], query))
        return result

    def ids(self) -> np.ndarray:
        return np.concatenate([self.main.ids(), self.recent_ids])
