"""A fresh PostgreSQL schema per test, on the server the machines run (127.0.0.1:5432, trust auth).

`NEWSBOT_TEST_PG` names the server's database (default `postgresql://postgres@127.0.0.1:5432/test`).
Without a server the PostgreSQL half of the suite skips with one line; under CI=true it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from urllib.parse import quote

import pytest

SERVER = os.environ.get("NEWSBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@cache
def _unreachable() -> str | None:
    """Why the test server cannot be used, or None when it can (asked once per session)."""
    import psycopg

    try:
        with psycopg.connect(SERVER, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return (str(exc).strip().splitlines() or ["unreachable"])[0]
    return None


def require_server() -> None:
    """Skip (or, under CI=true, fail) the test when the PostgreSQL server cannot be reached."""
    why = _unreachable()
    if why is not None:
        message = (
            f"PostgreSQL at {SERVER} cannot be reached ({why}): the PostgreSQL tests do not run"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def fresh_database() -> Iterator[str]:
    """The URL of a new, empty schema on the test server; dropped afterwards."""
    import psycopg

    require_server()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in SERVER else "?"
    url = f"{SERVER}{separator}options={quote(f'-csearch_path={schema}')}"
    try:
        yield url
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
