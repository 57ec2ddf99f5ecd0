"""`briefbot ask`: one question, or one per line from stdin."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.output import emit, print_json
from bot.cli.registry import arg, command

if TYPE_CHECKING:
    from bot.answer.models import Answer
    from bot.service import Briefbot


def _show(args: argparse.Namespace, answer: Answer) -> None:
    from bot import render
    from bot.cli import terminal

    emit(args, render.answer_json(answer), lambda out: out.print(terminal.answer_rich(answer)))


@command(
    "ask",
    "ask a question; '-' reads one question per line from stdin",
    arg("question", nargs="+", help="the question, or - for stdin"),
    arg("-k", type=int, default=None, help="citations to show (default 5)"),
)
def ask(app: Briefbot, args: argparse.Namespace) -> int:
    if args.question != ["-"]:
        _show(args, app.ask(" ".join(args.question), args.collection, args.k))
        return 0
    from index.errors import InputError

    status = 0
    for line in sys.stdin:
        # With --json every input line gets one output line (an error object for a blank
        # one), so a script can pair them; people reading the terminal skip blank lines.
        if not line.strip() and not args.json:
            continue
        try:
            answer = app.ask(line.strip(), args.collection, args.k)
        except InputError as exc:
            status = 1
            if args.json:
                print_json({"question": line.strip(), "error": str(exc)})
            else:
                print(f"briefbot: {exc}", file=sys.stderr)
            continue
        _show(args, answer)
    return status
