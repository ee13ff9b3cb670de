"""The store's engine boundary: SQLite (the embedded default) or PostgreSQL, behind one interface.

Everything in `bot/store` speaks to a `Connection`: the subset of the DB-API that the store uses
(`execute`, `executemany`, `in_transaction`, `close`). SQLite's is `sqlite3.Connection` itself
(no wrapper, so the default engine keeps its speed); PostgreSQL's is `PgConnection`, a psycopg 3
connection in autocommit mode whose transactions the store opens itself, as with SQLite.

The store's SQL is written once, in the subset both engines accept (`ON CONFLICT` upserts,
`RETURNING`, recursive CTEs, `?` parameters: psycopg's `%s` is the only spelling that differs,
and `PgConnection` maps it). What is not shared is per engine: the migrations
(`migrations/` and `migrations_pg/`, the same versions), the schema version, how a write
transaction begins, and which errors mean "this row" rather than "this store".

An engine is chosen by the database setting: a `postgresql://` (or `postgres://`) URL is
PostgreSQL, anything else is the path of a SQLite file.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bot.settings import is_database_url

if TYPE_CHECKING:
    import psycopg

_MIGRATION_NAME = re.compile(r"^V(\d+)__([A-Za-z0-9_]+)\.sql$")
# one number for every newsbot process: whoever holds it migrates (the others wait, then see it done)
_MIGRATION_LOCK = 0x6E657773  # "news"

# longer than any pause of a live process inside one of its (short) transactions; about the
# deliverer lease's default (`cluster.lease_seconds`), so a hung deliverer's locks go with its lease
IDLE_IN_TRANSACTION_MS = 8_000

Database = Path | str
"""The database setting: a SQLite file's path, or a PostgreSQL URL."""


class Cursor(Protocol):
    """What the store reads from a statement."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The part of a DB-API connection the store uses (sqlite3's, or `PgConnection`)."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...

    def close(self) -> None: ...


def is_url(database: Database) -> bool:
    """True when the database setting names a PostgreSQL server rather than a SQLite file."""
    return is_database_url(database)


def redacted(database: Database) -> str:
    """The database setting as it may be shown: a URL's password replaced by `***`."""
    if not is_url(database):
        return str(database)
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(database))


def engine_name(conn: Connection) -> str:
    return "sqlite" if isinstance(conn, sqlite3.Connection) else "postgresql"


def begin(conn: Connection) -> None:
    """Open a write transaction: SQLite takes the write lock at once (`BEGIN IMMEDIATE`)."""
    conn.execute("BEGIN IMMEDIATE" if isinstance(conn, sqlite3.Connection) else "BEGIN")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(engine: str = "sqlite") -> list[Migration]:
    """Every `V<n>__<name>.sql` of an engine's migrations folder, in version order."""
    folder = resources.files("bot.store") / (
        "migrations" if engine == "sqlite" else "migrations_pg"
    )
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        from bot.store.db import StoreError

        raise StoreError(f"two migrations share a version number: {versions}")
    return found


def is_row_error(error: BaseException) -> bool:
    """Whether the store refused one row's values (a bad file) rather than failing itself
    (locked, full, read-only, unreachable, corrupt: those end the run)."""
    if isinstance(error, sqlite3.IntegrityError | sqlite3.DataError | sqlite3.ProgrammingError):
        return True
    pg = sys.modules.get("psycopg")  # a psycopg error needs psycopg loaded: no import here
    if pg is not None and isinstance(error, pg.IntegrityError | pg.DataError):
        return True
    # else OverflowError (an int beyond 64 bits), ValueError, TypeError, UnicodeError... are
    # about the row; any other database error (or running out of memory) is about the store
    return not isinstance(error, MemoryError) and not is_database_error(error)


def is_database_error(error: BaseException) -> bool:
    """An error raised by either engine's driver."""
    if isinstance(error, sqlite3.Error):
        return True
    pg = sys.modules.get("psycopg")
    return pg is not None and isinstance(error, pg.Error)


# at least this many rows, PostgreSQL takes them by COPY (fewer: a pipelined executemany)
COPY_MIN_ROWS = 20


