"""The shipped answer reader: it loads (checksum verified), gives fixed scores on fixed inputs,
and a damaged, missing or foreign model costs one warning and the rules, never an answer."""

import json
import logging
import shutil

import numpy as np
import pytest

from bot.answer import reader as reader_module
from bot.answer.reader import (
    MODEL_DIR,
    ReaderInput,
    ReaderUnavailable,
    SentenceReader,
    pair_texts,
    shared_reader,
)
from bot.service import Briefbot, abstain_threshold, answer_reader
from bot.settings import Settings
from index.models import RawArticle
from tests.bot.test_extractive import TROOPS

QUESTION = "How many South Korean troops were sent to Ukraine?"
ANSWERING = ReaderInput(
    "About 1,200 South Korean troops were sent to Ukraine in March.", "Deployment", ""
)
OTHER_TROOPS = ReaderInput(
    "At least 11,000 North Korean troops have been deployed to Russia.", "Deployment", ""
)
UNRELATED = ReaderInput("The port strike entered its third week on Monday.", "Strike", "")
# Logits of the shipped model for the three inputs above, read as one batch (after retraining,
# print SentenceReader().logits(QUESTION, [ANSWERING, OTHER_TROOPS, UNRELATED]) and paste).
EXPECTED_LOGITS = [2.9771, -2.8245, -4.0488]


@pytest.fixture(scope="module")
def shipped() -> SentenceReader:
    reader = SentenceReader()
    reader.load()
    return reader


def test_the_shipped_model_is_small_and_its_card_complete():
    card = json.loads((MODEL_DIR / "reader.json").read_text())
    model = MODEL_DIR / card["onnx_file"]
    assert model.stat().st_size < 30 * 1024 * 1024
    assert (MODEL_DIR / "tokenizer.json").is_file()
    assert card["trained"].startswith("python -m training.train_reader")
    assert 0.0 < card["abstain_below"] < 1.0


def test_fixed_scores_on_fixed_inputs(shipped):
    logits = shipped.logits(QUESTION, [ANSWERING, OTHER_TROOPS, UNRELATED])
    np.testing.assert_allclose(logits, EXPECTED_LOGITS, atol=1e-3)
    probabilities = shipped.probabilities(QUESTION, [ANSWERING, OTHER_TROOPS, UNRELATED])
    assert probabilities[0] > shipped.abstain_below > probabilities[2]
    assert probabilities[0] > probabilities[1]
    # int8 dynamic quantization scales activations per batch, so a score moves a little with
    # the company it is read in (measured: up to ~0.2 in logit), never its meaning.
    alone = shipped.logits(QUESTION, [OTHER_TROOPS])
    np.testing.assert_allclose(alone, logits[1:2], atol=0.3)
    again = shipped.logits(QUESTION, [ANSWERING, OTHER_TROOPS, UNRELATED])
    np.testing.assert_array_equal(again, logits)


def test_long_questions_and_sentences_are_cut_not_refused(shipped):
    long_sentence = ReaderInput("troops " * 2000, "t" * 500, "p " * 500)
    assert np.isfinite(shipped.logits("how many " * 300 + "?", [long_sentence])).all()
    first, _ = pair_texts("word " * 300, long_sentence)
    assert len(first.split()) == 48


def _copy_model(tmp_path):
    folder = tmp_path / "reader_model"
    shutil.copytree(MODEL_DIR, folder)
    return folder


