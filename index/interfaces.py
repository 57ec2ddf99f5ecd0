"""What retrieval needs of storage, written down as Protocols.

Why: a server backend (PostgreSQL with pgvector, Qdrant; docs/SCALING.md) must be one new
module, not a rewrite. `hybrid_search` depends only on these shapes, so such a module passes
mypy here as soon as its classes have these methods; the SQLite store and the FAISS/bm25s
caches are the default implementations (`tests/index/test_interfaces.py` checks that they
conform).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from index.models import Article
from index.store import StoredChunk


@runtime_checkable
class DenseSearch(Protocol):
    """Chunk vectors of one collection: cosine (inner product of unit vectors) by chunk id."""

    @property
    def size(self) -> int: ...

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]: ...

    def scores_for(self, query: np.ndarray, ids: list[int]) -> dict[int, float]: ...

    def ids(self) -> np.ndarray: ...


@runtime_checkable
class LexicalSearch(Protocol):
    """BM25 over the same chunks: a score for every chunk, in the order of `ids()`, and the
    candidates retrieval fuses (the k best plus the scores of the dense side's candidates:
    a backend can answer that without scoring every chunk)."""

    @property
    def size(self) -> int: ...

    def scores(self, query: str) -> np.ndarray: ...

    def candidates(self, query: str, k: int, also: Sequence[int]) -> dict[int, float]: ...

    def ids(self) -> np.ndarray: ...

    def position(self, chunk_id: int) -> int | None: ...


class SearchableCollection(Protocol):
    """One collection's search side, valid for one state of the store."""

    @property
    def vectors(self) -> DenseSearch: ...

    @property
    def lexical(self) -> LexicalSearch: ...


@runtime_checkable
class PassageSource(Protocol):
    """Where the text and article details of found chunks come from (the source of truth)."""

    def chunks_by_ids(self, ids: Sequence[int]) -> dict[int, StoredChunk]: ...

    def articles_by_ids(self, ids: Sequence[int]) -> dict[int, Article]: ...

    def sentence_vectors(self, chunk_ids: Sequence[int]) -> dict[int, np.ndarray]: ...
