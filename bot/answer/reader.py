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
from collections.abc import Callable, Sequence
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
MAX_SPAN_TOKENS = 24  # the longest answer span the span head may mark, in word pieces
HIDDEN_OUTPUT = "hidden"  # the reader graph's last hidden states, which the span head reads
SPAN_FILE = "span-int8.onnx"


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


@dataclass(frozen=True)
class AnswerSpan:
    """Where the span head puts the answer in a candidate sentence: character offsets into
    `ReaderInput.sentence`, and the probability of that start and end."""

    start: int
    end: int
    probability: float


@dataclass(frozen=True)
class Reading:
    """What the reader says of each candidate: the probability that it answers and, asked
    for the rows that need one, the span it would mark there (None without a span head)."""

    probabilities: np.ndarray
    span_finder: Callable[[Sequence[int]], list[AnswerSpan | None]] | None = None

    def spans(self, rows: Sequence[int]) -> list[AnswerSpan | None]:
        """The span head's span in each of these rows (each costs about half a sentence's
        reading, so callers ask only for the sentences they show)."""
        if self.span_finder is None or not rows:
            return [None] * len(rows)
        return self.span_finder(rows)


def _sentence_tokens(encoding: Any, sentence: str) -> tuple[int, list[int]]:
    """The sentence's leading-space shift and the indices of the tokens inside the sentence
    (the second text begins with it; the title and previous sentence follow it)."""
    stripped = sentence.strip()
    shift = len(sentence) - len(sentence.lstrip())
    inside = [
        i
        for i, (sequence, (start, end)) in enumerate(
            zip(encoding.sequence_ids, encoding.offsets, strict=True)
        )
        if sequence == 1 and end <= len(stripped) and end > start
    ]
    return shift, inside


def answer_tokens(encoding: Any, sentence: str, start: int, end: int) -> tuple[int, int] | None:
    """The first and last token of `sentence[start:end]` in the encoded pair, None when the cut
    to the token limit removed part of it (training labels the span head with these)."""
    shift, inside = _sentence_tokens(encoding, sentence)
    start, end = start - shift, end - shift
    hit = [i for i in inside if encoding.offsets[i][0] < end and encoding.offsets[i][1] > start]
    if not hit or encoding.offsets[hit[0]][0] > start or encoding.offsets[hit[-1]][1] < end:
        return None
    return hit[0], hit[-1]


def best_span(
    encoding: Any, sentence: str, start_logits: np.ndarray, end_logits: np.ndarray
) -> AnswerSpan | None:
    """The most probable start <= end (at most MAX_SPAN_TOKENS apart) inside the sentence,
    widened to whole words."""
    shift, inside = _sentence_tokens(encoding, sentence)
    if not inside:
        return None
    starts = _softmax(start_logits[inside])
    ends = _softmax(end_logits[inside])
    joint = np.triu(np.outer(starts, ends)) - np.triu(np.outer(starts, ends), MAX_SPAN_TOKENS)
    first, last = np.unravel_index(int(np.argmax(joint)), joint.shape)
    begin = encoding.offsets[inside[first]][0] + shift
    finish = encoding.offsets[inside[last]][1] + shift
    while begin > 0 and sentence[begin - 1].isalnum():
        begin -= 1
    while finish < len(sentence) and sentence[finish].isalnum():
        finish += 1
    return AnswerSpan(begin, finish, float(joint[first, last]))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x.astype(np.float64) - float(np.max(x)))
    return e / e.sum()


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
    span_file: str = ""  # the span head (training/train_span.py); "" for none
    span_sha256: str = ""

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
            span_file=str(raw.get("span_file", "")),
            span_sha256=str(raw.get("span_sha256", "")),
        )


class ReaderUnavailable(Exception):
    """The shipped reader cannot be used (missing, damaged, another format)."""


