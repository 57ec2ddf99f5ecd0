"""Which embedder a knowledge base uses: the one place the backend setting is read."""

from __future__ import annotations

import logging

from index.embedding import (
    Embedder,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    is_test_model,
    resolve_model,
)
from index.settings import IndexSettings

log = logging.getLogger(__name__)


def make_embedder(settings: IndexSettings) -> Embedder:
    """The configured model on the configured backend; nothing is loaded until first encode.

    `auto` runs the model with ONNX Runtime when its folder has the common layout (the
    bundled model does), else with torch; `onnx` insists and fails loudly when it cannot;
    `torch` always uses sentence-transformers.
    """
    model = settings.embedding_model
    if is_test_model(model):  # tests and benchmarks only; see HashingEmbedder
        return HashingEmbedder.from_spec(model)
    torch_embedder = SentenceTransformerEmbedder(
        model, settings.embed_batch_size, settings.embed_threads
    )
    if settings.embedding_backend == "torch":
        return torch_embedder
    from index.onnx_embedding import OnnxEmbedder, default_cache_dir, plan_for

    _, location = resolve_model(model)
    plan = plan_for(location)
    if plan is None:
        if settings.embedding_backend == "onnx":
            from index.errors import InputError

            raise InputError(
                f"BRIEFBOT_EMBEDDING_BACKEND=onnx, but {model!r} is not a local "
                "sentence-transformers folder with mean pooling and a tokenizer.json; "
                "use BRIEFBOT_EMBEDDING_BACKEND=torch for this model"
            )
        log.debug("model %s stays on torch: no ONNX export plan", model)
        return torch_embedder
    cache_dir = settings.model_cache_dir or default_cache_dir()
    return OnnxEmbedder(model, plan, cache_dir, settings.embed_batch_size, settings.embed_threads)
