"""How an answer is made from retrieved passages: strategies behind one small protocol, and
the one place that chooses between them.

The extractive answerer (the trained reader, or the rules) always works, with no key and no
network; the written answerer asks an OpenAI-compatible LLM and falls back to the extractive
answer whenever the LLM fails or writes something the checks reject. A new strategy (another
model, a remote service) implements `Answerer` and is chosen in `choose_answerer`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from bot.answer.extractive import (
    ReaderPolicy,
    SentenceEncoder,
    SentenceScorer,
    Weights,
    answer_question,
)
from bot.answer.models import Answer
from bot.settings import Settings
from index.models import Passage

if TYPE_CHECKING:  # imported where used: an extractive `briefbot ask` never imports openai
    import openai

PartialCallback = Callable[[str], None]


@dataclass(frozen=True)
class Evidence:
    """What retrieval found for a question: everything an answerer reads."""

    question: str
    question_vector: np.ndarray
    passages: Sequence[Passage]
    encode: SentenceEncoder  # sentence vectors (stored ones, the model for the rest)
    max_citations: int


class Answerer(Protocol):
    @property
    def streams(self) -> bool:
        """True when `answer` may call `on_partial` (the answer is written as it arrives)."""
        ...

    def answer(self, evidence: Evidence, on_partial: PartialCallback | None = None) -> Answer:
        """The answer with its citations; `timings_ms` holds "answer" (choosing the evidence)
        and, when they ran, "reader" and "llm"."""
        ...


class ExtractiveAnswerer:
    """The answer sentence chosen from the passages by the trained reader (or the rules)."""

    streams = False

    def __init__(
        self,
        reader: SentenceScorer | None,
        abstain_below: float,
        policy: ReaderPolicy | None = None,
    ) -> None:
        self.reader = reader
        self.abstain_below = abstain_below
        self.policy = policy or ReaderPolicy()

    def answer(self, evidence: Evidence, on_partial: PartialCallback | None = None) -> Answer:
        started = time.perf_counter()
        answer = answer_question(
            evidence.question,
            evidence.question_vector,
            evidence.passages,
            evidence.encode,
            Weights(abstain_below=self.abstain_below),
            max_citations=evidence.max_citations,
            reader=self.reader,
            policy=self.policy,
        )
        took = round((time.perf_counter() - started) * 1000, 1)
        return replace(answer, timings_ms={"answer": took, **answer.timings_ms})


class WrittenAnswerer:
    """The LLM's answer from the top passages, checked against them; the extractive answer
    (always computed first) when the LLM is not configured, fails or is rejected."""

    streams = True

    def __init__(
        self,
        settings: Settings,
        client: Callable[[], openai.OpenAI],
        extractive: ExtractiveAnswerer,
    ) -> None:
        self.settings = settings
        self.client = client  # called only when an LLM is configured: it imports openai
        self.extractive = extractive

    def answer(self, evidence: Evidence, on_partial: PartialCallback | None = None) -> Answer:
        from bot.answer.written import fallback, write_answer

        extractive = self.extractive.answer(evidence)
        started = time.perf_counter()
        if not llm_configured(self.settings):
            written = fallback(
                extractive, "no LLM is configured (set OPENAI_BASE_URL or OPENAI_API_KEY)"
            )
        else:
            written = write_answer(
                self.client(),
                self.settings,
                evidence.question,
                evidence.passages,
                extractive,
                on_partial,
            )
        took = round((time.perf_counter() - started) * 1000, 1)
        return replace(written, timings_ms={**extractive.timings_ms, "llm": took})


def llm_configured(settings: Settings) -> bool:
    """An endpoint counts as configured when a base URL or an API key is set."""
    return bool(settings.openai_base_url or settings.openai_api_key)


def wants_llm(settings: Settings) -> bool:
    """`answer_mode` llm, or auto with an endpoint configured."""
    mode = settings.answer_mode
    return mode == "llm" or (mode == "auto" and llm_configured(settings))


def choose_answerer(
    settings: Settings,
    reader: SentenceScorer | None,
    abstain_below: float,
    client: Callable[[], openai.OpenAI],
) -> Answerer:
    """The one place that decides how answers are made."""
    policy = ReaderPolicy(model_spans="prefer" if settings.answer_spans == "model" else "never")
    extractive = ExtractiveAnswerer(reader, abstain_below, policy)
    return WrittenAnswerer(settings, client, extractive) if wants_llm(settings) else extractive
