"""How counts are said to people: "1 chunk", "2 chunks", never "1 chunks".

In `index/` so the store's own messages (verify problems, archive errors) can use it too;
`bot/` imports it from here.
"""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` with `noun` in the right number, thousands separated: "1 article", "12,000 chunks".

    `plural` is for nouns that do not just take an "s".
    """
    word = noun if n == 1 else (plural or noun + "s")
    return f"{n:,} {word}"
