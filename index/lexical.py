"""The lexical cache: BM25 (bm25s) over chunk texts with English stemming and stopwords.

Dense vectors miss exact names and figures ("155-millimeter", "Zelenskyy"); BM25 finds them.
Saved as a folder of plain files (bm25s's own format) plus the chunk ids, in position order.

bm25s cannot add documents to a built index, and rebuilding 100k chunks takes seconds, so the
index is kept in two segments (`LexicalSegments`): a main bm25s segment, rebuilt only now and
then, and a small recent segment of the chunks added since, scored here with the same BM25
formula (Lucene: IDF log(1 + (N - df + .5) / (df + .5)), tf / (tf + k1 (1 - b + b dl / avgdl)),
k1 1.5, b 0.75) using document frequencies of both segments and the main
segment's average length. While the recent segment is small, its scores match what a full
rebuild would give to within the drift of the main segment's own statistics.

Retrieval asks for `candidates`: the best chunks by BM25 plus the BM25 of the dense side's
candidates. Small collections get them from one full score array (as always); past the
approximate-search threshold (`sparse`, chosen in index/caches.py) the main segment's best are
chosen among the chunks holding a query term only, and the dense candidates' scores are read
from bm25s's postings, so a question no longer partitions a score array of every chunk or
builds a position map of every chunk (about 100 MB at 1M).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.atomic import write_dir_atomic

logger = logging.getLogger(__name__)
_IDS_FILE = "chunk_ids.npy"
_STATS_FILE = "segment.json"
K1, B = 1.5, 0.75  # bm25s's defaults, which the main segment uses


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


_SPLIT = re.compile(r"(?u)\b\w\w+\b").findall  # bm25s's (and scikit-learn's) token pattern
_STEMS: dict[str, str] = {}
_MAX_STEMS = 500_000


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def tokenize(texts: list[str]) -> list[list[str]]:
    """Exactly what `bm25s.tokenize(texts, lower=True, stopwords="en", stemmer=english,
    return_ids=False)` returns (tests/index/test_lexical_speed.py checks it on real text), at
    a fraction of the cost for the many short calls answering makes: bm25s rebuilds its
    stopword set per text and starts progress bars per call, and the stemmer runs once per
    distinct word here (memoized), not once per call."""
    stop, stems = _stopwords(), _STEMS
    out = []
    for text in texts:
        words = [w for w in _SPLIT(text.lower()) if w not in stop]
        missing = [w for w in dict.fromkeys(words) if w not in stems]
        if missing:
            if len(stems) > _MAX_STEMS:
                stems.clear()
            stems.update(zip(missing, _stemmer().stemWords(missing), strict=True))
        out.append([stems[w] for w in words])
    return out


class LexicalIndex:
    """The main segment: bm25s over many chunks, immutable once built."""

    def __init__(self, retriever: Any, ids: np.ndarray, average_length: float = 1.0) -> None:
        self._retriever = retriever
        self._ids = ids
        self._positions: dict[int, int] | None = None
        self._ascending: bool | None = None
        self.average_length = average_length
        self._doc_freqs: np.ndarray | None = None

    @property
    def size(self) -> int:
        return len(self._ids)

    @classmethod
    def build(cls, ids: list[int], texts: list[str]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25()
        average = 1.0
        if texts:
            tokens = tokenize(texts)
            average = max(sum(len(t) for t in tokens) / len(tokens), 1.0)
            retriever.index(tokens, show_progress=False)
        return cls(retriever, np.asarray(ids, dtype=np.int64), average)

    def doc_freq(self, term: str) -> int:
        """How many main-segment chunks contain the term (nonzero entries of its column)."""
        if not self.size:
            return 0
        if self._doc_freqs is None:
            self._doc_freqs = np.diff(np.asarray(self._retriever.scores["indptr"]))
        column = self._retriever.vocab_dict.get(term)
        return 0 if column is None else int(self._doc_freqs[column])

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
        return top_k(self._ids, self.scores(query), k)

    def top(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        """The k best (chunk id, BM25) of this segment with a positive score, best first (terms
        already tokenized). bm25s sums the query terms' postings; the best are then chosen
        among the chunks that have a query term only. Not bm25s's `retrieve`: its selection
        partitions the whole array, which is mostly zeros, and that is slow in numpy (about
        300 ms at 1M chunks; docs/SCALING.md)."""
        known = [t for t in terms if t in self._retriever.vocab_dict]
        if not known or k <= 0 or not self.size:
            return []
        scores = np.asarray(self._retriever.get_scores(known), dtype=np.float32)
        rows = np.flatnonzero(scores)  # BM25 (Lucene IDF) is positive wherever a term occurs
        if len(rows) > k:
            rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        return [(int(self._ids[r]), float(scores[r])) for r in rows]

    def scores_at(self, terms: list[str], positions: np.ndarray) -> np.ndarray:
        """BM25 of the chunks at `positions` alone, summed from each term's postings (bm25s
        keeps them per term, sorted by position): the same figures as `scores` there."""
        out = np.zeros(len(positions), dtype=np.float32)
        if not self.size or not len(positions):
            return out
        matrix = self._retriever.scores
        data, indices, indptr = matrix["data"], matrix["indices"], matrix["indptr"]
        vocab = self._retriever.vocab_dict
        for term in terms:
            column = vocab.get(term)
            if column is None:
                continue
            start, end = int(indptr[column]), int(indptr[column + 1])
            rows = indices[start:end]
            at = np.searchsorted(rows, positions)
            hit = at < len(rows)
            hit[hit] = rows[at[hit]] == positions[hit]
            out[hit] += data[start + at[hit]]
        return out

    def ids(self) -> np.ndarray:
        return self._ids

    def positions(self, chunk_ids: Sequence[int]) -> np.ndarray:
        """Positions of chunks in this segment, -1 for chunks it lacks. Main segments are built
        in chunk id order, so a binary search does it without a map of every chunk."""
        if self._ascending is None:
            self._ascending = bool(np.all(self._ids[1:] > self._ids[:-1]))
        if not self._ascending:
            found = [self.position(int(c)) for c in chunk_ids]
            return np.asarray([-1 if p is None else p for p in found], dtype=np.int64)
        return sorted_positions(self._ids, chunk_ids)

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
            (folder / _STATS_FILE).write_text(json.dumps({"average_length": self.average_length}))

        write_dir_atomic(path, fill)

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        import bm25s

        ids = np.load(path / _IDS_FILE)
        average = float(json.loads((path / _STATS_FILE).read_text())["average_length"])
        if len(ids) == 0:
            return cls.build([], [])
        retriever = bm25s.BM25.load(str(path), show_progress=False, verbosity=0)
        return cls(retriever, ids, average)


class RecentSegment:
    """The chunks added since the main segment was built: few, so scored in plain Python."""

    def __init__(self, ids: list[int], tokens: list[list[str]]) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        self.tokens = tokens
        self.counts = [Counter(t) for t in tokens]
        self.lengths = np.asarray([len(t) for t in tokens], dtype=np.float32)
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for position, counts in enumerate(self.counts):
            for term, tf in counts.items():
                self.postings.setdefault(term, []).append((position, tf))

    def extended(self, ids: list[int], texts: dict[int, str]) -> RecentSegment:
        """A new segment of exactly `ids`: kept entries reused, only new texts tokenized."""
        known = {int(c): t for c, t in zip(self.ids, self.tokens, strict=True)}
        fresh = [i for i in ids if i not in known]
        if fresh:
            known.update(zip(fresh, tokenize([texts[i] for i in fresh]), strict=True))
        return RecentSegment(ids, [known[i] for i in ids])


class LexicalSegments:
    """Main + recent segment behind the one interface retrieval and the checks use; `sparse`
    (past the approximate-search threshold) answers `candidates` without a full score array."""

    def __init__(
        self, main: LexicalIndex, recent: RecentSegment | None = None, sparse: bool = False
    ) -> None:
        self.main = main
        self.recent = recent or RecentSegment([], [])
        self.sparse = sparse
        self._ids = np.concatenate([main.ids(), self.recent.ids])
        self._positions: dict[int, int] | None = None

    @property
    def size(self) -> int:
        return len(self._ids)

    def ids(self) -> np.ndarray:
        return self._ids

    def position(self, chunk_id: int) -> int | None:
        """The main segment's map (built once per main segment, shared by every recent one),
        then the recent segment's own, offset after the main."""
        found = self.main.position(chunk_id)
        if found is not None:
            return found
        if self._positions is None:
            offset = self.main.size
            self._positions = {int(c): offset + p for p, c in enumerate(self.recent.ids)}
        return self._positions.get(chunk_id)

    def scores(self, query: str) -> np.ndarray:
        """BM25 of every chunk in the order of ids(): main from bm25s, recent computed here."""
        main = self.main.scores(query)
        if not len(self.recent.ids):
            return main
        return np.concatenate([main, self._recent_scores(tokenize([query])[0])])

    def _recent_scores(self, terms: list[str]) -> np.ndarray:
        recent = self.recent
        out = np.zeros(len(recent.ids), dtype=np.float32)
        total = self.main.size + len(recent.ids)
        average = (
            self.main.average_length if self.main.size else max(float(recent.lengths.mean()), 1.0)
        )
        norm = K1 * (1 - B + B * recent.lengths / average)
        for term in terms:
            postings = recent.postings.get(term)
            if not postings:
                continue
            df = self.main.doc_freq(term) + len(postings)
            idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
            for position, tf in postings:
                out[position] += idf * tf / (tf + norm[position])
        return out

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        return top_k(self._ids, self.scores(query), k)

    def candidates(self, query: str, k: int, also: Sequence[int]) -> dict[int, float]:
        """The k best chunks by BM25 (positive scores only) and, when there are any, the BM25
        of the `also` chunks (the dense side's candidates, so fusion compares like with like)."""
        if self.sparse:
            return self._sparse_candidates(tokenize([query])[0], k, also)
        scores = self.scores(query)
        found: dict[int, float] = {}
        if len(scores):
            n = min(k, len(scores))
            top = np.argpartition(-scores, n - 1)[:n]
            found = {int(self._ids[i]): float(scores[i]) for i in top if scores[i] > 0}
        if found:
            for chunk_id in also:
                position = self.position(chunk_id) if chunk_id not in found else None
                if position is not None:
                    found[chunk_id] = float(scores[position])
        return found

    def _sparse_candidates(self, terms: list[str], k: int, also: Sequence[int]) -> dict[int, float]:
        """`candidates` from the main segment's top k (bm25s) and postings, plus the recent
        segment scored whole (it is small)."""
        recent = self._recent_scores(terms) if len(self.recent.ids) else np.zeros(0)
        pairs = self.main.top(terms, k)
        pairs += [(int(c), float(s)) for c, s in zip(self.recent.ids, recent, strict=True) if s > 0]
        pairs.sort(key=lambda pair: -pair[1])
        found = dict(pairs[:k])
        wanted = [c for c in also if c not in found]
        if not found or not wanted:
            return found
        positions = self.main.positions(wanted)
        inside = positions >= 0
        main_scores = self.main.scores_at(terms, positions[inside])
        found.update(zip(np.asarray(wanted)[inside].tolist(), main_scores.tolist(), strict=True))
        rows = sorted_positions(self.recent.ids, wanted)  # recent ids only grow: ascending
        for chunk_id, row in zip(wanted, rows.tolist(), strict=True):
            if row >= 0:
                found[chunk_id] = float(recent[row])
        return found


