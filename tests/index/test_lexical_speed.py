"""The fast tokenizer must be bm25s's tokenizer exactly, or saved indexes and queries drift."""

from __future__ import annotations

import json

import bm25s
import pytest

from index.lexical import _stemmer, tokenize
from tests.conftest import CORPORA, SHARED, needs_shared

SAMPLES = [
    "How many troops were deployed?",
    "Zelenskyy's 155-millimeter shells: the U.S. sent 1,200 of them in 2024.",
    "",
    "a an the of",
    "Ünïcödé naïve café coöperation straße ΑΘΗΝΑ 東京 x y z",
    "running runs ran runner's RUNNING",
]


def reference(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(
        texts, lower=True, stopwords="en", stemmer=_stemmer(), show_progress=False, return_ids=False
    )


@pytest.mark.parametrize("text", SAMPLES)
def test_same_tokens_as_bm25s(text: str) -> None:
    assert tokenize([text]) == reference([text])


def test_same_tokens_on_real_text() -> None:
    path = SHARED / "bench" / "squad2-dev16.json"
    needs_shared(path)
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    texts = [p["context"] for e in data for p in e["paragraphs"]]
    texts += [qa["question"] for e in data for p in e["paragraphs"] for qa in p["qas"]]
    texts += [f.read_text(encoding="utf-8") for f in sorted(CORPORA.rglob("*.txt"))]
    assert tokenize(texts) == reference(texts)
    assert [tokenize([t])[0] for t in texts[:200]] == reference(texts[:200])
