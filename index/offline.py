"""The environment the model libraries read: no model hub at run time (nothing downloads by
default), and no progress bars or chatter of theirs in Briefbot's output.

Set once at each entry point (the CLI, the benchmarks, the training script, the tests) before
those libraries are imported; `setdefault`, so a user's own choice (HF_HUB_OFFLINE=0 to allow
downloads) wins.
"""

from __future__ import annotations

import os

QUIET_OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}


def quiet_offline_libraries() -> None:
    for name, value in QUIET_OFFLINE.items():
        os.environ.setdefault(name, value)
