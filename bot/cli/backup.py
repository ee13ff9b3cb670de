"""`newsbot backup DEST [--json]`: a consistent copy of the database, safe while the bot runs."""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path
from typing import Any

from bot.cli._common import err, out
from bot.settings import Settings
from bot.store.db import Store, StoreError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "backup", help="copy the database consistently (while running)", description=__doc__
    )
    parser.add_argument("dest", type=Path, metavar="DEST", help="file to write (or a folder)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    dest: Path = args.dest
    if not isinstance(settings.database, Path):
        err(
            "newsbot: backup copies a SQLite database; back up PostgreSQL with pg_dump, "
            "or copy it to a SQLite file with `newsbot migrate-store`"
        )
        return 1
    if dest.is_dir():
        dest = dest / settings.database.name
    if dest.resolve() == settings.database.resolve():
        err("newsbot: the backup must not overwrite the database itself")
        return 1
    if not settings.database.exists():
        err(f"newsbot: no database at {settings.database} yet")
        return 1
    try:
        store = Store.open_readonly(settings.database)
    except StoreError as exc:
        err(f"newsbot: {exc}")
        return 1
    try:
        store.backup(dest)
    except OSError as exc:
        err(f"newsbot: cannot write {dest}: {exc.strerror or exc}")
        return 1
    except sqlite3.Error as exc:  # not a folder SQLite may create files in, not a database
        err(f"newsbot: cannot write {dest}: {exc}")
        return 1
    finally:
        store.close()
    if args.json:
        result = {"database": str(settings.database), "backup": str(dest)}
        out(json.dumps({**result, "bytes": dest.stat().st_size}, ensure_ascii=False))
    else:
        out(f"backed up {settings.database} to {dest}")
    return 0
