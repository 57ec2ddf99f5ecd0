"""`python -m bot` is `briefbot run` (add `--check` to validate the set-up without connecting)."""

import sys

from bot.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["run", *sys.argv[1:]]))
