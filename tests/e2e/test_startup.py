"""`newsbot run` and `sync-commands` while Discord cannot be reached: a few retries with one line
each, then exit 75 (which systemd's Restart=on-failure restarts), never a traceback."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.sync_commands import sync
from bot.settings import Settings
from tests.fake_discord import FakeDiscord
from tests.fake_discord.plugin import DiscordEndpoints

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.e2e


def closed_port() -> int:
    """A local port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("command", ["run", "sync-commands"])
def test_unreachable_discord_retries_then_exits_for_a_restart(
    tmp_path: Path, seeds_dir: Path, database: Path | str, command: str
) -> None:
    config = tmp_path / "newsbot.yaml"
    config.write_text("startup:\n  connect_attempts: 3\n  retry_seconds: 0.1\n", encoding="utf-8")
    base = f"http://127.0.0.1:{closed_port()}/api/v10"
    env = {
        **os.environ,  # with the XDG_DATA_HOME of `database`
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": "a-token-that-is-never-checked",
        "DISCORD_API_BASE": base,
        "NEWSBOT_CONFIG": str(config),
        "NEWSBOT_DATABASE": str(database),
        "NEWSBOT_ARTICLES_DIR": str(seeds_dir),
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "bot", command],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 75
    lines = done.stderr.splitlines()
    assert "Traceback" not in done.stderr
    attempts = [
        line for line in lines if "WARNING bot.discord.startup: cannot reach Discord" in line
    ]
    assert [line.split(": attempt ")[-1] for line in attempts] == [
        "1 of 3, next in 0.1 s",
        "2 of 3, next in 0.2 s",
    ]
    assert lines[-1].startswith(f"newsbot: cannot reach Discord at {base} (")
    assert lines[-1].endswith("gave up after 3 attempts")
    # nothing else but the start-up re-ingest: no voice-library warnings, no login chatter
    others = [line for line in lines[:-1] if line not in attempts]
    assert all("bot.discord.app: re-ingest " in line for line in others), others
    assert "a-token-that-is-never-checked" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("articles", "status", "message"),
    [
        (None, 2, "newsbot: no articles folder is set: set NEWSBOT_ARTICLES_DIR"),
        ("nowhere", 75, "nowhere does not exist or is not a folder"),
    ],
)
def test_run_without_its_articles_folder_says_so_in_one_line(
    tmp_path: Path, articles: str | None, status: int, message: str
) -> None:
    """Not set: the configuration is wrong (2, not restarted); set but missing, as a share not
    mounted yet: 75, restarted."""
    # refused before any store is opened: one engine says it all
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "DISCORD_"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": "unused",
        "NEWSBOT_DATABASE": str(tmp_path / "db.sqlite3"),
    }
    if articles is not None:
        env["NEWSBOT_ARTICLES_DIR"] = str(tmp_path / articles)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,  # not a checkout: the built-in defaults apply
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == status
    (line,) = done.stderr.splitlines()
    assert message in line


async def test_sync_commands_json(
    database: Path | str, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild("Test server")
    env = {
        **os.environ,  # with the XDG_DATA_HOME of `database`
        **discord_endpoints.env,
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": fake_discord.token,
        "NEWSBOT_DATABASE": str(database),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "sync-commands", "--guild", str(guild.id), "--json",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert json.loads(out) == {"synced": 2, "guild": guild.id}


async def test_login_goes_on_once_discord_is_back(
    database: Path | str,
    fake_discord: FakeDiscord,
    discord_endpoints: DiscordEndpoints,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Discord is down at start-up and comes back during the retries: the login goes on (with
    a fresh HTTP session; a leaked one would fail the test as an unraisable warning)."""
    settings = Settings.model_validate(
        {
            "database": database,
            "startup": {"connect_attempts": 30, "retry_seconds": 0.1},
        }
    )
    for key, value in discord_endpoints.env.items():
        monkeypatch.setenv(key, value)
    guild = fake_discord.add_guild("Back again")
    port = fake_discord.port
    await fake_discord.stop()
    monkeypatch.setattr("tests.fake_discord.server._free_port", lambda: port)
    with caplog.at_level(logging.WARNING, logger="bot.discord.startup"):
        syncing = asyncio.create_task(sync(settings, fake_discord.token, guild.id))
        await fake_discord.wait_until(
            lambda: any("cannot reach Discord" in r.getMessage() for r in caplog.records),
            within=20,
        )
        await fake_discord.start()
        assert await asyncio.wait_for(syncing, 30) == 2
    assert {c["name"] for c in fake_discord.commands(guild)} == {"news", "digest"}
