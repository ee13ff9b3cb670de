"""A file whose row the store refuses is one rejected file, never a failed batch or run.

The refusal is real: a trigger in the test's SQLite file aborts any write of an article whose
title says "poison" (SQLite answers IntegrityError, as it does for a broken constraint), and
one test hands the runner an article with a number SQLite cannot hold (OverflowError), built
directly since the parser no longer lets one through.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from bot.ingest.parse import ParsedFile, parse_file
from bot.search.index import SearchIndex
from bot.store import Store
from bot.store.engine import PgConnection
from bot.store.ingest import _Pending, _Run, ingest_folders
from tests.store.test_ingest_runner import MAX, NOW, smartable, titles, write

POISON = """
CREATE TRIGGER poison_insert BEFORE INSERT ON articles WHEN NEW.title LIKE '%poison%'
BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;
CREATE TRIGGER poison_update BEFORE UPDATE ON articles WHEN NEW.title LIKE '%poison%'
BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;
"""
PG_POISON = """
CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE integrity_constraint_violation USING MESSAGE = 'poisoned row'; END; $$;
CREATE TRIGGER poison BEFORE INSERT OR UPDATE ON articles
FOR EACH ROW WHEN (NEW.title ILIKE '%poison%') EXECUTE FUNCTION poison();
"""
PG_BROKEN = """
CREATE FUNCTION broken() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM no_such_function(); RETURN NEW; END; $$;
CREATE TRIGGER broken BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION broken();
"""


def script(store: Store, sqlite_sql: str, pg_sql: str) -> None:
    """Run a test's schema change in the store's engine's own dialect."""
    if isinstance(store.conn, PgConnection):
        store.conn.executescript(pg_sql)
    else:
        assert isinstance(store.conn, sqlite3.Connection)
        store.conn.executescript(sqlite_sql)


def refused(error: str) -> bool:
    """The line a file refused by the poison trigger gets (each engine names its error)."""
    return error in (
        "cannot be stored: IntegrityError: poisoned row",  # SQLite
        "cannot be stored: IntegrityConstraintViolation: poisoned row",  # PostgreSQL
    )


def poison(store: Store) -> None:
    script(store, POISON, PG_POISON)


def test_a_refused_row_in_a_cold_batch_rejects_only_that_file(store: Store, tmp_path: Path) -> None:
    poison(store)
    news = tmp_path / "news"
    for n in range(5):
        title = "Poison pill" if n == 2 else f"Story {n}"
        write(news / f"2024-04-10-story-{n}.md", smartable(f"story-{n}", title=title))
    index = SearchIndex.open(tmp_path / "idx")
    report = ingest_folders(store, index, [news], max_file_bytes=MAX, now=NOW)
    assert (report.added, report.unchanged) == (4, 0)
    [rejected] = report.rejected
    assert rejected.path == str(news / "2024-04-10-story-2.md")
    assert refused(rejected.error)
    assert titles(store) == ["Story 0", "Story 1", "Story 3", "Story 4"]
    assert len(index.search("story", now=NOW)) == 4
    # reported again on the next run without being read again; stored once it is fixed
    again = ingest_folders(store, index, [news], max_file_bytes=MAX, now=NOW)
    assert (again.unchanged, [r.path for r in again.rejected]) == (4, [rejected.path])
    fixed = news / "2024-04-10-story-2.md"
    write(fixed, smartable("story-2", title="Story 2"), mtime=1_800_000_000)
    assert ingest_folders(store, index, [news], max_file_bytes=MAX, now=NOW).added == 1
    assert len(index.search("story", now=NOW)) == 5


def test_a_refused_update_keeps_the_last_good_article_and_the_rest_of_the_batch(
    store: Store, tmp_path: Path
) -> None:
    news = tmp_path / "news"
    a = write(news / "a.md", smartable("a", title="First A"), mtime=1_700_000_000)
    b = write(news / "b.md", smartable("b", title="First B"), mtime=1_700_000_000)
    ingest_folders(store, None, [news], max_file_bytes=MAX, now=NOW)
    poison(store)
    write(a, smartable("a", title="Poison A"), mtime=1_700_000_100)
    write(b, smartable("b", title="Second B"), mtime=1_700_000_100)
    write(news / "c.md", smartable("c", title="New C"))
    report = ingest_folders(store, None, [news], max_file_bytes=MAX, now=NOW)
    assert (report.added, report.updated, report.retired) == (1, 1, 0)
    [rejected] = report.rejected
    assert rejected.path == str(a)
    assert refused(rejected.error)
    assert titles(store) == ["First A", "New C", "Second B"]


def test_a_number_sqlite_cannot_hold_rejects_its_file_not_the_batch(
    store: Store, tmp_path: Path
) -> None:
    news = tmp_path / "news"
    paths = [write(news / f"{n}.md", smartable(f"s{n}", title=f"Story {n}")) for n in range(3)]
    parsed = [parse_file(path) for path in paths]
    assert all(isinstance(p, ParsedFile) for p in parsed)
    good: list[ParsedFile] = [p for p in parsed if isinstance(p, ParsedFile)]
    unstorable = replace(good[1].article, heat=10**30)  # past the parser's bounds
    good[1] = ParsedFile(good[1].path, unstorable, False, good[1].digest)
    run = _Run(store=store, now=NOW, max_file_bytes=MAX, progress=None, cold=True)
    items = [_pending(path) for path in paths]
    try:
        run._write(items, [(p, None) for p in good])  # as the runner writes any parsed batch
    finally:
        run.compressor.shutdown()
    assert run.added == 2
    [rejected] = run.rejected
    assert rejected.path == str(paths[1])
    # SQLite's driver refuses the number, PostgreSQL the row: either way only that file
    assert rejected.error.startswith(
        ("cannot be stored: OverflowError", "cannot be stored: NumericValueOutOfRange")
    )
    assert titles(store) == ["Story 0", "Story 2"]


def _pending(path: Path) -> _Pending:
    info = os.stat(path)
    return _Pending(str(path), str(path.parent), info.st_mtime_ns, info.st_size, None)


def test_the_store_failing_itself_still_ends_the_run(store: Store, tmp_path: Path) -> None:
    """A locked or broken database is not a bad file: nothing is marked rejected for it."""
    news = tmp_path / "news"
    write(news / "a.md", smartable("a"))
    script(
        store,
        "CREATE TRIGGER broken BEFORE INSERT ON articles BEGIN SELECT no_such_function(); END;",
        PG_BROKEN,
    )
    with pytest.raises((sqlite3.OperationalError, psycopg.errors.UndefinedFunction)):
        ingest_folders(store, None, [news], max_file_bytes=MAX, now=NOW)
    assert store.conn.execute("SELECT count(*) FROM sources").fetchone()[0] == 0