def _damage(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_damaged_weights_are_refused_by_the_checksum(tmp_path):
    folder = _copy_model(tmp_path)
    card = json.loads((folder / "reader.json").read_text())
    _damage(folder / card["onnx_file"])
    with pytest.raises(ReaderUnavailable, match="checksum"):
        SentenceReader(folder).load()


@pytest.mark.parametrize("remove", ["onnx", "reader.json", "tokenizer.json"])
def test_missing_files_make_the_reader_unavailable(tmp_path, remove):
    folder = _copy_model(tmp_path)
    card = json.loads((folder / "reader.json").read_text())
    (folder / (card["onnx_file"] if remove == "onnx" else remove)).unlink()
    with pytest.raises(ReaderUnavailable):
        SentenceReader(folder).load()


def test_a_model_for_another_input_format_is_refused(tmp_path):
    folder = _copy_model(tmp_path)
    card = json.loads((folder / "reader.json").read_text())
    card["input_format"] = 99
    (folder / "reader.json").write_text(json.dumps(card))
    with pytest.raises(ReaderUnavailable, match="format 99"):
        SentenceReader(folder).load()


def test_a_damaged_model_costs_one_warning_and_the_rules_answer(
    tmp_path, monkeypatch, caplog, fake_model
):
    folder = _copy_model(tmp_path)
    card = json.loads((folder / "reader.json").read_text())
    _damage(folder / card["onnx_file"])
    monkeypatch.setattr(reader_module, "MODEL_DIR", folder)
    monkeypatch.setattr(reader_module, "_shared", {})
    monkeypatch.setattr(reader_module.shared_reader, "__defaults__", (folder, 1, None))
    settings = Settings(data_dir=tmp_path / "data")
    app = Briefbot(settings)
    app.knowledge.add([RawArticle(text=TROOPS, title="Troops", origin="troops.txt")])
    with caplog.at_level(logging.WARNING):
        first = app.ask("How many troops were deployed?")
        second = app.ask("How many troops were deployed?")
    app.close()
    warnings = [r for r in caplog.records if "answer reader unavailable" in r.getMessage()]
    assert len(warnings) == 1 and "checksum" in warnings[0].getMessage()
    assert first.reader == second.reader == "rules"
    assert "11,000" in first.text
    assert shared_reader(folder) is None


def test_the_reader_setting_chooses_and_sets_the_default_threshold(tmp_path):
    model = Settings(data_dir=tmp_path)
    rules = Settings(data_dir=tmp_path, reader="rules")
    assert abstain_threshold(model) == SentenceReader().abstain_below
    assert abstain_threshold(rules) == 0.40
    assert abstain_threshold(Settings(data_dir=tmp_path, abstain_threshold=0.7)) == 0.7


def test_a_wrong_reader_setting_is_refused(monkeypatch):
    from pydantic import ValidationError

    monkeypatch.setenv("BRIEFBOT_READER", "magic")
    with pytest.raises(ValidationError, match="reader"):
        Settings()


def test_the_shipped_span_head_marks_the_answers_words(shipped):
    reading = shipped.read(QUESTION, [ANSWERING, OTHER_TROOPS, UNRELATED])
    span = reading.spans([0])[0]
    assert span is not None
    assert "1,200" in ANSWERING.sentence[span.start : span.end]
    assert span.end - span.start <= len("About 1,200 South Korean troops")
    # The span head reads the reader's hidden states; it never changes a sentence's score.
    np.testing.assert_allclose(
        reading.probabilities, 1 / (1 + np.exp(-np.array(EXPECTED_LOGITS))), atol=1e-3
    )


@pytest.mark.parametrize("harm", ["damage", "remove"])
def test_a_broken_span_head_costs_one_warning_and_keeps_the_reader(tmp_path, caplog, harm):
    folder = _copy_model(tmp_path)
    span_file = folder / json.loads((folder / "reader.json").read_text())["span_file"]
    _damage(span_file) if harm == "damage" else span_file.unlink()
    reader = SentenceReader(folder)
    with caplog.at_level(logging.WARNING):
        reader.load()
    warnings = [r for r in caplog.records if "answer spans unavailable" in r.getMessage()]
    assert len(warnings) == 1
    assert ("checksum" if harm == "damage" else "cannot be read") in warnings[0].getMessage()
    reading = reader.read(QUESTION, [ANSWERING, OTHER_TROOPS, UNRELATED])
    assert reading.spans([0, 1, 2]) == [None, None, None]
    np.testing.assert_allclose(
        reader.logits(QUESTION, [ANSWERING, OTHER_TROOPS, UNRELATED]), EXPECTED_LOGITS, atol=1e-3
    )


def test_a_longer_token_limit_reads_what_the_cards_limit_cuts(tmp_path):
    preamble = "Officials in the capital said on Monday, after a long meeting of the cabinet, " * 3
    long_answer = ReaderInput(preamble + ANSWERING.sentence, "Deployment", "")
    card_limit = SentenceReader()
    longer = SentenceReader(max_tokens=96)
    assert card_limit.max_tokens == 64 and longer.max_tokens == 96
    # Past the card's limit each sentence is read in a run of its own: a short sentence scores
    # as it does alone at the card's limit, whatever it is read with, and spans still work.
    both = longer.logits(QUESTION, [ANSWERING, UNRELATED])
    np.testing.assert_array_equal(both[1:], card_limit.logits(QUESTION, [UNRELATED]))
    np.testing.assert_array_equal(both[:1], longer.logits(QUESTION, [ANSWERING]))
    span = longer.read(QUESTION, [UNRELATED, ANSWERING]).spans([1])[0]
    assert span is not None and "1,200" in ANSWERING.sentence[span.start : span.end]
    cut, whole = card_limit.logits(QUESTION, [long_answer]), longer.logits(QUESTION, [long_answer])
    assert whole[0] > cut[0]  # the answering words lay past the 64th word piece
    assert shared_reader(max_tokens=96).max_tokens == 96
    settings = Settings(data_dir=tmp_path, reader_tokens=96)
    assert answer_reader(settings).max_tokens == 96
    with pytest.raises(ValueError):
        Settings(data_dir=tmp_path, reader_tokens=8)
