"""Store operations on PostgreSQL beside SQLite: the same calls, the same data, one run.

Each operation runs against a fresh SQLite file and a fresh PostgreSQL schema (on
`NEWSBOT_BENCH_PG`, default `postgresql://postgres@127.0.0.1:5432/test`, the server on the same
machine: a network round trip per statement is part of what is measured). The figure is
PostgreSQL's, the baseline SQLite's; ratio = PostgreSQL time / SQLite time (> 1: slower).
Without a server, the PostgreSQL rows are left out with a note.

    python -m benchmarks.bench_store [--quick]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks._reingest import changed_folder, generate_folder
from benchmarks.bench_search import make_articles
from benchmarks.run import figure
from bot.core.models import Article
from bot.store import Store
from bot.store.db import NewArticle, compress_related
from bot.store.guilds import GuildDefaults, claim_due, get_guild, update_settings
from bot.store.ingest import ingest_folders

SERVER = os.environ.get("NEWSBOT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2024, 6, 1, tzinfo=UTC)
DEFAULTS = GuildDefaults.of(
    time=clock_time(9, 0),
    timezone="UTC",
    weekdays=frozenset(range(7)),
    per_topic=5,
    min_quality=0,
    max_per_provider=2,
    lookback_hours=24,
)


@contextmanager
def _pg_schema() -> Iterator[str | None]:
    """A fresh schema's URL, or None when the server cannot be reached."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(SERVER, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.Error:
        yield None
        return
    try:
        yield f"{SERVER}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Median seconds of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _operations(store: Store, articles: list[Article], servers: int) -> dict[str, float]:
    """Seconds per operation (totals for the bulk ones, per call for the small ones)."""
    out: dict[str, float] = {}
    items = [
        NewArticle(a, f"/news/{a.id}.md", a.title, None, compress_related(a.related_yaml))
        for a in articles
    ]

    def cold() -> None:
        for start in range(0, len(items), 3000):
            with store.transaction():
                store.insert_new_articles(items[start : start + 3000])

    out["cold insert"] = _timed(cold)
    changed = articles[: len(articles) // 10]

    def update() -> None:
        for start in range(0, len(changed), 500):
            with store.transaction():
                for article in changed[start : start + 500]:
                    store.put_article(article, source_path="/other.md", source_digest="x")

    out["update"] = _timed(update)
    renamed = [replace(a, title=f"Again: {a.title}") for a in changed]

    def batched() -> None:
        for start in range(0, len(renamed), 500):
            with store.transaction():
                store.put_articles(
                    [
                        NewArticle(a, "/again.md", "y", None, compress_related(a.related_yaml))
                        for a in renamed[start : start + 500]
                    ]
                )

    out["batched update"] = _timed(batched)
    out["window read"] = _timed(lambda: store.articles_between(NOW - timedelta(days=2), NOW), 5)
    out["changes_since"] = _timed(lambda: _all_changes(store))
    for n in range(servers):
        changes = {"channel_id": n + 1, "topics": ("AI",)}
        update_settings(store.conn, 10_000 + n, changes, DEFAULTS, now=NOW)
    out["guild read"] = _timed(lambda: get_guild(store.conn, 10_000, DEFAULTS), 200)
    out["guild update"] = _timed(
        lambda: update_settings(store.conn, 10_000, {"per_topic": 4}, DEFAULTS, now=NOW), 50
    )
    claimed: list[int] = []
    out["claim due"] = _timed(
        lambda: claimed.append(len(claim_due(store.conn, DEFAULTS, now=NOW + timedelta(days=1))))
    )
    if claimed != [servers]:
        raise RuntimeError(f"claimed {claimed} of {servers} due servers")
    return out


def _reingest(database: Path | str, folder: Path) -> float:
    """Seconds to re-ingest `folder` once every file of it changed (ingest_folders: the scan,
    the parse in worker processes, the writes, the regrouping), into a store holding it."""
    with Store.open(database) as store:
        ingest_folders(store, None, [folder], max_file_bytes=1 << 20, now=NOW)
        changed_folder(folder, mark=f"Again {uuid.uuid4().hex[:6]}")
        start = time.perf_counter()
        report = ingest_folders(store, None, [folder], max_file_bytes=1 << 20, now=NOW)
        seconds = time.perf_counter() - start
    if report.updated + report.unchanged != report.scanned:
        raise RuntimeError(f"re-ingest did not update every file: {report}")
    return seconds


def _all_changes(store: Store) -> int:
    rev, rows = 0, 0
    while batch := store.changes_since(rev, limit=1000, related=False):
        rev, rows = batch[-1].rev, rows + len(batch)
    return rows


def run(quick: bool) -> list[dict[str, Any]]:
    count = 2_000 if quick else 30_000
    servers = 100 if quick else 1_000
    files = 500 if quick else 10_000
    articles = make_articles(count)
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-store-") as tmp:
        folder = Path(tmp) / "news"
        generate_folder(folder, files, seed=11)
        with Store.open(Path(tmp) / "db.sqlite3") as store:
            lite = _operations(store, articles, servers)
        lite["re-ingest"] = _reingest(Path(tmp) / "reingest.sqlite3", folder)
        with _pg_schema() as url:
            if url is None:
                return [
                    figure(f"SQLite {name}", value, "s", notes="PostgreSQL unreachable")
                    for name, value in lite.items()
                ]
            with Store.open(url) as store:
                pg = _operations(store, articles, servers)
        with _pg_schema() as url:
            assert url is not None
            pg["re-ingest"] = _reingest(url, folder)
    units = {
        "cold insert": (f"{count:,} articles, 3,000 per transaction", count),
        "update": (
            f"{count // 10:,} changed articles one by one, 500 per transaction",
            count // 10,
        ),
        "batched update": (
            f"{count // 10:,} changed articles, put_articles of 500 per transaction",
            count // 10,
        ),
        "re-ingest": (f"{files:,} changed files, ingest_folders end to end", files),
        "window read": ("articles_between, 48 h window, median of 5", 1),
        "changes_since": (f"all {count:,} rows in pages of 1,000 (the index sync)", count),
        "guild read": ("get_guild, median of 200", 1),
        "guild update": ("update_settings + reschedule, median of 50", 1),
        "claim due": (f"claim_due, {servers:,} servers due at once", servers),
    }
    rows = []
    for name, (what, per) in units.items():
        per_item = per > 1
        value, base = (pg[name] / per, lite[name] / per) if per_item else (pg[name], lite[name])
        scale, unit = (1e6, "µs per item") if per_item else (1e3, "ms")
        rows.append(
            figure(
                f"PostgreSQL {name}: {what}",
                value * scale,
                unit,
                baseline="SQLite, same run",
                baseline_value=base * scale,
                ratio=value / base if base else None,
                notes="ratio = PostgreSQL / SQLite (> 1: PostgreSQL slower)",
            )
        )
    return rows


if __name__ == "__main__":
    from benchmarks.run import render_table

    table = run("--quick" in sys.argv)
    print(render_table([{"suite": "store", **row} for row in table]))
