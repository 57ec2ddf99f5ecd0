"""Near-duplicate articles: the same story syndicated by another outlet, lightly edited.

Exact copies are caught by the content hash. A syndicated copy differs in a headline, a
byline, a sentence or two, so it is compared by word shingles (every run of five words): the
Jaccard similarity of two shingle sets stays high under small edits and is low for two
different stories on the same event, which share facts but not wording.

Only stored articles of similar length can reach the threshold (the shingle counts of two
sets with Jaccard >= t differ by at most a factor t), so candidates are picked by text length
in SQL and their shingle sets are cached by (article id, content hash).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from index.store import Store

SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class NearDuplicate:
    article_id: int
    similarity: float


def shingles(text: str, size: int = SHINGLE_WORDS) -> np.ndarray:
    """The sorted, distinct 64-bit hashes of every run of `size` words (case folded)."""
    words = _WORD.findall(text.lower())
    runs = [" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))]
    hashes = [
        int.from_bytes(hashlib.blake2b(run.encode("utf-8"), digest_size=8).digest(), "little")
        for run in runs
        if run
    ]
    return np.unique(np.asarray(hashes, dtype=np.uint64))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|A ∩ B| / |A ∪ B| of two sorted distinct hash arrays."""
    if not len(a) or not len(b):
        return 0.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


class DuplicateFinder:
    """Finds the stored article most like a new text, above a threshold."""

    def __init__(self, store: Store, cache_size: int = 4096) -> None:
        self._store = store
        self._cache: OrderedDict[tuple[int, str], np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def find(
        self, collection: str, text: str, threshold: float, exclude_id: int | None = None
    ) -> NearDuplicate | None:
        own = shingles(text)
        slack = threshold * 0.75  # character length only approximates the shingle count
        low, high = int(len(text) * slack), int(len(text) / slack) + 1
        best: NearDuplicate | None = None
        for article_id, content_hash, _length in self._store.article_sizes(collection, low, high):
            if article_id == exclude_id:
                continue
            score = jaccard(own, self._shingles(article_id, content_hash))
            if score >= threshold and (best is None or score > best.similarity):
                best = NearDuplicate(article_id, round(score, 3))
        return best

    def _shingles(self, article_id: int, content_hash: str) -> np.ndarray:
        key = (article_id, content_hash)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        computed = shingles(self._store.article_text(article_id))
        with self._lock:
            self._cache[key] = computed
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return computed
