"""`newsbot check`: validate the config (already done on load) and the articles folder.

Parses every article file without writing anything; prints each problem with its path and
exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bot.cli._common import out
from bot.ingest.folders import walk_folders
from bot.ingest.parse import Rejection, parse_file
from bot.settings import ArticlesDirError, Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate the config and the articles folder",
        description="Validate the configuration and parse every article file without writing "
        "anything; print the problems with their paths; exit 1 when there is any.",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    problems: list[tuple[str, str]] = []
    checked = 0
    try:
        root = settings.require_articles_dir()
    except ArticlesDirError as exc:
        where = str(settings.articles_dir) if exc.missing else "articles_dir"
        problems.append((where, str(exc)))
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
    if args.json:
        listed = [{"path": path, "error": error} for path, error in problems]
        out(json.dumps({"ok": not problems, "problems": listed}, ensure_ascii=False))
        return 1 if problems else 0
    out(f"config: ok; articles folder {settings.articles_dir}: {checked} files checked")
    for path, problem in problems:
        out(f"problem: {path}: {problem}")
    if problems:
        out(f"{len(problems)} problem(s) found")
        return 1
    out("no problems found")
    return 0
