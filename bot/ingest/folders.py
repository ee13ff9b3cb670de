"""Find article files, one folder at a time (streamed), with one `stat` per file.

A folder's listing is its article files' names, sizes and modification times, in directory
order, plus a digest of all three: when a re-scan computes the digest the store recorded for
the folder, nothing in it changed (see `bot.ingest.runner`). That `stat` is most of a re-scan's
cost (a system call per file), so the listing does little per file beyond it: names are
checked cheaply and, where the platform allows, each file is looked up relative to its open
folder rather than by its full path. In a very big folder the files past the first
STAT_WHILE_LISTING entries are looked up after the listing, about half of them by a second
process (`stat_helper.py`, standard library only) while this one does the rest: on two cores
that halves the wait. If that process cannot run, this one does it all; the listing is the
same either way.

What counts as an article file: a name ending in .md, .markdown or .txt (any case) that is not
hidden (leading '.') and is not the folder's own documentation (README, LICENSE, CHANGELOG…);
symlinked files are followed, symlinked folders are not.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ARTICLE_SUFFIXES = (".md", ".markdown", ".txt")
# A folder's own documentation (e.g. the README.md of a Smartable site repository) is not an
# article: such files are not read at all, rather than reported as broken articles.
NOT_ARTICLES = (
    "readme",
    "license",
    "licence",
    "changelog",
    "contributing",
    "code_of_conduct",
    "security",
)
_ARTICLE_NAME = re.compile(
    rf"(?!\.)(?!(?i:{'|'.join(NOT_ARTICLES)})\.[^.]*\Z)"
    rf".*(?i:{'|'.join(re.escape(suffix) for suffix in ARTICLE_SUFFIXES)})\Z",
    re.DOTALL,
)
# what SQLite (and the digest) can hold: timestamps before 1677 or after 2262 are clamped
_NS_MIN, _NS_MAX = -(2**63), 2**63 - 1
# relative look-ups (fstatat) where the platform has them: faster than full paths
_BY_FOLDER_FD = os.scandir in os.supports_fd
# In a folder of more than STAT_WHILE_LISTING entries, the files past them are looked up after
# the listing, shared with a second process when its share is at least HELPER_MIN (its start
# costs about HELPER_START look-ups, ~10 ms).
STAT_WHILE_LISTING = 5_000
HELPER_MIN = 5_000
HELPER_START = 5_000
_HELPER = Path(__file__).with_name("stat_helper.py")


@dataclass(frozen=True, slots=True)
class Listing:
    """The article files directly inside `folder`: parallel tuples, in directory order."""

    folder: str
    names: tuple[str, ...]
    mtimes_ns: tuple[int, ...]
    sizes: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.names)

    def files(self) -> list[tuple[str, int, int]]:
        """(path, mtime_ns, size) of each file, sorted by path."""
        return sorted(self.stats())

    def stats(self) -> set[tuple[str, int, int]]:
        """(path, mtime_ns, size) of each file."""
        prefix = os.path.join(self.folder, "")
        return {
            (prefix + name, mtime, size)
            for name, mtime, size in zip(self.names, self.mtimes_ns, self.sizes, strict=True)
        }

    def digest(self) -> str:
        """A digest of the names, sizes and mtimes (in directory order: a reordering only costs
        a file-by-file comparison)."""
        digest = hashlib.sha1(usedforsecurity=False)  # the fastest here; no adversary
        digest.update("\0".join(self.names).encode("utf-8", "surrogateescape"))
        digest.update(array("q", self.mtimes_ns))
        digest.update(array("q", self.sizes))
        return digest.hexdigest()


def _is_article(name: str) -> bool:
    """Whether a file of this name is read as an article (see the module docstring)."""
    if name.endswith(".md") and name[:1].isdigit():  # YYYY-MM-DD-slug.md: most names, fast
        return True
    return _ARTICLE_NAME.match(name) is not None


is_article_name = _is_article  # public: the sources check a new tree with the same rule


def _list_folder(
    folder: str,
    *,
    stat_while_listing: int = STAT_WHILE_LISTING,
    helper_min: int = HELPER_MIN,
    helper_start: int = HELPER_START,
) -> tuple[Listing, list[str]]:
    """The folder's listing and the names of its subfolders (not hidden, not symlinks)."""
    names: list[str] = []
    mtimes: list[int] = []
    sizes: list[int] = []
    subfolders: list[str] = []
    later: list[str] = []  # article names past STAT_WHILE_LISTING entries: looked up after
    is_regular = stat.S_ISREG
    # entries of a folder opened by descriptor stat themselves relative to it (no path walk)
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if _BY_FOLDER_FD else None
    try:
        with os.scandir(folder if fd is None else fd) as entries:
            # the first entries are looked up as they are listed; past them, later
            budget = stat_while_listing if fd is not None else -1  # -1: no limit
            for entry in entries:
                name = entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if not name.startswith("."):
                            subfolders.append(name)
                        continue
                    if not _is_article(name):
                        continue
                    if budget == 0:
                        later.append(name)
                        continue
                    budget -= 1
                    info = entry.stat()  # follows symlinks: a link to a file is that file
                except OSError:
                    continue
                if is_regular(info.st_mode):
                    names.append(name)
                    mtimes.append(info.st_mtime_ns)
                    sizes.append(info.st_size)
        if later and fd is not None:
            into = (names, mtimes, sizes)
            _stat_later(folder, fd, later, into, helper_min=helper_min, helper_start=helper_start)
    finally:
        if fd is not None:
            os.close(fd)
    if mtimes and (max(mtimes) > _NS_MAX or min(mtimes) < _NS_MIN):
        mtimes = [min(max(mtime, _NS_MIN), _NS_MAX) for mtime in mtimes]
    return Listing(folder, tuple(names), tuple(mtimes), tuple(sizes)), subfolders


