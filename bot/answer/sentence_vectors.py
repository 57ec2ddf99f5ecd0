"""Sentence vectors for answering: the ones stored at ingest, the model only for the rest,
and a small cache for those (follow-up questions re-read the same passages)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from bot.answer.extractive import SentenceEncoder
from index.embedding import Embedder


class SentenceCache:
    """Sentence vectors by text: follow-up questions re-read the same passages."""

    def __init__(self, embedder: Embedder, size: int = 4096) -> None:
        self._embedder = embedder
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            for text, vector in zip(missing, self._embedder.encode(missing), strict=True):
                self._vectors[text] = vector
        for text in texts:
            self._vectors.move_to_end(text)
        while len(self._vectors) > self._size:
            self._vectors.popitem(last=False)
        return np.vstack([self._vectors[t] for t in texts])


def stored_first(stored: dict[str, np.ndarray], cache: SentenceCache) -> SentenceEncoder:
    """An encoder that takes stored vectors when it has them and asks `cache` for the rest."""

    def encode(texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in stored]
        extra = dict(zip(missing, cache.encode(missing), strict=True)) if missing else {}
        return np.vstack([stored[t] if t in stored else extra[t] for t in texts])

    return encode
