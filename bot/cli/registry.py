"""One registration per command: its name, help, arguments and the function that runs it.

Adding a command is one decorated function in one of the command modules (articles, asking,
maintenance, feeds); `build_parser` and `main` find it here. Command modules import heavy
libraries inside their functions, so `briefbot --help` stays instant.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Run = Callable[[Any, argparse.Namespace], int]


@dataclass(frozen=True)
class Arg:
    names: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


def arg(*names: str, **options: Any) -> Arg:
    """An argument, as `argparse.ArgumentParser.add_argument` takes it."""
    return Arg(names, options)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Run
    args: tuple[Arg, ...] = ()
    # True: `run(app, args)` with a Briefbot service; False: `run(settings, args)`, for
    # commands that must not load the index or the model first (`run`: a bad token fails fast).
    uses_index: bool = True
    # -c/--collection and --json, which almost every command takes.
    common: bool = True
    defaults: dict[str, Any] = field(default_factory=dict)
    description: str | None = None


COMMANDS: dict[str, Command] = {}


def command(
    name: str,
    help: str,
    *args: Arg,
    uses_index: bool = True,
    common: bool = True,
    description: str | None = None,
    **defaults: Any,
) -> Callable[[Run], Run]:
    """Register the decorated function as `briefbot <name>`."""

    def register(run: Run) -> Run:
        COMMANDS[name] = Command(name, help, run, args, uses_index, common, defaults, description)
        return run

    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefbot",
        description="Answer questions from your news articles, with quoted citations.",
    )
    parser.add_argument("--data-dir", help="index folder (default: BRIEFBOT_DATA_DIR or ./data)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for spec in COMMANDS.values():
        p = sub.add_parser(spec.name, help=spec.help, description=spec.description or spec.help)
        if spec.common:
            p.add_argument(
                "-c", "--collection", default="default", help="collection (default: default)"
            )
            p.add_argument("--json", action="store_true", help="machine-readable output")
        for a in spec.args:
            p.add_argument(*a.names, **a.options)
        if spec.defaults:
            p.set_defaults(**spec.defaults)
    return parser
