"""Crash-safe file writes: write beside, fsync, rename over, fsync the folder."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call write(temp), then make it `path` in one step: readers see old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    temp = Path(name)
    try:
        write(temp)
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
        fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def write_text_atomic(path: Path, text: str) -> None:
    def write(temp: Path) -> None:
        temp.write_text(text, encoding="utf-8")

    write_atomic(path, write)


def write_dir_atomic(path: Path, fill: Callable[[Path], None]) -> None:
    """Build a folder under a temporary name, fsync its files, then rename it into place.

    `path` must not exist yet: folders are versioned by name and switched by the manifest.
    """
    temp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        fill(temp)
        for child in temp.iterdir():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(temp, path)
        fsync_dir(path.parent)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
