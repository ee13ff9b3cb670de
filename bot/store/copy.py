"""Copy a whole store into an empty one, across engines (SQLite → PostgreSQL and back).

Every table, row for row, in one transaction on the destination, then verified by counting the
rows of each table on both sides. Columns are matched by name, so a destination with the same
schema version gets every column; the destination must hold no data yet (its migrations' own
rows, such as `store_meta`'s, are overwritten by the source's).

The runtime state of running bot processes (`RUNTIME_TABLES`: the process registry and the
deliverer lease) is not copied: it belongs to the processes running on the source, and the
destination's fill in again when the bot runs there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.store.db import Store, StoreError

# parents before children (foreign keys), `source_dirs` after `sources` (whose triggers forget
# a folder's listing when one of its rows is written)
TABLES = (
    "store_meta",
    "articles",
    "article_topics",
    "sources",
    "source_dirs",
    "guilds",
    "digest_runs",
    "delivery_ledger",
    "digest_claims",
    "bot_meta",
    "source_state",
)
# runtime state of the running processes (bot.store.cluster): never copied
RUNTIME_TABLES = ("bot_processes", "leases")
_SEEDED = {"store_meta": "key"}  # tables a migration fills: the source's rows replace those
_BATCH = 1000


@dataclass(frozen=True, slots=True)
class CopyReport:
    """Rows per table, counted on both sides after the copy (equal, or `copy_store` raised)."""

    rows: dict[str, int]


def _columns(store: Store, table: str) -> list[str]:
    cursor = store.conn.execute(f"SELECT * FROM {table} WHERE 1 = 0")  # noqa: S608 - known table
    return [str(column[0]) for column in cursor.description]  # type: ignore[attr-defined]  # both drivers' cursors have it


def _count(store: Store, table: str) -> int:
    return int(store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608 - names are constants of this module; values are bound parameters


def _rows(store: Store, table: str, columns: list[str]) -> Iterator[list[Any]]:
    cursor = store.conn.execute(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608 - names are constants of this module; values are bound parameters
    while batch := cursor.fetchmany(_BATCH):  # type: ignore[attr-defined]  # both drivers' cursors have it
        yield batch


def copy_store(source: Store, dest: Store) -> CopyReport:
    """Copy every table of `source` into the empty `dest`; raises `StoreError` when `dest`
    holds data, their schema versions differ, or the counts do not match afterwards."""
    if source.schema_version != dest.schema_version:
        raise StoreError(
            f"schema versions differ ({source.schema_version} vs {dest.schema_version}): "
            "run both with the same newsbot"
        )
    busy = [t for t in TABLES if t not in _SEEDED and _count(dest, t)]
    if busy:
        raise StoreError(
            f"{dest.location} already holds data ({', '.join(busy)}): "
            "migrate-store copies into an empty database"
        )
    with dest.transaction():
        for table in TABLES:
            wanted = set(_columns(dest, table))
            columns = [c for c in _columns(source, table) if c in wanted]
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - names are constants of this module; values are bound parameters
            if table in _SEEDED:
                key = _SEEDED[table]
                updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
                sql += f" ON CONFLICT ({key}) DO UPDATE SET {updates}"
            for batch in _rows(source, table, columns):
                dest.conn.executemany(sql, batch)
    rows = {table: _count(source, table) for table in TABLES}
    copied = {table: _count(dest, table) for table in TABLES}
    wrong = [f"{t} {rows[t]} → {copied[t]}" for t in TABLES if rows[t] != copied[t]]
    if wrong:
        raise StoreError(f"the copy's row counts differ: {', '.join(wrong)}")
    return CopyReport(rows)
