"""How a command prints: one JSON object per line for scripts (`--json`, a public contract),
or rich text for people; one helper decides which."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from index.models import AddOutcome


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def console() -> Any:
    from rich.console import Console

    shown = Console(highlight=False)
    # Piped output is read by scripts: one logical line per line, never wrapped at 80.
    shown.soft_wrap = not shown.is_terminal
    return shown


def emit(args: argparse.Namespace, data: Any, human: Callable[[Any], None]) -> None:
    """`data` as one JSON line with --json, else `human(console)` prints it for people."""
    if args.json:
        print_json(data)
    else:
        human(console())


def outcome_counts(outcomes: Iterable[AddOutcome]) -> str:
    """'3 added, 1 skipped': skipped copies are refused on purpose and are not failures."""
    order = ("added", "replaced", "updated", "unchanged", "skipped", "failed")
    found = list(outcomes)
    counts = {s: sum(o.status == s for o in found) for s in order}
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n)


def any_failed(outcomes: Iterable[AddOutcome]) -> bool:
    return any(o.status == "failed" for o in outcomes)


def at_least_one(name: str, value: int) -> int:
    """A count option that must be positive: 0 or -1 would silently list nothing or all."""
    from index.errors import InputError

    if value < 1:
        raise InputError(f"{name} must be at least 1 (got {value})")
    return value
