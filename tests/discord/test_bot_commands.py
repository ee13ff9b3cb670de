"""`newsbot backup` and `newsbot run` argument handling (no Discord needed)."""

from __future__ import annotations

import argparse
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import backup, build_parser, run
from bot.discord.app import read_token
from bot.settings import Settings
from bot.store.db import Store
from bot.store.guilds import GuildDefaults, update_settings


def test_backup_is_a_consistent_copy_taken_while_the_store_is_open(
    settings: Settings, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if isinstance(settings.database, str):
        pytest.skip("backup copies a SQLite file (PostgreSQL: test_backup_of_postgresql_...)")
    update_settings(
        store.conn, 42, {"channel_id": 7, "topics": ("AI",)},
        GuildDefaults.from_settings(settings), now=datetime(2025, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    dest = tmp_path / "backups"
    dest.mkdir()
    args = build_parser().parse_args(["backup", str(dest)])
    assert backup.run(args, settings) == 0  # the store fixture still holds the database open
    copy = dest / settings.database.name
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT channel_id FROM guilds WHERE guild_id = 42").fetchone() == (7,)
    assert str(copy) in capsys.readouterr().out


def test_backup_refuses_to_overwrite_the_database(
    settings: Settings, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    if isinstance(settings.database, str):
        pytest.skip("backup copies a SQLite file (PostgreSQL: test_backup_of_postgresql_...)")
    args = argparse.Namespace(dest=settings.database)
    assert backup.run(args, settings) == 1
    assert "must not overwrite" in capsys.readouterr().err


def test_backup_of_postgresql_points_to_pg_dump(
    settings: Settings, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not isinstance(settings.database, str):
        pytest.skip("a SQLite database is backed up (the tests above)")
    args = build_parser().parse_args(["backup", str(tmp_path / "copy.sqlite3")])
    assert backup.run(args, settings) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "pg_dump" in line
    assert "migrate-store" in line


def test_run_without_a_token_says_so(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.delenv("DISCORD_TOKEN_FILE", raising=False)
    assert run.run(argparse.Namespace(), settings) == 1
    assert "DISCORD_TOKEN" in capsys.readouterr().err


def test_token_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("abc.def\n", encoding="utf-8")
    assert read_token({"DISCORD_TOKEN": " xyz "}) == "xyz"
    assert read_token({"DISCORD_TOKEN_FILE": str(secret)}) == "abc.def"
    with pytest.raises(ValueError, match="cannot read"):
        read_token({"DISCORD_TOKEN_FILE": str(tmp_path / "missing")})
