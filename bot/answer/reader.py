"""Briefbot's answer reader: a small cross-encoder, trained here, that reads the question against
each candidate sentence and gives the probability that the sentence answers it.

Why a model: choosing the sentence by word overlap and cosine tops out near 0.79 on SQuAD 2.0
while the right sentence is among the candidates 96% of the time; only reading the question
and the sentence together tells "South Korean troops" from a sentence about North Korean ones.

The weights ship inside the package (`bot/answer/reader_model/`: an int8 ONNX graph, its
tokenizer and `reader.json` with the checksum and format), are never downloaded, and run with
ONNX Runtime. `training/train_reader.py` made them; docs/READER.md is the model card. A missing
or damaged file costs one warning and the rule-based reader, never an answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.onnx_embedding import padded_inputs

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).resolve().parent / "reader_model"
# The input layout; a model trained for another layout is refused rather than misread.
INPUT_FORMAT = 1
_QUESTION_WORDS = 48  # a longer question is cut before tokenizing, so it never crowds out
_CONTEXT_SEPARATOR = " || "


@dataclass(frozen=True)
class ReaderInput:
    """One candidate as the reader sees it: the sentence, then its article's title and the
    sentence before it (what "he" or "the deal" refers to), cut first when space runs out."""

    sentence: str
    title: str = ""
    previous: str = ""


def pair_texts(question: str, item: ReaderInput) -> tuple[str, str]:
    """The (first, second) texts of the cross-encoder input; training uses this very function."""
    words = question.split()
    first = " ".join(words[:_QUESTION_WORDS])
    context = ": ".join(x for x in (item.title.strip(), item.previous.strip()) if x)
    second = item.sentence.strip()
    if context:
        second = f"{second}{_CONTEXT_SEPARATOR}{context}"
    return first, second


def open_tokenizer(folder: Path, max_tokens: int) -> Any:
    """The tokenizer as the reader uses it: pairs cut longest-first to `max_tokens`."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_tokens, strategy="longest_first")
    return tokenizer


def model_inputs(tokenizer: Any, pairs: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    """The padded arrays the model reads (training feeds the same ones to torch)."""
    return padded_inputs(tokenizer.encode_batch(pairs))


@dataclass(frozen=True)
class ReaderCard:
    """`reader.json`: what the shipped files are and how they were made."""

    onnx_file: str
    sha256: str
    max_tokens: int
    input_format: int
    abstain_below: float  # the default threshold on the reader's probability
    trained: str  # the command that made it

    @classmethod
    def read(cls, folder: Path) -> ReaderCard:
        raw = json.loads((folder / "reader.json").read_text(encoding="utf-8"))
        return cls(
            onnx_file=str(raw["onnx_file"]),
            sha256=str(raw["sha256"]),
            max_tokens=int(raw["max_tokens"]),
            input_format=int(raw["input_format"]),
            abstain_below=float(raw["abstain_below"]),
            trained=str(raw.get("trained", "")),
        )


class ReaderUnavailable(Exception):
    """The shipped reader cannot be used (missing, damaged, another format)."""


class SentenceReader:
    """The cross-encoder, loaded once (checksum verified) and shared by threads."""

    def __init__(self, folder: Path = MODEL_DIR, threads: int = 1) -> None:
        self.folder = folder
        self._threads = threads
        self.card = _read_card(folder)
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    @property
    def abstain_below(self) -> float:
        return self.card.abstain_below

    def load(self) -> None:
        """Verify and open the model now (it is otherwise opened on first use)."""
        with self._lock:
            if self._session is None:
                self._session, self._tokenizer = self._open()

    def _open(self) -> tuple[Any, Any]:
        import onnxruntime as ort

        path = self.folder / self.card.onnx_file
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ReaderUnavailable(f"{path} cannot be read ({exc.strerror})") from exc
        if hashlib.sha256(data).hexdigest() != self.card.sha256:
            raise ReaderUnavailable(f"{path} is damaged (checksum mismatch)")
        options = ort.SessionOptions()
        if self._threads:
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
            tokenizer = open_tokenizer(self.folder, self.card.max_tokens)
        except Exception as exc:  # noqa: BLE001 - onnxruntime and tokenizers raise their own
            raise ReaderUnavailable(f"{self.folder} cannot be loaded ({exc})") from exc
        return session, tokenizer

    def logits(self, question: str, items: Sequence[ReaderInput]) -> np.ndarray:
        """The reader's logit for each item (sigmoid: the probability that it answers)."""
        self.load()
        if not items:
            return np.zeros(0, dtype=np.float32)
        feed = model_inputs(self._tokenizer, [pair_texts(question, i) for i in items])
        return np.asarray(self._session.run(None, feed)[0], dtype=np.float32).reshape(-1)

    def probabilities(self, question: str, items: Sequence[ReaderInput]) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(question, items).astype(np.float64)))


def _read_card(folder: Path) -> ReaderCard:
    try:
        card = ReaderCard.read(folder)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReaderUnavailable(f"{folder / 'reader.json'} is missing or unreadable") from exc
    if card.input_format != INPUT_FORMAT:
        raise ReaderUnavailable(
            f"{folder} was trained for input format {card.input_format}, not {INPUT_FORMAT}"
        )
    return card


_shared: dict[tuple[Path, int], SentenceReader | None] = {}
_shared_lock = threading.Lock()


def shared_reader(folder: Path = MODEL_DIR, threads: int = 1) -> SentenceReader | None:
    """One verified reader per process, or None (after one warning) when it cannot be used:
    the rule-based reader answers instead."""
    key = (folder, threads)
    with _shared_lock:
        if key not in _shared:
            try:
                reader = SentenceReader(folder, threads)
                reader.load()
            except ReaderUnavailable as exc:
                log.warning("answer reader unavailable (%s); using the rule-based reader", exc)
                reader = None
            _shared[key] = reader
        return _shared[key]
