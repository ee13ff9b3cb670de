"""Helpers shared by the article commands (ingest, search, check)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from bot.store.ingest import Progress


def out(text: str = "") -> None:
    """One line of the command's result on stdout."""
    sys.stdout.write(text + "\n")


def err(text: str) -> None:
    """One line of diagnostics on stderr."""
    sys.stderr.write(text + "\n")


def tty_progress(stream: TextIO, label: str) -> tuple[Progress | None, Callable[[], None]]:
    """A `\\r` progress line on `stream` when it is a terminal (else nothing), and its finisher."""
    if not stream.isatty():
        return None, lambda: None
    shown = False

    def progress(done: int, total: int | None) -> None:
        nonlocal shown
        of = f"/{total}" if total is not None else ""
        stream.write(f"\r{label}: {done}{of} files")
        stream.flush()
        shown = True

    def finish() -> None:
        if shown:
            stream.write("\n")
            stream.flush()

    return progress, finish
