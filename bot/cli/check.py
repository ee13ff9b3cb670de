"""`newsbot check`: validate the config (already done on load) and the articles folder.

Parses every article file without writing anything; prints each problem with its path and
exits 1 when there is any.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli._common import out
from bot.ingest.folders import walk_folders
from bot.ingest.parse import Rejection, parse_file
from bot.settings import Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate the config and the articles folder",
        description="Validate the configuration and parse every article file without writing "
        "anything; print the problems with their paths; exit 1 when there is any.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    root = settings.articles_dir
    problems: list[tuple[str, str]] = []
    checked = 0
    if not root.is_dir():
        problems.append((str(root), "the articles folder does not exist or is not a folder"))
    else:
        for folder, listing in walk_folders(str(root.resolve())):
            if isinstance(listing, OSError):
                problems.append((folder, f"cannot read folder: {listing.strerror or listing}"))
                continue
            for path, _mtime, _size in listing.files():
                checked += 1
                result = parse_file(Path(path), max_bytes=settings.ingest.max_file_bytes)
                if isinstance(result, Rejection):
                    problems.append((path, result.error))
    out(f"config: ok; articles folder {root}: {checked} files checked")
    for path, problem in problems:
        out(f"problem: {path}: {problem}")
    if problems:
        out(f"{len(problems)} problem(s) found")
        return 1
    out("no problems found")
    return 0
