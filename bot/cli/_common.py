"""Helpers shared by the commands: output lines, progress, read-only store, topic names."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from bot.core.topics import topic_key
from bot.settings import Settings
from bot.store import Store
from bot.store.ingest import Progress

EXIT_FAILED = 1  # bad input, a rejected token, a database problem: restarting does not help
EXIT_CONFIG = 2  # the configuration (or the command line) is wrong
EXIT_TEMPFAIL = 75  # EX_TEMPFAIL: Discord or the articles folder is not there yet; try again


def out(text: str = "") -> None:
    """One line of the command's result on stdout."""
    sys.stdout.write(text + "\n")


def err(text: str) -> None:
    """One line of diagnostics on stderr."""
    sys.stderr.write(text + "\n")


def read_store(settings: Settings) -> Store | None:
    """The store opened read-only, or None when there is no database yet (nothing ingested).

    Raises `StoreError` when the database cannot be read."""
    if isinstance(settings.database, Path) and not settings.database.exists():
        return None
    return Store.open_readonly(settings.database)


def unknown_topic(topic: str, known: Sequence[str]) -> str | None:
    """None when `topic` is one of `known` (case and spacing aside), else a line saying it is
    unknown and naming the closest known topics."""
    by_key = {topic_key(name): name for name in known}
    if topic_key(topic) in by_key:
        return None
    close = difflib.get_close_matches(topic_key(topic), list(by_key), n=3, cutoff=0.5)
    if close:
        hint = "closest: " + ", ".join(by_key[key] for key in close)
    elif known:
        hint = "known topics include: " + ", ".join(known[:5])
    else:
        hint = "the store has no topics yet: run `newsbot ingest` first"
    return f"unknown topic {topic!r}; {hint} (`newsbot topics` lists them all)"


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
