"""The FAISS cache: inner product over unit vectors, ids are SQLite chunk ids."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from index.atomic import write_atomic

# Searches here are one question at a time: FAISS's OpenMP threads then cost more than they
# save, and on busy cores they spin-wait on each other (a 10k-vector search measured 20 ms with
# two threads on a loaded 2-core machine, about 1 ms with one; docs/BENCHMARKS.md).
faiss.omp_set_num_threads(1)


class VectorIndex:
    """An IndexIDMap2 over a flat inner-product index; exact search, ids that survive removals."""

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        self.dimension = dimension
        self._index = (
            index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        )

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
