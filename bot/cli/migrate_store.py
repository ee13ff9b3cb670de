"""`newsbot migrate-store SRC DEST [--json]`: copy a whole store between engines.

SRC and DEST are each a SQLite file's path or a `postgresql://` URL. DEST must be empty (a new
file, or a PostgreSQL database or schema without newsbot's tables, or with them but no data).
Stop the bot first: rows written to SRC during the copy would be missed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bot.cli._common import err, out
from bot.settings import Settings, is_database_url
from bot.store.copy import copy_store
from bot.store.db import Store, StoreError
from bot.store.engine import Database, is_database_error, redacted


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "migrate-store",
        help="copy the whole store between SQLite and PostgreSQL (verified by counts)",
        description=__doc__,
    )
    parser.add_argument("src", metavar="SRC", help="the store to copy: a file or postgresql:// URL")
    parser.add_argument("dest", metavar="DEST", help="an empty store: a file or postgresql:// URL")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def _database(text: str) -> Database:
    return text if is_database_url(text) else Path(text).expanduser().resolve()


def run(args: argparse.Namespace, settings: Settings) -> int:
    del settings  # SRC and DEST are given on the command line
    src, dest = _database(args.src), _database(args.dest)
    if src == dest:
        err("newsbot migrate-store: SRC and DEST are the same database")
        return 1
    try:
        report = _copy(src, dest)
    except StoreError as exc:
        err(f"newsbot migrate-store: {exc}")
        return 1
    except Exception as exc:
        if not is_database_error(exc):
            raise
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        err(f"newsbot migrate-store: the copy failed, nothing was kept: {first}")
        return 1
    if args.json:
        result = {"source": redacted(src), "dest": redacted(dest), "rows": report.rows}
        out(json.dumps(result, ensure_ascii=False))
    else:
        total = sum(report.rows.values())
        out(f"copied {total} rows in {len(report.rows)} tables to {redacted(dest)} (counts match)")
    return 0


def _copy(src: Database, dest: Database) -> Any:
    if isinstance(src, Path) and not src.is_file():
        raise StoreError(f"no database at {src}")
    with Store.open_readonly(src) as source, Store.open(dest) as target:
        return copy_store(source, target)
