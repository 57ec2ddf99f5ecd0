"""The lexical cache: BM25 (bm25s) over chunk texts with English stemming and stopwords.

Dense vectors miss exact names and figures ("155-millimeter", "Zelenskyy"); BM25 finds them.
Saved as a folder of plain files (bm25s's own format) plus the chunk ids, in position order.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.atomic import write_dir_atomic

logger = logging.getLogger(__name__)
_IDS_FILE = "chunk_ids.npy"


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> Any:
    import bm25s

    return bm25s.tokenize(
        texts,
        lower=True,
        stopwords="en",
        stemmer=_stemmer(),
        show_progress=False,
        return_ids=False,
    )


class LexicalIndex:
    def __init__(self, retriever: Any, ids: np.ndarray) -> None:
        self._retriever = retriever
        self._ids = ids
        self._positions: dict[int, int] | None = None

    @property
    def size(self) -> int:
        return len(self._ids)

    @classmethod
    def build(cls, ids: list[int], texts: list[str]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25()
        if texts:
            retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever, np.asarray(ids, dtype=np.int64))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk, in the order of ids(); zeros when no query term is known."""
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        vocab = self._retriever.vocab_dict
        terms = [t for t in tokenize([query])[0] if t in vocab]
        if not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(terms), dtype=np.float32)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        scores = self.scores(query)
        if not len(scores):
            return []
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(self._ids[i]), float(scores[i])) for i in top if scores[i] > 0]

    def ids(self) -> np.ndarray:
        return self._ids

    def position(self, chunk_id: int) -> int | None:
        """Where a chunk sits in the score array; the map is built once per index."""
        if self._positions is None:
            self._positions = {int(c): p for p, c in enumerate(self._ids)}
        return self._positions.get(chunk_id)

    def save(self, path: Path) -> None:
        def fill(folder: Path) -> None:
            if self.size:
                self._retriever.save(str(folder), show_progress=False)
            np.save(folder / _IDS_FILE, self._ids)

        write_dir_atomic(path, fill)

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        import bm25s

        ids = np.load(path / _IDS_FILE)
        if len(ids) == 0:
            return cls.build([], [])
        retriever = bm25s.BM25.load(str(path), show_progress=False, verbosity=0)
        return cls(retriever, ids)
