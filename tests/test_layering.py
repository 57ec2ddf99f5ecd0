"""Dependencies point one way, bot -> index, and only the Discord wing knows discord.py.

Each check imports modules in a fresh interpreter (this process has imported everything
already) and lists what came along.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def modules_of(package: str) -> list[str]:
    folder = ROOT.joinpath(*package.split("."))
    found = [package]
    for info in pkgutil.walk_packages([str(folder)], prefix=f"{package}."):
        if not info.name.endswith(".__main__"):  # entry points: importing them runs them
            found.append(info.name)
    return sorted(found)


def imported_by(modules: list[str]) -> list[str]:
    """Every module in sys.modules after importing `modules` in a fresh interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return list(json.loads(done.stdout))


def test_index_never_imports_bot_or_discord():
    loaded = imported_by(modules_of("index"))
    offending = [m for m in loaded if m.split(".")[0] in ("bot", "discord")]
    assert offending == []


def test_only_the_discord_wing_imports_discord():
    outside = [m for m in modules_of("bot") if not m.startswith("bot.chat")]
    loaded = imported_by(outside)
    assert [m for m in loaded if m.split(".")[0] == "discord"] == []


def test_the_walk_finds_the_packages_modules():
    """The checks above mean something only if they import what is there."""
    assert "index.store" in modules_of("index") and "index.ingest.web" in modules_of("index")
    assert "bot.answer.extractive" in modules_of("bot") and "bot.chat.exts.ask" in modules_of("bot")