_ASKING = (
    "what which who whom whose when where why how many much does did do is are was were "
    "the a an of in on at to for by with from about"
)
# Words of a question that say what kind of answer is wanted, not what it is about, as
# written and as `tokenize` stems them ("many" -> "mani", "does" -> "doe", "why" -> "whi"),
# so that a sentence saying "many" gets no credit for matching "how many".
QUESTION_WORDS = frozenset(_ASKING.split()) | frozenset(tokenize([_ASKING])[0])


def term_coverage(query: str, texts: list[str]) -> list[float]:
    """Share of the query's content words (stemmed, weighted by their rarity among `texts`)
    that each text contains: 1.0 when a text has them all."""
    terms = set(tokenize([query])[0]) - QUESTION_WORDS
    if not terms:
        return [0.0] * len(texts)
    bags = [set(tokens) for tokens in tokenize(texts)]
    n = len(bags)
    idf = {t: math.log(1 + n / (1 + sum(t in bag for bag in bags))) + 0.5 for t in terms}
    total = sum(idf.values())
    return [sum(idf[t] for t in terms if t in bag) / total for bag in bags]


def sorted_positions(ids: np.ndarray, wanted: Sequence[int]) -> np.ndarray:
    """Where each wanted chunk id sits in the ascending array `ids`, -1 where it is absent."""
    chosen = np.asarray(wanted, dtype=np.int64)
    if not len(ids) or not len(chosen):
        return np.full(len(chosen), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(ids, chosen), len(ids) - 1)
    return np.where(ids[at] == chosen, at, -1)


def top_k(ids: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k best (chunk id, score) pairs with a positive score, best first."""
    if not len(scores) or k <= 0:
        return []
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top])]
    return [(int(ids[i]), float(scores[i])) for i in top if scores[i] > 0]
