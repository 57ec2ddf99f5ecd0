"""The sentence-transformers model run by ONNX Runtime, so answering never imports torch.

Why: importing torch and sentence-transformers costs 5-8 s on this hardware, which made a
cold `briefbot ask` take ~10 s for a 10 ms encode. ONNX Runtime and `tokenizers` import in
well under a second. The ONNX file is not downloaded: it is exported once, locally, from the
very weights the torch path loads (the bundled model included), and kept in the per-user
cache (`default_cache_dir`, or BRIEFBOT_MODEL_CACHE_DIR) under a key of those weights, so
every data dir on the machine shares one export. The two paths give the same vectors (max abs
difference ~2e-7, measured on mixed-length batches), so an index built by either answers
identically with the other, and the manifest's model name does not change with the backend.

Only the common sentence-transformers layout is exported (a local folder with a transformer,
mean pooling and normalization, and a `tokenizer.json`); any other model stays on torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.atomic import write_atomic
from index.embedding import SentenceTransformerEmbedder, Vectors, batch_threads, resolve_model
from index.offline import quiet_offline_libraries

log = logging.getLogger(__name__)

# Bump when the exported graph or its inputs change, so old cached files are not reused.
# 2: eager attention, fused by ONNX Runtime's transformer optimizer (attention, layer norms,
# GELU): the same vectors (max abs difference 2e-7) for less work per token.
EXPORT_FORMAT = 2
# What the user sees (stderr, through the CLI's log handler) when the export happens.
PREPARING = "preparing the model (once)"
NOTICE = {"notice": True}
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_POOLING = "sentence_transformers.models.Pooling"
_SUPPORTED = (
    "sentence_transformers.models.Transformer",
    _POOLING,
    "sentence_transformers.models.Normalize",
)


@dataclass(frozen=True)
class OnnxPlan:
    """What exporting and running one local model needs, read from its folder."""

    location: Path
    dimension: int
    heads: int
    max_tokens: int
    key: str  # names the cached export; changes when the weights or the format change


def plan_for(location: str) -> OnnxPlan | None:
    """An export plan when the model folder has the supported layout, else None (use torch)."""
    folder = Path(location)
    try:
        modules = json.loads((folder / "modules.json").read_text())
        types = tuple(m["type"] for m in modules)
        pooling_path = next(m["path"] for m in modules if m["type"] == _POOLING)
        pooling = json.loads((folder / pooling_path / "config.json").read_text())
        config = json.loads((folder / "config.json").read_text())
        st_config = json.loads((folder / "sentence_bert_config.json").read_text())
        weights = _weight_files(folder)[0]
    except (OSError, ValueError, KeyError, StopIteration, IndexError):
        return None
    modes = {k: v for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
    mean_only = set(modes) == {"pooling_mode_mean_tokens"}
    if types != _SUPPORTED or not mean_only or not (folder / "tokenizer.json").is_file():
        return None
    stat = weights.stat()
    fingerprint = f"{EXPORT_FORMAT}|{folder.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|"
    fingerprint += (folder / "config.json").read_text()
    return OnnxPlan(
        location=folder,
        dimension=int(config["hidden_size"]),
        heads=int(config.get("num_attention_heads") or 12),
        max_tokens=int(st_config.get("max_seq_length") or 256),
        key=hashlib.sha256(fingerprint.encode()).hexdigest()[:16],
    )


def _weight_files(folder: Path) -> list[Path]:
    return [p for p in (folder / "model.safetensors", folder / "pytorch_model.bin") if p.is_file()]


def default_cache_dir() -> Path:
    """The per-user cache folder of the platform (~/.cache/briefbot/models on Linux): one
    export per model and machine, not one per data dir (each cost ~5 s and a torch import)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("briefbot", appauthor=False)) / "models"


