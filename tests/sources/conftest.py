"""Fixtures: a config with Git sources, a store and a SourceManager over them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.settings import Settings, load_settings
from bot.sources import SourceManager
from bot.store.async_store import AsyncStore
from bot.store.db import Store
from bot.store.guilds import GuildDefaults
from tests.sources.gitrepo import Origin


class Clock:
    """Business time the tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    repo = Origin(tmp_path / "origin")
    repo.news("alpha", heat=10)
    repo.news("beta", heat=20)
    repo.news("gamma", heat=30)
    repo.commit("three articles")
    return repo


def write_config(tmp_path: Path, body: str, database: Path | str) -> Settings:
    config = tmp_path / "newsbot.yaml"
    config.write_text(body, encoding="utf-8")
    return load_settings(config, {"NEWSBOT_DATABASE": str(database)})


@pytest.fixture
def make_settings(tmp_path: Path, database: Path | str) -> Callable[[str], Settings]:
    """Settings from a config body, on the test's store (each engine in turn)."""
    return lambda body: write_config(tmp_path, body, database)


@pytest.fixture
def settings(tmp_path: Path, origin: Origin, database: Path | str) -> Settings:
    return write_config(
        tmp_path, f"sources:\n  - name: site\n    git: {origin.url}\n    every: 2h\n", database
    )


@pytest.fixture
async def astore(settings: Settings) -> AsyncIterator[AsyncStore]:
    store = Store.open(settings.database)
    async_store = AsyncStore(store, GuildDefaults.from_settings(settings))
    yield async_store
    async_store.close()
    store.close()


@pytest.fixture
def manager(settings: Settings, astore: AsyncStore, clock: Clock) -> SourceManager:
    return SourceManager(settings, astore, clock=clock, environ={})
