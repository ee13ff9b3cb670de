"""`newsbot status`: the running processes, which one delivers, and when a monitor should worry;
`newsbot run` refuses shards that do not make sense in one line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.store import Store, cluster
from bot.store.cluster import ProcessInfo, wall_us
from bot.store.guilds import GuildDefaults, update_settings

A = ProcessInfo("host-a:100:aaaaaa", "host-a", 100, "0-3", 8, "1.0")
B = ProcessInfo("host-b:200:bbbbbb", "host-b", 200, "4-7", 8, "1.0")
TTL = 60_000_000  # a minute: the lease outlives the test


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: Path | str) -> Path | str:
    config = tmp_path / "newsbot.yaml"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    monkeypatch.setenv("NEWSBOT_DATABASE", str(database))
    return database


now_us = wall_us


def status_json(capsys: pytest.CaptureFixture[str], expected: int = 0) -> dict[str, Any]:
    assert main(["status", "--json"]) == expected
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def add_due_servers(database: Path | str, defaults: GuildDefaults, *guild_ids: int) -> None:
    """Active servers whose digest was due yesterday already."""
    with Store.open(database) as store:
        for guild_id in guild_ids:
            update_settings(
                store.conn,
                guild_id,
                {"channel_id": guild_id * 10, "topics": ("AI",)},
                defaults,
                now=datetime.now(UTC) - timedelta(days=2),
            )


def test_an_empty_store_has_no_processes_and_nothing_waiting(
    env: Path | str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = status_json(capsys)  # no database yet, or one never migrated
    Store.open(env).close()
    after = status_json(capsys)
    for doc in (before, after):
        assert doc == {
            "processes": [],
            "deliverer": None,
            "backlog": {"due": 0, "claimed": 0, "pending": 0},
        }
    assert main(["status"]) == 0
    captured = capsys.readouterr()
    assert "processes: 0 running" in captured.out
    assert "deliverer: none" in captured.out
    assert captured.err == ""


def test_the_deliverer_is_named_and_marked(
    env: Path | str, defaults: GuildDefaults, capsys: pytest.CaptureFixture[str]
) -> None:
    add_due_servers(env, defaults, 1, 2)
    with Store.open(env) as store:
        cluster.register(store.conn, A, now_us=now_us())
        cluster.register(store.conn, B, now_us=now_us())
        held = cluster.acquire(store.conn, B.process_id, now_us=now_us(), ttl_us=TTL)
    assert held is not None
    doc = status_json(capsys)
    by_id = {p["id"]: p for p in doc["processes"]}
    assert set(by_id) == {A.process_id, B.process_id}
    assert by_id[B.process_id]["delivers"] is True
    assert by_id[A.process_id]["delivers"] is False
    assert by_id[A.process_id]["shards"] == "0-3"
    assert by_id[A.process_id]["shard_count"] == 8
    assert {p["state"] for p in doc["processes"]} == {"running"}
    assert doc["deliverer"]["id"] == B.process_id
    assert doc["deliverer"]["epoch"] == held.epoch
    assert doc["backlog"] == {"due": 2, "claimed": 0, "pending": 0}  # waiting, but delivered

    assert main(["status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    marked = [line for line in lines if "← delivers" in line]
    assert len(marked) == 1
    assert B.process_id in marked[0]
    assert "shards 4-7 of 8" in marked[0]
    assert "processes: 2 running" in lines
    assert any(line.startswith(f"deliverer: {B.process_id}") for line in lines)


def test_digests_waiting_with_nobody_delivering_exit_1(
    env: Path | str, defaults: GuildDefaults, capsys: pytest.CaptureFixture[str]
) -> None:
    add_due_servers(env, defaults, 1, 2, 3)
    with Store.open(env) as store:
        cluster.register(store.conn, A, now_us=now_us())
        cluster.acquire(store.conn, A.process_id, now_us=now_us(), ttl_us=TTL)
        cluster.stopped(store.conn, A.process_id, now_us=now_us())  # and nobody took over
    doc = status_json(capsys, expected=1)
    assert doc["deliverer"] is None
    assert doc["processes"][0]["state"] == "stopped"
    assert doc["backlog"]["due"] == 3
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "3 digest(s) waiting and no process delivers them" in err


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (["--shards", "0-9", "--shard-count", "8"], {}, "shard 9 does not exist with 8 shard(s)"),
        (["--shards", "0-3"], {}, "need the total count too"),
        (["--shards", "3-1", "--shard-count", "8"], {}, "runs backwards"),
        ([], {"NEWSBOT_SHARDS": "x", "NEWSBOT_SHARD_COUNT": "8"}, "'x' is not a list of shards"),
        ([], {"NEWSBOT_SHARDS": "0-1"}, "need the total count too"),
        (["--shard-count", "0"], {}, "shard count must be a whole number"),
    ],
)
def test_run_refuses_bad_shards_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    environ: dict[str, str],
    expected: str,
) -> None:
    config = tmp_path / "newsbot.yaml"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    monkeypatch.setenv("NEWSBOT_DATABASE", str(tmp_path / "newsbot.sqlite3"))
    for name in ("DISCORD_TOKEN", "DISCORD_TOKEN_FILE", "NEWSBOT_SHARDS", "NEWSBOT_SHARD_COUNT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert main(["run", *argv]) == 2  # refused before the token is even looked for
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("newsbot: ")
    assert expected in captured.err
    assert "Traceback" not in captured.err
