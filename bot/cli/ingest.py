"""`newsbot ingest [DIR...] [--json]`: load or refresh articles into the store and index."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli._common import err, out, tty_progress
from bot.search.index import SearchIndex
from bot.settings import ArticlesDirError, Settings
from bot.store import Store, StoreError
from bot.store.ingest import IngestReport, ingest_folders


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="load or refresh articles into the store",
        description="Scan article folders (recursively) and bring the store and search index up "
        "to date. Unchanged files are skipped; bad files are reported, never fatal (exit 0).",
    )
    parser.add_argument(
        "dirs",
        nargs="*",
        type=Path,
        metavar="DIR",
        help="folders to scan (default: the configured local folders; Git sources are "
        "refreshed with `newsbot sources refresh`)",
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
        "rejected": [{"path": r.path, "error": r.error} for r in report.rejected],
        "seconds": report.seconds,
    }


def run(args: argparse.Namespace, settings: Settings) -> int:
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
                max_file_bytes=settings.ingest.max_file_bytes,
                now=datetime.now(UTC),
                progress=progress,
            )
        finally:
            finish()
            index.close()
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
    return 0