def insert_many(
    conn: Connection, table: str, columns: str, rows: Sequence[Sequence[Any]], tail: str = ""
) -> None:
    """`INSERT INTO table (columns) VALUES (...) tail` for each row, in bulk; `tail` is an
    optional `ON CONFLICT` clause (`excluded.` names the new row).

    SQLite runs it as one executemany. PostgreSQL copies the rows (COPY) straight into the
    table, or, with a `tail`, into a temporary twin of it followed by one `INSERT ... SELECT
    ... tail`; a few rows go as a pipelined executemany. Either way no round trip per row.
    The rows must not repeat a conflict key when the tail updates (as in one INSERT).
    """
    if not rows:
        return
    if not isinstance(conn, PgConnection) or len(rows) < COPY_MIN_ROWS:
        marks = ",".join("?" * len(rows[0]))
        conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks}) {tail}", rows)  # noqa: S608 - table, columns and tail are the store's constants; values are bound parameters
        return
    if not tail:
        conn.copy_rows(table, columns, rows)
        return
    with _twin(conn, table, columns, rows) as twin:
        conn.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {twin} {tail}")  # noqa: S608 - table, columns and tail are the store's constants


def update_many(
    conn: Connection, table: str, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """`UPDATE table SET column = ?, ... WHERE key = ?` for each row (the new values, then the
    key), in bulk: one executemany on SQLite; on PostgreSQL a COPY into a temporary table and
    one `UPDATE ... FROM` it (a few rows: a pipelined executemany). No round trip per row."""
    if not rows:
        return
    if not isinstance(conn, PgConnection) or len(rows) < COPY_MIN_ROWS:
        changes = ", ".join(f"{column} = ?" for column in columns)
        conn.executemany(f"UPDATE {table} SET {changes} WHERE {key} = ?", rows)  # noqa: S608 - table and columns are the store's constants; values are bound parameters
        return
    with _twin(conn, table, ", ".join([*columns, key]), rows) as twin:
        changes = ", ".join(f"{column} = new.{column}" for column in columns)
        conn.execute(
            f"UPDATE {table} SET {changes} FROM {twin} AS new WHERE {table}.{key} = new.{key}"  # noqa: S608 - table and columns are the store's constants
        )


@contextmanager
def _twin(
    conn: PgConnection, table: str, columns: str, rows: Sequence[Sequence[Any]]
) -> Iterator[str]:
    """A temporary table of these columns of `table` (their types, no constraints), holding
    `rows` (by COPY) while the block runs. One per connection and column list, kept for the
    session and emptied after each use."""
    twin = f"newsbot_in_{table}_{zlib.crc32(columns.encode()):08x}"
    conn.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {twin} AS "  # noqa: S608 - the store's constants
        f"SELECT {columns} FROM {table} WITH NO DATA"
    )
    conn.copy_rows(twin, columns, rows)
    yield twin
    conn.execute(f"TRUNCATE {twin}")


# -- PostgreSQL -------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _pg_query(sql: str) -> str:
    """A statement with `?` parameters in psycopg's spelling (`%s`, a literal `%` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PgConnection:
    """A psycopg 3 connection speaking the store's `Connection` interface."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        return self.raw.execute(_pg_query(sql), list(parameters) or None)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor:
        rows = list(parameters)
        if len(rows) == 1:  # one row: a plain statement, without a pipeline's set-up
            return self.execute(sql, rows[0])
        cursor = self.raw.cursor()
        if rows:
            cursor.executemany(_pg_query(sql), rows)
        return cursor

    def copy_rows(self, table: str, columns: str, rows: Iterable[Sequence[Any]]) -> None:
        """Append rows to a table with one COPY (no round trip per row)."""
        with (
            self.raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def executescript(self, sql: str) -> None:
        """Run a migration script (several statements, no parameters)."""
        self.raw.execute(sql)

    def close(self) -> None:
        self.raw.close()


def connect_pg(url: str) -> PgConnection:
    """A connection to the PostgreSQL server of `url` (autocommit: the store opens its own
    transactions)."""
    import psycopg

    conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    # a process frozen inside a transaction (a hung machine) must not hold its row locks
    # forever: the server ends such a transaction, so the process taking over is not blocked
    conn.execute(f"SET idle_in_transaction_session_timeout = {IDLE_IN_TRANSACTION_MS}")
    return PgConnection(conn)


def pg_schema_version(conn: PgConnection) -> int:
    """The version of the newest migration applied (0 for an empty database or schema)."""
    if conn.execute("SELECT to_regclass('newsbot_schema')").fetchone()[0] is None:
        return 0
    row = conn.execute("SELECT max(version) FROM newsbot_schema").fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def pg_lock_migrations(conn: PgConnection) -> None:
    """Inside a transaction: wait until no other process migrates (released at commit)."""
    conn.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
    conn.execute("CREATE TABLE IF NOT EXISTS newsbot_schema (version INTEGER NOT NULL)")


def pg_set_schema_version(conn: PgConnection, version: int) -> None:
    conn.execute("DELETE FROM newsbot_schema")
    conn.execute("INSERT INTO newsbot_schema (version) VALUES (?)", (version,))
