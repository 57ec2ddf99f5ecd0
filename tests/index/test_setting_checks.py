"""Settings that name folders and models are checked when read: one line naming the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from index.setting_checks import BUNDLED_MODEL, folder_problem, model_problem
from index.settings import IndexSettings


def test_folders(tmp_path: Path):
    file = tmp_path / "notes.txt"
    file.write_text("x")
    assert folder_problem(tmp_path) is None
    assert folder_problem(tmp_path / "new" / "deeper") is None
    assert folder_problem(file) == f"{file} is a file, not a folder"
    assert folder_problem(file / "data") == f"{file / 'data'} cannot be created: {file} is a file"


def test_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    assert model_problem(BUNDLED_MODEL) is None
    assert model_problem("hashing:64") is None
    assert model_problem("/nonexistent/model") == "no model folder at /nonexistent/model"
    assert model_problem(str(tmp_path)).endswith(
        "is not a sentence-transformers model folder (no modules.json)"
    )
    (tmp_path / "modules.json").write_text("[]")
    assert model_problem(str(tmp_path)) is None
    assert "neither a model folder nor a model in the local Hugging Face cache" in (
        model_problem("all-MiniLM-L6-v3") or ""
    )
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # the user allowed downloads
    assert model_problem("all-MiniLM-L6-v3") is None


def test_a_model_in_the_local_hugging_face_cache_is_accepted(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub = tmp_path / "hub"
    repo = hub / "models--sentence-transformers--paraphrase-MiniLM-L3-v2"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    (repo / "snapshots" / "abc123" / "config.json").write_text("{}")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(hub))
    assert model_problem("paraphrase-MiniLM-L3-v2") is None  # found under sentence-transformers/
    assert model_problem("sentence-transformers/paraphrase-MiniLM-L3-v2") is None
    assert model_problem("someone/paraphrase-MiniLM-L3-v2") is not None


def test_settings_refuse_them_when_read(tmp_path):
    file = tmp_path / "f"
    file.write_text("x")
    with pytest.raises(ValidationError, match="is a file, not a folder"):
        IndexSettings(data_dir=file)
    with pytest.raises(ValidationError, match="no model folder at /nonexistent/model"):
        IndexSettings(data_dir=tmp_path, embedding_model="/nonexistent/model")
    with pytest.raises(ValidationError, match="is a file, not a folder"):
        IndexSettings(data_dir=tmp_path, model_cache_dir=file)
