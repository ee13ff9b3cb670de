"""`newsbot sources [refresh [NAME]] [--json]`: the article sources and their state; refresh
fetches (Git) or re-scans (folders) now."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from bot.cli._common import err, out, tty_progress
from bot.cli.ingest import report_json
from bot.search.index import SearchIndex
from bot.settings import Settings
from bot.sources import RefreshResult, SourceManager, UnknownSource
from bot.store import Store, StoreError
from bot.store.async_store import AsyncStore
from bot.store.guilds import GuildDefaults
from bot.store.ingest import Progress


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sources",
        help="the article sources (folders, Git repositories) and their state",
        description="List the article sources with their last success, last error, article "
        "count and next refresh; `refresh [NAME]` fetches Git sources and re-scans folders now "
        "(all of them without NAME). Exit 1 when a refresh fails.",
    )
    parser.add_argument("action", nargs="?", choices=["refresh"], help="refresh now")
    parser.add_argument("name", nargs="?", metavar="NAME", help="only this source")
    parser.add_argument(
        "--allow-retire",
        action="store_true",
        help="accept that a source now has no article files (retires its articles)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def refresh_json(result: RefreshResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "ok": result.ok,
        "error": result.error,
        "commit": result.commit,
        "changed": result.swapped,
        "ingest": None if result.report is None else report_json(result.report),
    }


def run(args: argparse.Namespace, settings: Settings) -> int:
    # a failing source is reported below in one line; its log warning would say it twice
    manager_log = logging.getLogger("bot.sources.manager")
    level = manager_log.level
    if not manager_log.isEnabledFor(logging.DEBUG):
        manager_log.setLevel(logging.ERROR)
    try:
        return _checked(args, settings)
    finally:
        manager_log.setLevel(level)


def _checked(args: argparse.Namespace, settings: Settings) -> int:
    if args.action is None and (args.name or args.allow_retire):
        err(
            "newsbot sources: NAME and --allow-retire go with `refresh` (newsbot sources refresh NAME)"
        )
        return 2
    try:
        store = Store.open(settings.database)
    except StoreError as exc:
        err(f"newsbot sources: {exc}")
        return 1
    try:
        return asyncio.run(_run(args, settings, store))
    finally:
        store.close()


async def _run(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    index = None
    if args.action == "refresh":
        index = await asyncio.to_thread(SearchIndex.open, settings.index_dir)
    astore = AsyncStore(store, GuildDefaults.from_settings(settings))
    terminal = _Terminal()
    try:
        manager = SourceManager(
            settings,
            astore,
            clock=lambda: datetime.now(UTC),
            index=index,
            notify=terminal.notify if terminal.tty and not args.json else None,
            progress=terminal.progress,
        )
        refreshed: list[RefreshResult] = []
        if args.action == "refresh":
            try:
                if args.name:
                    refreshed = [await manager.refresh(args.name, allow_retire=args.allow_retire)]
                else:
                    refreshed = await manager.refresh_all(allow_retire=args.allow_retire)
            except UnknownSource as exc:
                err(f"newsbot sources: {exc}")
                return 1
        statuses = await manager.statuses()
    finally:
        terminal.end_line()
        astore.close()
        if index is not None:
            index.close()
    failed = [r for r in refreshed if not r.ok]
    if args.json:
        payload: dict[str, Any] = {"sources": statuses}
        if args.action == "refresh":
            payload["refreshed"] = [refresh_json(r) for r in refreshed]
        out(json.dumps(payload, ensure_ascii=False))
    else:
        for result in refreshed:
            out(_refresh_line(result))
        _print_table(statuses)
    for result in failed:
        err(f"newsbot sources: {result.name}: {result.error}")
    return 1 if failed else 0


def _refresh_line(result: RefreshResult) -> str:
    if not result.ok:
        return f"{result.name}: failed: {result.error}"
    where = f" at {result.commit[:12]}" if result.commit else ""
    news = " (new commit)" if result.swapped else ""
    report = result.report
    if report is None:
        return f"{result.name}: up to date{where}"
    return (
        f"{result.name}: refreshed{where}{news}: {report.scanned} files, {report.added} added, "
        f"{report.updated} updated, {report.retired} retired, {len(report.rejected)} rejected"
    )


def _print_table(statuses: list[dict[str, Any]]) -> None:
    if not statuses:
        out("no sources configured")
        return
    for entry in statuses:
        state = "never refreshed"
        if entry["last_success"]:
            state = f"last success {entry['last_success']}"
        if entry["last_error"]:
            state += f"; FAILING: {entry['last_error']}"
        following = f"; next refresh {entry['next_refresh']}" if entry["next_refresh"] else ""
        out(f"{entry['name']} ({entry['kind']}): {entry['articles']} articles; {state}{following}")


class _Terminal:
    """Git's progress and the ingest's on a terminal (`\\r` lines), else nothing."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.open_line = False

    def notify(self, line: str) -> None:
        sys.stderr.write(f"\r\033[K{line[:160]}")
        sys.stderr.flush()
        self.open_line = True

    def progress(self, name: str) -> Progress | None:
        shown, finish = tty_progress(sys.stderr, f"{name}: scanned")
        if shown is None:
            return None

        def progress(done: int, total: int | None) -> None:
            if self.open_line:
                self.end_line()
            shown(done, total)
            if total is not None:
                finish()

        return progress

    def end_line(self) -> None:
        if self.open_line:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.open_line = False
