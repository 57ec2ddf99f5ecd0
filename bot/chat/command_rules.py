"""Discord's rules for slash-command definitions, checked before anything is registered.

Discord rejects a whole sync when one command breaks a rule, and says so only at start-up on a
live connection; checking the payloads here lets `briefbot run --check` and the tests catch it.
"""

from __future__ import annotations

import re
from typing import Any

NAME = re.compile(r"^[-_\w]{1,32}$")
MAX_DESCRIPTION = 100
MAX_OPTIONS = 25
MAX_CHOICES = 25
MAX_COMMAND_CHARS = 4000  # name + description + every option's name, description and choices
MAX_TOP_LEVEL = 100
SUBCOMMAND_TYPES = {1, 2}


def _check_name(where: str, name: str) -> list[str]:
    problems = []
    if not NAME.match(name or ""):
        problems.append(f"{where}: name {name!r} must be 1-32 letters, digits, - or _")
    elif name != name.lower():
        problems.append(f"{where}: name {name!r} must be lower case")
    return problems


def _check_description(where: str, text: str | None) -> list[str]:
    if not text or len(text) > MAX_DESCRIPTION:
        return [f"{where}: description must be 1-{MAX_DESCRIPTION} characters"]
    return []


def _chars(option: dict[str, Any]) -> int:
    total = len(option.get("name", "")) + len(option.get("description", ""))
    for choice in option.get("choices") or []:
        total += len(str(choice.get("name", ""))) + len(str(choice.get("value", "")))
    for sub in option.get("options") or []:
        total += _chars(sub)
    return total


def _check_options(where: str, options: list[dict[str, Any]]) -> list[str]:
    problems = []
    if len(options) > MAX_OPTIONS:
        problems.append(f"{where}: {len(options)} options (at most {MAX_OPTIONS})")
    names = [o.get("name", "") for o in options]
    if len(set(names)) != len(names):
        problems.append(f"{where}: option names repeat")
    seen_optional = False
    for option in options:
        here = f"{where} {option.get('name')}"
        problems += _check_name(here, option.get("name", ""))
        problems += _check_description(here, option.get("description"))
        if len(option.get("choices") or []) > MAX_CHOICES:
            problems.append(f"{here}: more than {MAX_CHOICES} choices")
        if option.get("type") in SUBCOMMAND_TYPES:
            problems += _check_options(here, option.get("options") or [])
            continue
        if option.get("required"):
            if seen_optional:
                problems.append(f"{here}: a required option comes after an optional one")
        else:
            seen_optional = True
    return problems


def command_problems(payloads: list[dict[str, Any]]) -> list[str]:
    """Every rule the command payloads (as they would be sent to Discord) break."""
    problems = []
    if len(payloads) > MAX_TOP_LEVEL:
        problems.append(f"{len(payloads)} commands (at most {MAX_TOP_LEVEL})")
    names = [p.get("name") for p in payloads]
    if len(set(names)) != len(names):
        problems.append("two commands share a name")
    for payload in payloads:
        where = f"/{payload.get('name')}"
        problems += _check_name(where, payload.get("name", ""))
        if payload.get("type", 1) == 1:
            problems += _check_description(where, payload.get("description"))
            problems += _check_options(where, payload.get("options") or [])
        if _chars(payload) > MAX_COMMAND_CHARS:
            problems.append(f"{where}: over {MAX_COMMAND_CHARS} characters in all")
    return problems