def _stat_later(
    folder: str,
    fd: int,
    later: list[str],
    into: tuple[list[str], list[int], list[int]],
    *,
    helper_min: int,
    helper_start: int,
) -> None:
    """Look up the names of a big folder left for after its listing: about half of them in a
    helper process (stat_helper.py) while this one does the rest, or all of them here when the
    helper cannot run."""
    # the helper's share finishes with ours: its start costs about HELPER_START look-ups
    share = (len(later) - helper_start) // 2
    mine, theirs = later[: len(later) - share], later[len(later) - share :]
    helper = _start_helper(folder, theirs) if share >= helper_min else None
    _stat_names(fd, later if helper is None else mine, into)
    if helper is None:
        return
    names, mtimes, sizes = into
    looked_up = _helper_results(helper, len(theirs))
    if looked_up is None:  # the helper failed: do its share here
        _stat_names(fd, theirs, into)
        return
    modes = looked_up[0::3]
    if all(map(stat.S_ISREG, modes)):
        names.extend(theirs)
        mtimes.extend(looked_up[1::3])
        sizes.extend(looked_up[2::3])
        return
    for position, name in enumerate(theirs):
        if stat.S_ISREG(modes[position]):
            names.append(name)
            mtimes.append(looked_up[3 * position + 1])
            sizes.append(looked_up[3 * position + 2])


def _stat_names(fd: int, some: list[str], into: tuple[list[str], list[int], list[int]]) -> None:
    names, mtimes, sizes = into
    for name in some:
        try:
            info = os.stat(name, dir_fd=fd)  # follows symlinks, as the listing does
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            names.append(name)
            mtimes.append(info.st_mtime_ns)
            sizes.append(info.st_size)


def _start_helper(
    folder: str, names: list[str], *, python: str = sys.executable
) -> subprocess.Popen[bytes] | None:
    """stat_helper.py looking up `names` in `folder`, or None when no process can be started."""
    if not python:
        return None
    try:
        helper = subprocess.Popen(  # noqa: S603 - our interpreter, our script, no shell
            [python, "-I", "-S", str(_HELPER), folder],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None
    try:
        assert helper.stdin is not None
        with helper.stdin:
            helper.stdin.write(b"\0".join(map(os.fsencode, names)))
    except OSError:
        helper.kill()
        helper.wait()
        return None
    return helper


def _helper_results(helper: subprocess.Popen[bytes], count: int) -> array[int] | None:
    """(mode, mtime_ns, size) of each name, flat, or None when the helper did not answer."""
    assert helper.stdout is not None
    with helper.stdout:
        data = helper.stdout.read()
    if helper.wait() != 0 or len(data) != 24 * count:
        return None
    looked_up = array("q")
    looked_up.frombytes(data)
    return looked_up


def walk_folders(root: str) -> Iterator[tuple[str, Listing | OSError]]:
    """Each folder below `root` (itself included, depth first, in name order) with its listing,
    or the error that kept it from being read."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            listing, subfolders = _list_folder(folder)
        except OSError as exc:
            yield folder, exc
            continue
        stack.extend(os.path.join(folder, name) for name in sorted(subfolders, reverse=True))
        yield folder, listing
