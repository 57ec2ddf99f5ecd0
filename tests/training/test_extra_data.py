"""The extra training data: SelQA turned into SQuAD form, and files checked before use."""

import json

import pytest

from training import extra_data
from training.extra_data import ExtraDataError, load_extra, selqa_to_squad
from training.reader_data import build_pairs

SELQA = [
    {
        "article": "Harbour",
        "section": "History",
        "question": "When was the harbour wall finished?",
        "answers": [1],
        "candidates": [
            "The harbour was dug by hand.",
            "Its  wall was finished in 1871 after a storm.",
            "Ships still use it.",
        ],
    },
    {
        "article": "Harbour",
        "section": "History",
        "question": "What is the harbour like?",
        "answers": [0, 2],
        "candidates": ["It is deep.", "It is old.", "It is busy."],
    },
]


def test_selqa_answer_sentence_becomes_the_gold_sentence():
    articles = selqa_to_squad(SELQA)
    assert len(articles) == 1 and len(articles[0]["paragraphs"]) == 1  # two answers: left out
    paragraph = articles[0]["paragraphs"][0]
    answer = paragraph["qas"][0]["answers"][0]
    start = answer["answer_start"]
    assert paragraph["context"][start : start + len(answer["text"])] == answer["text"]
    gold = [p for p in build_pairs(articles, seed=1) if p.kind == "gold"]
    assert [p.candidate.sentence for p in gold] == ["Its wall was finished in 1871 after a storm."]


def _fake_sources(tmp_path, monkeypatch, content: bytes):
    import hashlib

    source = extra_data.ExtraSource(
        name="fake",
        file="fake.json",
        repository="-",
        commit="-",
        path="-",
        sha256=hashlib.sha256(content).hexdigest(),
        licence="CC0",
        convert=selqa_to_squad,
    )
    monkeypatch.setattr(extra_data, "SOURCES", (source,))
    return source


def test_files_are_checked_and_benchmark_titles_dropped(tmp_path, monkeypatch):
    content = json.dumps(SELQA).encode()
    _fake_sources(tmp_path, monkeypatch, content)
    with pytest.raises(ExtraDataError, match="missing"):
        load_extra(tmp_path, set())
    (tmp_path / "fake.json").write_bytes(content + b" ")
    with pytest.raises(ExtraDataError, match="checksum"):
        load_extra(tmp_path, set())
    (tmp_path / "fake.json").write_bytes(content)
    assert len(load_extra(tmp_path, set())["fake"]) == 1
    assert load_extra(tmp_path, {"harbour"})["fake"] == []
