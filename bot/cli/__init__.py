"""The `briefbot` command: the terminal wing.

Each command is one registered function (bot/cli/registry.py) in articles.py, asking.py,
maintenance.py or feeds.py; output goes through bot/cli/output.py (JSON or people) and
bot/cli/terminal.py (how answers look in a terminal). Heavy libraries (torch, faiss) are
imported only by the commands that need them, so `briefbot --help` and errors about bad
arguments come back at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING, Any

# Importing the command modules registers their commands, in this order in --help.
from bot.cli import articles, asking, feeds, maintenance  # noqa: F401
from bot.cli.registry import COMMANDS, build_parser
from index.offline import quiet_offline_libraries

if TYPE_CHECKING:
    from bot.settings import Settings
    from index.knowledge import KnowledgeBase

__all__ = ["build_parser", "main"]
logger = logging.getLogger(__name__)


def _configure_logging(verbose: bool) -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(console=Console(stderr=True), show_path=False)
    # On the handler too: some libraries set their own loggers to DEBUG when imported. INFO
    # records marked `notice` (the one-time model export, which takes seconds) always show.
    handler.setLevel(logging.INFO)
    handler.addFilter(
        lambda r: r.levelno >= logging.WARNING or verbose or getattr(r, "notice", False)
    )
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[handler],
    )
    for noisy in ("bm25s", "faiss", "sentence_transformers", "httpx", "filelock"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("index.onnx_embedding").setLevel(logging.INFO)
    # The pool's reconnect attempts while a PostgreSQL store is down: the command's own error
    # is the one line that says so.
    logging.getLogger("psycopg.pool").setLevel(logging.INFO if verbose else logging.ERROR)


def main(argv: list[str] | None = None) -> int:
    quiet_offline_libraries()
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    from pydantic import ValidationError

    from index.errors import BriefbotError

    try:
        return _run(args)
    except ValidationError as exc:
        print(f"briefbot: {_setting_error(exc)}", file=sys.stderr)
        return 2
    except BriefbotError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("briefbot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `briefbot ... | head`: the reader left; not an error worth a trace
        sys.stderr.close()
        return 141


def _run(args: argparse.Namespace) -> int:
    spec = COMMANDS[args.command]
    settings = _settings(args)
    if not spec.uses_index:
        return spec.run(settings, args)
    from bot.service import Briefbot

    app = Briefbot(settings, _knowledge(args, settings))
    try:
        return spec.run(app, args)
    finally:
        app.close()


def _setting_error(exc: Any) -> str:
    """'BRIEFBOT_EMBEDDING_MODEL: no model folder at /x': the setting as the user sets it (its
    environment variable, or the flag) and the problem, without pydantic's decorations."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "settings"
    name = field if field.isupper() else f"BRIEFBOT_{field.upper()}"
    if field == "data_dir":
        name = f"--data-dir / {name}"
    error = (first.get("ctx") or {}).get("error")
    return f"invalid setting {name}: {error if error is not None else first['msg']}"


def _knowledge(args: argparse.Namespace, settings: Settings) -> KnowledgeBase | None:
    """Reindex opens the index whatever model built it (changing models is its purpose)."""
    if args.command != "reindex":
        return None
    from index.knowledge import KnowledgeBase

    return KnowledgeBase(settings, check_model=False)


def _settings(args: argparse.Namespace) -> Settings:
    from bot.settings import Settings

    overrides: dict[str, Any] = {}
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    return Settings(**overrides)
