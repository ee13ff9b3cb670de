"""`newsbot backup DEST`: a consistent copy of the database, safe while the bot runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings
from bot.store.db import Store, StoreError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "backup", help="copy the database consistently (while running)", description=__doc__
    )
    parser.add_argument("dest", type=Path, metavar="DEST", help="file to write (or a folder)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    dest: Path = args.dest
    if dest.is_dir():
        dest = dest / settings.database.name
    if dest.resolve() == settings.database.resolve():
        sys.stderr.write("newsbot: the backup must not overwrite the database itself\n")
        return 1
    if not settings.database.exists():
        sys.stderr.write(f"newsbot: no database at {settings.database} yet\n")
        return 1
    try:
        store = Store.open(settings.database)
    except StoreError as exc:
        sys.stderr.write(f"newsbot: {exc}\n")
        return 1
    try:
        store.backup(dest)
    except OSError as exc:
        sys.stderr.write(f"newsbot: cannot write {dest}: {exc.strerror or exc}\n")
        return 1
    finally:
        store.close()
    sys.stdout.write(f"backed up {settings.database} to {dest}\n")
    return 0
