"""Find article files, one folder at a time (streamed), with one `stat` per file.

A folder's listing is its article files' names, sizes and modification times, in directory
order, plus a digest of all three: when a re-scan computes the digest the store recorded for
the folder, nothing in it changed (see `bot.store.ingest`). That `stat` is most of a re-scan's
cost (a system call per file), so the listing does little per file beyond it: names are
checked cheaply and, where the platform allows, each file is looked up relative to its open
folder rather than by its full path.

What counts as an article file: a name ending in .md, .markdown or .txt (any case) that is not
hidden (leading '.') and is not the folder's own documentation (README, LICENSE, CHANGELOG…);
symlinked files are followed, symlinked folders are not.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

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


def _list_folder(folder: str) -> tuple[Listing, list[str]]:
    """The folder's listing and the names of its subfolders (not hidden, not symlinks)."""
    names: list[str] = []
    mtimes: list[int] = []
    sizes: list[int] = []
    subfolders: list[str] = []
    is_regular = stat.S_ISREG
    # entries of a folder opened by descriptor stat themselves relative to it (no path walk)
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if _BY_FOLDER_FD else None
    try:
        with os.scandir(folder if fd is None else fd) as entries:
            for entry in entries:
                name = entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if not name.startswith("."):
                            subfolders.append(name)
                        continue
                    if not _is_article(name):
                        continue
                    info = entry.stat()  # follows symlinks: a link to a file is that file
                except OSError:
                    continue
                if is_regular(info.st_mode):
                    names.append(name)
                    mtimes.append(info.st_mtime_ns)
                    sizes.append(info.st_size)
    finally:
        if fd is not None:
            os.close(fd)
    if mtimes and (max(mtimes) > _NS_MAX or min(mtimes) < _NS_MIN):
        mtimes = [min(max(mtime, _NS_MIN), _NS_MAX) for mtime in mtimes]
    return Listing(folder, tuple(names), tuple(mtimes), tuple(sizes)), subfolders


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