class SentenceReader:
    """The cross-encoder, loaded once (checksum verified) and shared by threads."""

    def __init__(
        self, folder: Path = MODEL_DIR, threads: int = 1, max_tokens: int | None = None
    ) -> None:
        self.folder = folder
        self._threads = threads
        self.card = _read_card(folder)
        # The card's limit unless asked for another (BRIEFBOT_READER_TOKENS): the weights read
        # longer inputs too, at a cost (docs/READER.md, "Reading longer sentences").
        self.max_tokens = max_tokens or self.card.max_tokens
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._span: Any = None

    @property
    def abstain_below(self) -> float:
        return self.card.abstain_below

    def load(self) -> None:
        """Verify and open the model now (it is otherwise opened on first use)."""
        with self._lock:
            if self._session is None:
                self._session, self._tokenizer = self._open()
                self._span = self._open_span()

    def _verified(self, name: str, sha256: str) -> bytes:
        path = self.folder / name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ReaderUnavailable(f"{path} cannot be read ({exc.strerror})") from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ReaderUnavailable(f"{path} is damaged (checksum mismatch)")
        return data

    def _open(self) -> tuple[Any, Any]:
        data = self._verified(self.card.onnx_file, self.card.sha256)
        try:
            session = onnx_session(data, self._threads)
            tokenizer = open_tokenizer(self.folder, self.max_tokens)
        except Exception as exc:  # noqa: BLE001 - onnxruntime and tokenizers raise their own
            raise ReaderUnavailable(f"{self.folder} cannot be loaded ({exc})") from exc
        return session, tokenizer

    def _open_span(self) -> Any:
        """The span head, or None (one warning) when the card names none or it cannot be
        used: sentences are still chosen by the reader, spans marked by the rules alone."""
        if not self.card.span_file:
            return None
        try:
            session = onnx_session(
                self._verified(self.card.span_file, self.card.span_sha256), self._threads
            )
            if HIDDEN_OUTPUT not in {o.name for o in self._session.get_outputs()}:
                raise ReaderUnavailable(f"{self.card.onnx_file} has no {HIDDEN_OUTPUT} output")
        except Exception as exc:  # noqa: BLE001 - ours, or onnxruntime's own
            log.warning("answer spans unavailable (%s); the span rules mark answers", exc)
            return None
        return session

    def logits(self, question: str, items: Sequence[ReaderInput]) -> np.ndarray:
        """The reader's logit for each item (sigmoid: the probability that it answers)."""
        return self._run(question, items)[0]

    def _run(
        self, question: str, items: Sequence[ReaderInput]
    ) -> tuple[np.ndarray, Callable[[Sequence[int]], list[AnswerSpan | None]] | None]:
        """The sentences are read as one batch at the card's token limit, each in a run of its
        own past it. Why: rows of a batch are padded to the longest, which costs little when
        every row is short (at 64 word pieces, one run by row was 2 ms a question slower in
        the speed benchmark) and more than the extra runs once rows can be long (at 96: six
        rows in about 61 ms a question one by one, 70 ms as a batch). In a batch, int8's
        per-run activation scaling lets a sentence's score move a little with its companions.
        """
        self.load()
        if not items:
            return np.zeros(0, dtype=np.float32), None
        encodings = self._tokenizer.encode_batch([pair_texts(question, i) for i in items])
        alone = self.max_tokens > self.card.max_tokens
        groups = [[row] for row in range(len(items))] if alone else [list(range(len(items)))]
        feeds = [padded_inputs([encodings[row] for row in group]) for group in groups]
        where = {row: (g, at) for g, group in enumerate(groups) for at, row in enumerate(group)}
        if self._span is None:
            runs = [self._session.run(["logits"], feed)[0] for feed in feeds]
            return np.concatenate([np.reshape(r, -1) for r in runs]).astype(np.float32), None
        outputs = [self._session.run(["logits", HIDDEN_OUTPUT], feed) for feed in feeds]
        logits = np.concatenate([np.reshape(out[0], -1) for out in outputs]).astype(np.float32)

        def spans(rows: Sequence[int]) -> list[AnswerSpan | None]:
            found = []
            for row in rows:
                g, at = where[row]
                span_feed = {
                    "hidden": outputs[g][1][at : at + 1],
                    "attention_mask": feeds[g]["attention_mask"][at : at + 1],
                    "token_type_ids": feeds[g]["token_type_ids"][at : at + 1],
                }
                ends = np.asarray(self._span.run(None, span_feed)[0], dtype=np.float32)
                found.append(
                    best_span(encodings[row], items[row].sentence, ends[0, :, 0], ends[0, :, 1])
                )
            return found

        return logits, spans

    def probabilities(self, question: str, items: Sequence[ReaderInput]) -> np.ndarray:
        return _sigmoid(self.logits(question, items))

    def read(self, question: str, items: Sequence[ReaderInput]) -> Reading:
        """Each item's probability of answering, and the way to its span (`Reading.spans`)."""
        logits, spans = self._run(question, items)
        return Reading(_sigmoid(logits), spans)


# Graph rewrites ONNX Runtime would apply but that make the int8 graphs slower: its fused
# SkipLayerNormalization took 0.75 ms per layer on six 64-token rows (ONNX Runtime 1.32, AVX-512
# CPU), about ten times the plain Add + LayerNormalization it replaces; without it the reader
# reads a question's six sentences in 32.8 ms instead of 36.7 (docs/BENCHMARKS.md).
SLOW_FUSIONS = ("SkipLayerNormFusion",)


def onnx_session(data: bytes, threads: int) -> Any:
    """An ONNX Runtime session on the CPU with `threads` threads (0: its default); training
    opens the reader's graph the same way to read its hidden states."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(
        data, options, providers=["CPUExecutionProvider"], disabled_optimizers=list(SLOW_FUSIONS)
    )


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))


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


_shared: dict[tuple[Path, int, int | None], SentenceReader | None] = {}
_shared_lock = threading.Lock()


def shared_reader(
    folder: Path = MODEL_DIR, threads: int = 1, max_tokens: int | None = None
) -> SentenceReader | None:
    """One verified reader per process, or None (after one warning) when it cannot be used:
    the rule-based reader answers instead."""
    key = (folder, threads, max_tokens)
    with _shared_lock:
        if key not in _shared:
            try:
                reader = SentenceReader(folder, threads, max_tokens)
                reader.load()
            except ReaderUnavailable as exc:
                log.warning("answer reader unavailable (%s); using the rule-based reader", exc)
                reader = None
            _shared[key] = reader
        return _shared[key]
