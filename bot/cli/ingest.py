"""`newsbot ingest [PATH...] [--allow-retire] [--json]`: load or refresh articles into the store
and index."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli._common import err, out, tty_progress
from bot.ingest.parse import Rejection, parse_file
from bot.search.index import SearchIndex
from bot.settings import ArticlesDirError, Settings
from bot.store import Store, StoreError
from bot.store.engine import is_database_error
from bot.store.ingest import IngestReport, ingest_folders


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="load or refresh articles into the store",
        description="Scan article folders (recursively) and bring the store and search index up "
        "to date. Unchanged files are skipped; bad files are reported, never fatal (exit 0). "
        "A folder whose vanished files would retire more than half of its articles in one run "
        "keeps them (an unmounted share?) unless --allow-retire is given.",
    )
    parser.add_argument(
        "dirs",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="folders to scan, or single article files (default: the configured local folders; "
        "Git sources are refreshed with `newsbot sources refresh`)",
    )
    parser.add_argument(
        "--allow-retire",
        action="store_true",
        help="retire the articles of vanished files even when that is more than half of a folder",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def report_json(report: IngestReport) -> dict[str, Any]:
    """The documented `--json` shape (exactly these keys)."""
    return {
        "scanned": report.scanned,
        "added": report.added,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "retired": report.retired,
        "rejected": [{"path": r.path, "error": r.error} for r in report.rejected],
        "held": [
            {"path": h.path, "would_retire": h.would_retire, "reason": h.reason}
            for h in report.held
        ],
        "seconds": report.seconds,
    }


def argument_problem(path: Path, max_bytes: int) -> str | None:
    """Why a path given on the command line cannot be ingested (missing, not a folder nor an
    article file), or None."""
    if path.is_dir():
        return None
    if not path.exists():
        return f"{path}: no such folder or file"
    if not path.is_file():
        return f"{path} is not a folder or an article file"
    result = parse_file(path, max_bytes=max_bytes)
    if isinstance(result, Rejection):
        return f"{path} is not an article file: {result.error}"
    return None


def run(args: argparse.Namespace, settings: Settings) -> int:
    max_bytes = settings.ingest.max_file_bytes
    for path in args.dirs:
        problem = argument_problem(path, max_bytes)
        if problem is not None:
            err(f"newsbot ingest: {problem}")
            return 1
    # by default the local folders (the articles folder, `path:` sources); Git sources are
    # fetched and ingested by `newsbot sources refresh`
    dirs: list[Path] = list(args.dirs)
    if not dirs:
        if settings.articles_dir is not None or not settings.sources:
            try:
                settings.require_articles_dir()
            except ArticlesDirError as exc:
                err(f"newsbot ingest: {exc} (or name folders: newsbot ingest DIR…)")
                return 1
        dirs = settings.local_folders
        if not dirs:
            err(
                "newsbot ingest: no local folders; Git sources are fetched by `newsbot sources refresh`"
            )
    try:
        store = Store.open(settings.database)
    except StoreError as exc:
        err(f"newsbot ingest: {exc}")
        return 1
    try:
        index = SearchIndex.open(settings.index_dir)
        progress, finish = tty_progress(sys.stderr, "scanned")
        try:
            report = ingest_folders(
                store,
                index,
                dirs,
                max_file_bytes=max_bytes,
                now=datetime.now(UTC),
                progress=progress,
                allow_retire=args.allow_retire,
            )
        finally:
            finish()
            index.close()
    except Exception as exc:  # the database itself failed (locked, full, read-only, gone)
        if not is_database_error(exc):
            raise
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        err(f"newsbot ingest: the database {store.location} failed: {first}")
        return 1
    finally:
        store.close()
    if args.json:
        out(json.dumps(report_json(report), ensure_ascii=False))
        return 0
    out(
        f"scanned {report.scanned} files in {report.seconds:.2f} s: {report.added} added, "
        f"{report.updated} updated, {report.unchanged} unchanged, {report.retired} retired, "
        f"{len(report.rejected)} rejected"
    )
    for rejection in report.rejected:
        out(f"  rejected {rejection.path}: {rejection.error}")
    for held in report.held:
        out(f"  not retired {held.path}: {held.reason}")
    return 0
