"""The published folder of a Git source, and how a new one replaces it atomically.

A new folder is built beside the published one: files unchanged since the published commit
are hard links to the published files (same inode, so the same mtime and size: the ingest
skips them without reading), new and changed files are fresh copies from Git's checkout.
Then the two folders are exchanged in one `renameat2(RENAME_EXCHANGE)` call, so a reader sees
either the old folder or the new one, never a mix; the old one is removed afterwards. Where that
call is missing (not Linux, or a file system without it) two renames are used: for a moment
the folder is absent, which the ingest treats as "nothing changed", never as "all deleted".
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from bot.ingest.folders import is_article_name

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2

Notify = Callable[[str], None]


def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function: Callable[..., int] = libc.renameat2
    except (OSError, AttributeError):
        return None
    return function


def exchange(a: Path, b: Path) -> None:
    """Swap folders `a` and `b` atomically where the system can; else `a` → `b`.old dance."""
    renameat2 = _renameat2()
    if renameat2 is not None:
        result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
        if result == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise OSError(code, os.strerror(code), str(a))
    spare = a.with_name(a.name + ".swap")
    remove_tree(spare)
    os.rename(a, spare)
    os.rename(b, a)
    os.rename(spare, b)


def remove_tree(path: Path) -> None:
    """Remove a folder (or file) if it exists."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def article_count(relative_paths: Mapping[str, str]) -> int:
    """How many of these files the ingest reads as articles."""
    return sum(1 for rel in relative_paths if is_article_name(rel.rpartition("/")[2]))


def build_tree(
    target: Path,
    files: Mapping[str, str],
    checkout: Path,
    published: Path,
    published_files: Mapping[str, str] | None,
) -> tuple[int, int]:
    """Fill `target` (made afresh) with `files` (relative path → blob id).

    A file whose blob id is the one published is linked from `published`; the others are copied
    from `checkout`. Returns (linked, copied). Any OSError (disk full…) propagates; the caller
    removes `target`.
    """
    remove_tree(target)
    target.mkdir(parents=True)
    linked = copied = 0
    made: set[str] = set()
    for rel, blob in sorted(files.items()):
        destination = target / rel
        parent = os.path.dirname(rel)
        if parent and parent not in made:
            destination.parent.mkdir(parents=True, exist_ok=True)
            made.add(parent)
        if published_files is not None and published_files.get(rel) == blob:
            # no link (the file went missing, or links are not supported here): copy instead
            with contextlib.suppress(OSError):
                os.link(published / rel, destination)
                linked += 1
                continue
        shutil.copyfile(checkout / rel, destination)
        copied += 1
    return linked, copied
