"""`newsbot status [--json]`: the bot's processes, their shards, the deliverer and the backlog.

Exit status 1 when digests are waiting (due, claimed or pending) and no running process holds
the deliverer lease: something a monitor should wake someone for.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from bot.cli._common import err, out, read_store
from bot.settings import Settings
from bot.store import StoreError
from bot.store.cluster import Backlog, ClusterStatus, ProcessRow, status, wall_us
from bot.store.db import from_us

CLUSTER_SCHEMA = 7  # the migration that added the process registry


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        help="the running bot processes, their shards, the deliverer and the due backlog",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def _state(row: ProcessRow, now_us: int, stale_us: int) -> str:
    if row.stopped_us is not None:
        return "stopped"
    return "running" if row.alive(now_us, stale_us) else "gone"


def _iso(micros: int | None) -> str | None:
    return None if micros is None else from_us(micros).isoformat(timespec="seconds")


def _ago(micros: int, now_us: int) -> str:
    seconds = max(0, (now_us - micros) // 1_000_000)
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def report(found: ClusterStatus, *, now_us: int, stale_us: int) -> dict[str, Any]:
    """The `--json` document."""
    lease = found.lease
    holder = lease.holder if lease is not None and lease.expires_us > now_us else None
    processes = [
        {
            "id": row.info.process_id,
            "host": row.info.host,
            "pid": row.info.pid,
            "shards": row.info.shards,
            "shard_count": row.info.shard_count,
            "version": row.info.version,
            "started": _iso(row.started_us),
            "last_seen": _iso(row.seen_us),
            "state": _state(row, now_us, stale_us),
            "delivers": row.info.process_id == holder,
        }
        for row in found.processes
    ]
    deliverer = None
    if holder is not None and lease is not None:
        deliverer = {"id": holder, "epoch": lease.epoch, "since": _iso(lease.acquired_us)}
    backlog = found.backlog
    return {
        "processes": processes,
        "deliverer": deliverer,
        "backlog": {"due": backlog.due, "claimed": backlog.claimed, "pending": backlog.pending},
    }


def _print(doc: dict[str, Any], found: ClusterStatus, now_us: int) -> None:
    rows = found.processes
    running = [p for p in doc["processes"] if p["state"] == "running"]
    out(f"processes: {len(running)} running")
    for entry, row in zip(doc["processes"], rows, strict=True):
        shards = "all shards"
        if entry["shards"] is not None:
            shards = f"shards {entry['shards']} of {entry['shard_count']}"
        elif entry["shard_count"] is not None:
            shards = f"all {entry['shard_count']} shards"
        mark = "  ← delivers" if entry["delivers"] else ""
        out(
            f"  {entry['id']:<32} {entry['state']:<8} {shards:<18} "
            f"seen {_ago(row.seen_us, now_us)}{mark}"
        )
    deliverer = doc["deliverer"]
    if deliverer is None:
        out("deliverer: none (no process holds the lease)")
    else:
        out(f"deliverer: {deliverer['id']} (lease epoch {deliverer['epoch']})")
    b = doc["backlog"]
    out(f"backlog: {b['due']} server(s) due, {b['claimed']} claimed, {b['pending']} run(s) pending")


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        store = read_store(settings)
    except StoreError as exc:
        err(f"newsbot status: {exc}")
        return 1
    now = datetime.now(UTC)
    if store is None or store.schema_version < CLUSTER_SCHEMA:
        found = ClusterStatus((), None, Backlog(0, 0, 0))
        if store is not None:
            store.close()
    else:
        try:
            found = status(store.conn, now=now)
        finally:
            store.close()
    now_us = wall_us()
    stale_us = int(settings.cluster.lease_seconds * 1_000_000)
    doc = report(found, now_us=now_us, stale_us=stale_us)
    if args.json:
        out(json.dumps(doc, ensure_ascii=False))
    else:
        _print(doc, found, now_us)
    waiting = found.backlog.due + found.backlog.claimed + found.backlog.pending
    if waiting and doc["deliverer"] is None:
        err(f"newsbot status: {waiting} digest(s) waiting and no process delivers them")
        return 1
    return 0
