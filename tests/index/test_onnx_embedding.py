"""The ONNX backend: same vectors as torch, exported once, falls back instead of failing."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index import embedding, onnx_embedding
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
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default cache location (the per-user cache, here under a temp XDG_CACHE_HOME so
    the real ~/.cache is never written), not the test session's shared one."""
    monkeypatch.delenv("BRIEFBOT_MODEL_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    return tmp_path / "user-cache" / "briefbot" / "models"


def test_the_default_backend_is_onnx_and_names_the_model_like_torch(
    tmp_path: Path, own_cache: Path
) -> None:
    embedder = make_embedder(IndexSettings(data_dir=tmp_path / "one"))
    assert isinstance(embedder, OnnxEmbedder)
    assert embedder.name == SentenceTransformerEmbedder().name
    assert embedder.dimension == 384
    # One export per user and machine, shared by every data dir; nothing made until first use.
    assert embedder.path.parent == own_cache
    assert embedder.path.name.startswith("sentence_transformers_all_MiniLM_L6_v2-")
    other = make_embedder(IndexSettings(data_dir=tmp_path / "two"))
    assert isinstance(other, OnnxEmbedder) and other.path == embedder.path
    assert not embedder.path.exists()


def test_the_model_cache_dir_setting_overrides_the_user_cache(
    tmp_path: Path, own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFBOT_MODEL_CACHE_DIR", str(tmp_path / "mine"))
    embedder = make_embedder(IndexSettings(data_dir=tmp_path / "data"))
    assert isinstance(embedder, OnnxEmbedder)
    assert embedder.path.parent == tmp_path / "mine"


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


def test_a_failed_export_leaves_no_file_and_falls_back_to_torch(
    tmp_path: Path, own_cache: Path, monkeypatch: pytest.MonkeyPatch
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
    # No half-written export left behind (the lock file may stay: it is empty).
    assert [p for p in own_cache.iterdir() if p.suffix != ".lock"] == []


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
    # an export of older weights of the same model
    stale = first.path.with_name(first.path.name.rsplit("-", 1)[0] + "-0123456789abcdef.onnx")
    stale.write_bytes(b"old")
    second = make_embedder(settings)
    assert isinstance(second, OnnxEmbedder)
    assert np.abs(second.encode(["a question about troops"]) - expected).max() < 1e-5
    assert second.backend == "onnx"
    assert first.path.stat().st_size > 1_000_000
    assert stale.exists()  # a re-export of a damaged file keeps the rest

    shutil.rmtree(tmp_path / "models")  # a first export clears older exports of this model
    (tmp_path / "models").mkdir()
    stale.write_bytes(b"old")
    other_model = tmp_path / "models" / "someone_else-0123456789abcdef.onnx"
    other_model.write_bytes(b"another model's export, used by another data dir")
    assert make_embedder(settings).encode(["x"]).shape == (1, 384)
    exports = sorted(p.name for p in (tmp_path / "models").glob("*.onnx"))
    assert exports == sorted([first.path.name, other_model.name])


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


def _slow_fake_export(plan: onnx_embedding.OnnxPlan, target: Path) -> None:
    """Stands in for the 5 s torch export: records who exported, then writes atomically."""
    with open(target.parent / "exports.log", "a") as log:
        log.write(f"{os.getpid()}\n")
    time.sleep(0.5)
    target.write_bytes(b"an export")


def _prepare_in_child(target: Path, start: Any, results: Any) -> None:
    onnx_embedding.export_onnx = _slow_fake_export  # type: ignore[assignment]
    plan = plan_for(str(bundled_folder()))
    assert plan is not None
    start.wait()
    results.put(onnx_embedding.prepare_export(plan, target))


def test_two_processes_preparing_at_once_export_once(tmp_path: Path) -> None:
    """Two commands started together in new data dirs: one exports, the other waits and
    uses its file (before, both exported, and the cache was per data dir anyway)."""
    context = multiprocessing.get_context("fork")
    target = tmp_path / "cache" / "model-0123.onnx"
    start, results = context.Barrier(2), context.Queue()
    children = [
        context.Process(target=_prepare_in_child, args=(target, start, results)) for _ in range(2)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [child.exitcode for child in children] == [0, 0]
    assert sorted(results.get(timeout=5) for _ in children) == [False, True]
    assert len((tmp_path / "cache" / "exports.log").read_text().split()) == 1
    assert target.read_bytes() == b"an export"


def test_the_export_says_so_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    monkeypatch.setattr(onnx_embedding, "export_onnx", _slow_fake_export)
    plan = plan_for(str(bundled_folder()))
    assert plan is not None
    target = tmp_path / "model-0123.onnx"
    with caplog.at_level(logging.INFO, logger="index.onnx_embedding"):
        assert onnx_embedding.prepare_export(plan, target)
        assert not onnx_embedding.prepare_export(plan, target)  # already there: silent
    notices = [r for r in caplog.records if getattr(r, "notice", False)]
    assert [r.getMessage().split(":")[0] for r in notices] == ["preparing the model (once)"]


def test_the_cli_shows_the_export_notice_on_stderr(tmp_path: Path) -> None:
    """The CLI's log handler shows warnings only, except this one INFO line."""
    script = (
        "import logging, sys\n"
        "from bot.cli import _configure_logging\n"
        "_configure_logging(False)\n"
        "logging.getLogger('index.onnx_embedding').info('other detail')\n"
        "from tests.index.test_onnx_embedding import _slow_fake_export\n"
        "from index import onnx_embedding as o\n"
        "o.export_onnx = _slow_fake_export\n"
        "plan = o.plan_for(sys.argv[1])\n"
        "o.prepare_export(plan, o.Path(sys.argv[2]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(bundled_folder()), str(tmp_path / "m-1.onnx")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    assert "preparing the model (once)" in done.stderr
    assert "other detail" not in done.stderr


def test_default_settings_embed_batches_on_every_core(tmp_path: Path) -> None:
    embedder = make_embedder(IndexSettings(data_dir=tmp_path))
    assert isinstance(embedder, OnnxEmbedder)
    assert IndexSettings().embed_threads == 0
    assert embedder.workers == embedding.batch_threads(0) == len(os.sched_getaffinity(0))
    assert SentenceTransformerEmbedder().workers == embedding.batch_threads(0)
    three = make_embedder(IndexSettings(data_dir=tmp_path, embed_threads=3))
    assert isinstance(three, OnnxEmbedder) and three.workers == 3


class _PathRecorder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(32)
        self.paths: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.paths.append("question")
        return super().encode(texts)

    def encode_many(self, texts: list[str]) -> np.ndarray:
        self.paths.append("batch")
        return HashingEmbedder.encode(self, texts)


def test_adding_takes_the_batch_path_and_asking_the_question_path(tmp_path: Path) -> None:
    from index.knowledge import KnowledgeBase
    from index.models import RawArticle

    recorder = _PathRecorder()
    kb = KnowledgeBase(IndexSettings(data_dir=tmp_path), embedder=recorder)
    text = "The port said 1,240 containers were held. Officials expect the backlog to clear."
    kb.add([RawArticle(text=text, title="Port")])
    assert recorder.paths == ["batch"]
    kb.retrieve("default", "How many containers were held?")
    assert recorder.paths == ["batch", "question"]
    kb.close()


@pytest.mark.slow
def test_questions_run_on_one_thread_and_batches_on_several(
    real_embedder: OnnxEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inspected, not timed: the session has one intra-op thread; encode runs one batch at a
    time on the caller's thread; encode_many runs `workers` batches at once."""
    options = real_embedder.session.get_session_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)
    embedder = OnnxEmbedder(
        BUNDLED_MODEL, real_embedder._plan, real_embedder.path.parent, batch_size=4, threads=2
    )
    running, most, seen = [0], [0], set()
    guard = threading.Lock()
    original = OnnxEmbedder._encode_batch

    def counting(self: OnnxEmbedder, encodings: list[Any]) -> np.ndarray:
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
            seen.add(threading.get_ident())
        time.sleep(0.05)  # long enough for the other worker to start its batch
        try:
            return original(self, encodings)
        finally:
            with guard:
                running[0] -= 1

    monkeypatch.setattr(OnnxEmbedder, "_encode_batch", counting)
    batch = embedder.encode_many(TEXTS)
    assert most[0] == 2 and len(seen) == 2
    most[0] = 0
    seen.clear()
    question = embedder.encode(TEXTS)
    assert most[0] == 1 and seen == {threading.get_ident()}
    assert np.abs(batch - question).max() < 1e-5  # same vectors either way


def test_the_torch_backend_raises_its_threads_for_batches_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    seen: list[int] = []

    class FakeModel:
        def encode(self, texts: list[str], **kwargs: object) -> np.ndarray:
            seen.append(torch.get_num_threads())
            return np.ones((len(texts), 4), dtype=np.float32)

    monkeypatch.setattr(SentenceTransformerEmbedder, "_load", lambda self: FakeModel())
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        embedder = SentenceTransformerEmbedder(threads=2)
        embedder.encode(["a question"])
        embedder.encode_many(["a sentence", "another"])
        assert seen == [1, 2] and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(previous)
