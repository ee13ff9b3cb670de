"""A re-ingest to measure: a folder of generated articles ingested once, then every file changed.

`changed_folder` rewrites each file of a folder in place with a new title (same path, same
article id): the next ingest parses and writes all of them again (a feed correcting its
articles, or a checkout of new revisions), the write path a re-ingest exercises.
"""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.articles_gen import generate_folder

__all__ = ["changed_folder", "generate_folder"]


def changed_folder(folder: Path, *, mark: str = "Updated") -> int:
    """Give every article file under `folder` a new title (and a later mtime); returns how many."""
    count = 0
    for path in sorted(folder.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('\ntitle: "', f'\ntitle: "{mark}: ', 1), encoding="utf-8")
        info = path.stat()
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
        count += 1
    return count