def export_onnx(plan: OnnxPlan, target: Path) -> None:
    """Write the transformer of `plan` as ONNX to `target`, atomically (temp file + rename).

    Needs torch, transformers and onnx; it runs once per model and machine, on whichever
    command first needs the model. Attention is traced in its eager form, which ONNX Runtime's
    transformer optimizer fuses into one Attention node per layer (torch's SDPA form is not
    recognized and stays a dozen small nodes).
    """
    quiet_offline_libraries()
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(plan.location), attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    def write(temp: Path) -> None:
        trace_to_onnx(LastHiddenState(), temp, "last_hidden_state", {0: "batch", 1: "tokens"})
        _fuse(temp, plan)

    write_atomic(target, write)


def _fuse(path: Path, plan: OnnxPlan) -> None:
    """Rewrite the traced graph at `path` with fused BERT operators, in place. Fusing saves
    2-3% of encoding time; if the optimizer fails, the traced graph (same vectors) is kept."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        fused = optimize_model(
            str(path), model_type="bert", num_heads=plan.heads, hidden_size=plan.dimension
        )
        fused.save_model_to_file(str(path))
    except Exception as exc:  # noqa: BLE001 - an optimization, never a reason to fail
        log.warning("could not fuse the exported model (%s); using it unfused", exc)
        return
    log.debug("fused operators: %s", fused.get_fused_operator_statistics())


def trace_to_onnx(module: Any, path: Path, output: str, output_axes: dict[int, str]) -> None:
    """Trace a torch module taking a BERT model's three inputs (batch and tokens dynamic) to
    ONNX at `path`. The answer reader's training exports its cross-encoder with it too."""
    import torch

    ids = torch.ones((2, 8), dtype=torch.long)
    mask = torch.ones((2, 8), dtype=torch.long)
    mask[1, 5:] = 0  # a padded row, so tracing keeps the mask (an all-ones one may be dropped)
    dummy = (ids, mask, torch.zeros((2, 8), dtype=torch.long))
    axes: dict[str, dict[int, str]] = {name: {0: "batch", 1: "tokens"} for name in _INPUTS}
    axes[output] = output_axes
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about shapes fixed at export time
        torch.onnx.export(
            module,
            dummy,
            str(path),
            input_names=list(_INPUTS),
            output_names=[output],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def export_name(model_name: str, plan: OnnxPlan) -> str:
    """`<model>-<key>.onnx`: the cache is shared by every data dir, so by several models too."""
    return f"{_slug(model_name)}-{plan.key}.onnx"


def _slug(model_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._]+", "_", model_name).strip("._") or "model"


def prepare_export(plan: OnnxPlan, target: Path, replace: bool = False) -> bool:
    """Make the export at `target` unless it exists (or `replace`: it exists but is damaged);
    True if this call exported. Safe when several processes prepare it at once: one exports
    under a lock file while the others wait, then find the file and use it."""
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    before = target.stat().st_mtime_ns if replace and target.is_file() else None
    with FileLock(str(target.with_suffix(".lock")), timeout=900):
        if target.is_file() and (before is None or target.stat().st_mtime_ns != before):
            return False  # made (or re-made) by another process while this one waited
        # `notice`: the CLI shows this one INFO line by default (it takes seconds, once).
        log.info("%s: exporting it to ONNX in %s", PREPARING, target.parent, extra=NOTICE)
        export_onnx(plan, target)
        if before is None:  # a first export of these weights: older ones are obsolete
            _remove_other_exports(target)
        return True


def _remove_other_exports(keep: Path) -> None:
    """Exports of the same model's older weights (a reinstalled model changes the key) are 90
    MB each and would pile up; other models' exports stay (other data dirs may use them). A
    process still using a removed file keeps its loaded copy."""
    model = keep.name.rsplit("-", 1)[0]
    for old in keep.parent.glob(f"{model}-*.onnx"):
        if old != keep and old.name.rsplit("-", 1)[0] == model:
            old.unlink(missing_ok=True)
            old.with_suffix(".lock").unlink(missing_ok=True)


def padded_inputs(encodings: list[Any]) -> dict[str, npt.NDArray[np.int64]]:
    """A BERT model's three inputs for `tokenizers` encodings, padded to the longest (the
    answer reader in bot/answer/reader.py feeds its model the same way)."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, e in enumerate(encodings):
        n = len(e.ids)
        ids[row, :n] = e.ids
        mask[row, :n] = 1
        types[row, :n] = e.type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


class OnnxEmbedder:
    """Same name and vectors as SentenceTransformerEmbedder, without torch on the query path.

    The first encode loads the cached export, exporting it first if it is missing. If the
    export cannot be made (say `onnx` is not installed), it logs why once and falls back to
    the torch embedder, so a missing optional piece costs speed, never answers.

    Threads: the session runs each batch on ONE thread, so a question never waits on threads
    spinning for a busy core (the bot answers many at once). `encode_many` (adding, importing,
    reindexing) runs `threads` batches at once on that same session (0: one per core), which
    uses every core without a second copy of the weights.
    """

    def __init__(
        self,
        model: str,
        plan: OnnxPlan,
        cache_dir: Path,
        batch_size: int = 64,
        threads: int = 0,
    ) -> None:
        self._model = model
        self._name, _ = resolve_model(model)
        self._plan = plan
        self.path = cache_dir / export_name(self._name, plan)
        self._batch_size = batch_size
        self.workers = batch_threads(threads)
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._fallback: SentenceTransformerEmbedder | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._plan.dimension

    @property
    def backend(self) -> str:
        """'onnx' or 'torch' (after a fallback); for `run --check` and benchmarks."""
        self._load()
        return "torch" if self._fallback is not None else "onnx"

    @property
    def session(self) -> Any:
        """The ONNX Runtime session (loaded on first use); its options say its threads."""
        self._load()
        return self._session

    def _load(self) -> None:
        with self._lock:
            if self._session is not None or self._fallback is not None:
                return
            try:
                self._session, self._tokenizer = self._open_or_export()
            except Exception as exc:  # noqa: BLE001 - any failure: the torch path still answers
                log.warning("ONNX encoder unavailable (%s); using torch", exc)
                self._fallback = SentenceTransformerEmbedder(
                    self._model, self._batch_size, self.workers
                )

    def _open_or_export(self) -> tuple[Any, Any]:
        """Open the cached export, making it first if missing; an unreadable cached file (say
        damaged on disk) is replaced by a fresh export once rather than kept forever."""
        if not self.path.is_file():
            prepare_export(self._plan, self.path)
            return self._open()
        try:
            return self._open()
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own error types
            log.warning(
                "cached ONNX model %s is unreadable (%s); exporting it again", self.path, exc
            )
            prepare_export(self._plan, self.path, replace=True)
            return self._open()

    def _open(self) -> tuple[Any, Any]:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(self._plan.location / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(self._plan.max_tokens)
        return session, tokenizer

    def encode(self, texts: list[str]) -> Vectors:
        """Questions and other small work: one batch at a time, one thread."""
        return self._encode(texts, batch=False)

    def encode_many(self, texts: list[str]) -> Vectors:
        """Batch work (add, import, reindex): `workers` batches at once."""
        return self._encode(texts, batch=True)

    def _encode(self, texts: list[str], batch: bool) -> Vectors:
        self._load()
        if self._fallback is not None:
            return self._fallback.encode_many(texts) if batch else self._fallback.encode(texts)
        workers = self.workers if batch else 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        # Longest first, as sentence-transformers does: batches pad to similar lengths.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        batches = [order[i : i + self._batch_size] for i in range(0, len(order), self._batch_size)]

        def run(rows: list[int]) -> None:
            out[rows] = self._encode_batch([encodings[i] for i in rows])

        if workers <= 1 or len(batches) == 1:
            for rows in batches:
                run(rows)
        else:  # session.run releases the GIL: each worker keeps one core busy
            with ThreadPoolExecutor(min(workers, len(batches))) as pool:
                list(pool.map(run, batches))
        return out

    def _encode_batch(self, encodings: list[Any]) -> Vectors:
        feed = padded_inputs(encodings)
        mask = feed["attention_mask"]
        hidden = self._session.run(None, feed)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)
