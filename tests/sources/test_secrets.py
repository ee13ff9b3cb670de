"""A private repository's token: used by git, and never in argv, URLs, state, logs or --json."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.settings import Settings
from bot.sources import SourceManager
from bot.store.async_store import AsyncStore
from bot.store.db import Store
from bot.store.guilds import GuildDefaults
from tests.sources.conftest import Clock
from tests.sources.gitrepo import Origin, git
from tests.sources.http_git import private_git

TOKEN = "ghp_SuperSecretToken1234567890"


def basic(user: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


@pytest.fixture
def argv_seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Every command line the bot starts (what a process listing would show)."""
    seen: list[tuple[str, ...]] = []
    real = asyncio.create_subprocess_exec

    async def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(tuple(str(a) for a in args))
        return await real(*args, **kwargs)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", recording)
    return seen


async def test_token_reaches_git_and_nothing_else(
    tmp_path: Path,
    origin: Origin,
    make_settings: Callable[[str], Settings],
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    argv_seen: list[tuple[str, ...]],
) -> None:
    caplog.set_level(logging.DEBUG)
    served = tmp_path / "served"
    served.mkdir()
    git(tmp_path, "clone", "--quiet", "--bare", str(origin.path), str(served / "news.git"))
    with private_git(served, basic("x-access-token", TOKEN)) as server:
        settings = make_settings(
            f"sources:\n  - name: private\n    git: {server.base}/news.git\n"
            "    token_env: NEWS_TOKEN\n"
        )
        store = Store.open(settings.database)
        astore = AsyncStore(store, GuildDefaults.from_settings(settings))
        try:
            good = SourceManager(settings, astore, clock=clock, environ={"NEWS_TOKEN": TOKEN})
            result = await good.refresh("private")
            assert result.ok, result.error
            assert server.seen
            assert set(server.seen) == {basic("x-access-token", TOKEN)}
            wrong = SourceManager(settings, astore, clock=clock, environ={"NEWS_TOKEN": "wrong"})
            origin.news("delta")
            origin.commit("more")
            rejected = await wrong.refresh("private")
            assert not rejected.ok
            assert rejected.error is not None
            assert "403" in rejected.error
            missing = await SourceManager(settings, astore, clock=clock, environ={}).refresh(
                "private"
            )
            assert missing.error == "environment variable NEWS_TOKEN (token_env) is not set"
            statuses = json.dumps(await good.statuses())
            repo = good.folder(good.get("private")) / "repo"
            config_text = (repo / ".git" / "config").read_text(encoding="utf-8")
            state = astore.conn.execute("SELECT * FROM source_state").fetchall()
        finally:
            astore.close()
            store.close()
    encoded = basic("x-access-token", TOKEN).removeprefix("Basic ")
    everything = "\n".join(
        [statuses, config_text, repr(state), caplog.text, repr(argv_seen), str(rejected)]
    )
    assert argv_seen
    for secret in (TOKEN, encoded):
        assert secret not in everything


def test_cli_output_never_shows_the_token(
    tmp_path: Path,
    database: Path | str,
    origin: Origin,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    served = tmp_path / "served"
    served.mkdir()
    git(tmp_path, "clone", "--quiet", "--bare", str(origin.path), str(served / "news.git"))
    token_file = tmp_path / "token.txt"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    with private_git(served, basic("reader", "another-token")) as server:
        config = tmp_path / "newsbot.yaml"
        config.write_text(
            f"sources:\n  - name: private\n    git: {server.base}/news.git\n"
            f"    token_file: {token_file}\n    token_user: reader\n",
            encoding="utf-8",
        )
        monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
        monkeypatch.setenv("NEWSBOT_DATABASE", str(database))
        assert main(["sources", "refresh", "private", "--json"]) == 1
        refreshed = capsys.readouterr()
        assert main(["sources", "--json"]) == 0
        listed = capsys.readouterr()
    data = json.loads(listed.out)
    assert data["sources"][0]["last_error"].startswith("git clone failed")
    assert "403" in data["sources"][0]["last_error"]
    text = refreshed.out + refreshed.err + listed.out + listed.err + caplog.text
    assert TOKEN not in text
    assert base64.b64encode(f"reader:{TOKEN}".encode()).decode() not in text
