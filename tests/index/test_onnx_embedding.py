"""The ONNX backend: same vectors as torch, exported once, falls back instead of failing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index import onnx_embedding
from index.embedder_factory import make_embedder
from index.embedding import HashingEmbedder, SentenceTransformerEmbedder, resolve_model
from index.errors import InputError
from index.onnx_embedding import OnnxEmbedder, plan_for
from index.settings import BUNDLED_MODEL, IndexSettings

TEXTS = [
    "How many troops were deployed?",
    "Ok.",
    "North Korea has sent at least 11,000 troops to Russia, according to the spy agency. " * 12,
    "Émigrés in Zürich said the naïve plan cost €4.5bn — or so they claimed.",
] + [f"Sentence {i}: the wildfire burned {i * 1000} acres near the ridge." for i in range(40)]


def bundled_folder() -> Path:
    return Path(resolve_model(BUNDLED_MODEL)[1])


def test_the_bundled_model_gets_an_onnx_plan() -> None:
    plan = plan_for(str(bundled_folder()))
    assert plan is not None
    assert (plan.dimension, plan.max_tokens) == (384, 256)


@pytest.fixture
def own_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default cache location (DATA_DIR/models), not the test session's shared one."""
    monkeypatch.delenv("BRIEFBOT_MODEL_CACHE_DIR", raising=False)


@pytest.mark.usefixtures("own_cache")
def test_the_default_backend_is_onnx_and_names_the_model_like_torch(tmp_path: Path) -> None:
    embedder = make_embedder(IndexSettings(data_dir=tmp_path))
    assert isinstance(embedder, OnnxEmbedder)
    assert embedder.name == SentenceTransformerEmbedder().name
    assert embedder.dimension == 384
    assert embedder.path.parent == tmp_path / "models"  # nothing exported until first use
    assert not embedder.path.exists()


def test_backend_torch_and_test_models_skip_onnx(tmp_path: Path) -> None:
    torch_settings = IndexSettings(data_dir=tmp_path, embedding_backend="torch")
    assert isinstance(make_embedder(torch_settings), SentenceTransformerEmbedder)
    test_settings = IndexSettings(data_dir=tmp_path, embedding_model="hashing:32")
    assert isinstance(make_embedder(test_settings), HashingEmbedder)


def unsupported_copy(tmp_path: Path) -> Path:
    """The bundled model's config files (no weights needed) with an extra Dense layer."""
    folder = tmp_path / "model"
    shutil.copytree(bundled_folder(), folder, ignore=shutil.ignore_patterns("*.safetensors"))
    (folder / "model.safetensors").write_bytes(b"not read by the plan")
    modules = json.loads((folder / "modules.json").read_text())
    modules.insert(2, {"idx": 2, "name": "2", "path": "2_Dense", "type": "x.models.Dense"})
    (folder / "modules.json").write_text(json.dumps(modules))
    return folder


def test_other_layouts_stay_on_torch_or_are_refused_when_onnx_is_required(
    tmp_path: Path,
) -> None:
    folder = unsupported_copy(tmp_path)
    assert plan_for(str(folder)) is None
    assert plan_for(str(tmp_path / "no-such-model")) is None
    auto = IndexSettings(data_dir=tmp_path, embedding_model=str(folder))
    assert isinstance(make_embedder(auto), SentenceTransformerEmbedder)
    with pytest.raises(InputError, match="BRIEFBOT_EMBEDDING_BACKEND=torch"):
        make_embedder(auto.model_copy(update={"embedding_backend": "onnx"}))


@pytest.mark.usefixtures("own_cache")
def test_a_failed_export_leaves_no_file_and_falls_back_to_torch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    def broken_export(*args: object, **kwargs: object) -> None:
        Path(args[2]).write_bytes(b"half a model")  # type: ignore[arg-type]
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(torch.onnx, "export", broken_export)
    calls: list[list[str]] = []

    def fake_torch_encode(self: SentenceTransformerEmbedder, texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.ones((len(texts), 384), dtype=np.float32)

    monkeypatch.setattr(SentenceTransformerEmbedder, "encode", fake_torch_encode)
    embedder = make_embedder(IndexSettings(data_dir=tmp_path))
    assert isinstance(embedder, OnnxEmbedder)
    assert embedder.encode(["a question"]).shape == (1, 384)
    assert calls == [["a question"]]
    assert embedder.backend == "torch"
    assert list((tmp_path / "models").iterdir()) == []  # no half-written export left behind


@pytest.mark.slow
def test_onnx_vectors_equal_torch_vectors(real_embedder: OnnxEmbedder) -> None:
    """The index may be built by one backend and queried by the other: vectors must match."""
    assert real_embedder.backend == "onnx"
    onnx_vectors = real_embedder.encode(TEXTS)
    torch_vectors = SentenceTransformerEmbedder(batch_size=16).encode(TEXTS)
    assert onnx_vectors.shape == torch_vectors.shape == (len(TEXTS), 384)
    assert np.abs(onnx_vectors - torch_vectors).max() < 1e-4
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    # Batching and order do not change a text's vector.
    alone = real_embedder.encode([TEXTS[2]])
    assert np.abs(alone[0] - onnx_vectors[2]).max() < 1e-5
    assert real_embedder.encode([]).shape == (0, 384)


def test_the_export_is_keyed_by_the_weights(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(bundled_folder(), folder, ignore=shutil.ignore_patterns("*.safetensors"))
    weights = folder / "model.safetensors"
    weights.write_bytes(b"one")
    first = plan_for(str(folder))
    weights.write_bytes(b"other weights")
    second = plan_for(str(folder))
    assert first is not None and second is not None
    assert first.key != second.key
    assert onnx_embedding.EXPORT_FORMAT >= 1


@pytest.mark.slow
def test_a_damaged_cached_export_is_replaced_not_kept(tmp_path: Path) -> None:
    settings = IndexSettings(data_dir=tmp_path, model_cache_dir=tmp_path / "models")
    first = make_embedder(settings)
    assert isinstance(first, OnnxEmbedder)
    expected = first.encode(["a question about troops"])
    first.path.write_bytes(b"not an onnx model")  # damaged on disk after the export
    stale = first.path.with_name("0123456789abcdef.onnx")  # an export of older weights
    stale.write_bytes(b"old")
    second = make_embedder(settings)
    assert isinstance(second, OnnxEmbedder)
    assert np.abs(second.encode(["a question about troops"]) - expected).max() < 1e-5
    assert second.backend == "onnx"
    assert first.path.stat().st_size > 1_000_000
    assert stale.exists()  # a re-export of a damaged file keeps the rest

    shutil.rmtree(tmp_path / "models")  # a first export clears older exports
    (tmp_path / "models").mkdir()
    stale.write_bytes(b"old")
    assert make_embedder(settings).encode(["x"]).shape == (1, 384)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [first.path.name]


@pytest.mark.slow
def test_threads_share_one_session_safely(real_embedder: OnnxEmbedder) -> None:
    """The bot encodes from worker threads; one session and tokenizer serve them all."""
    import threading

    texts = [f"Sentence {i} about troops deployed. " * (1 + i % 5) for i in range(20)]
    expected = real_embedder.encode(texts)
    failures: list[str] = []

    def work() -> None:
        try:
            for _ in range(5):
                assert np.abs(real_embedder.encode(texts) - expected).max() < 1e-5
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
