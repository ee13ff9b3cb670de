"""Helpers for tests that run on each engine (the `database` fixture of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def another_database(database: Path | str, tmp_path: Path, name: str) -> Iterator[Path | str]:
    """Another, empty database on the engine of `database`: a SQLite file named after `name`
    in tmp_path, or a fresh PostgreSQL schema (dropped afterwards)."""
    if isinstance(database, Path):
        yield tmp_path / name / "newsbot.sqlite3"
        return
    from tests.pg import fresh_database

    with fresh_database() as url:
        yield url
