"""Shared fixtures: paths to ../shared (corpus, Discord OpenAPI spec) and the project's seeds.

Tests that need ../shared skip when it is missing on a developer machine, and fail under CI=true,
where a missing ../shared means the run proves nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.settings import Settings
from bot.store.guilds import GuildDefaults

if TYPE_CHECKING:
    from bot.store.db import Store

pytest_plugins = ["tests.fake_discord.plugin"]  # fixtures fake_discord, discord_endpoints

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("NEWSBOT_SHARED_DIR", PROJECT_ROOT.parent / "shared"))
SEEDS_DIR = PROJECT_ROOT / "seeds"


def require_shared(relative: str) -> Path:
    """Path of something under ../shared; skip (or fail under CI=true) when it is missing."""
    path = SHARED_DIR / relative
    if not path.exists():
        message = f"{path} is missing (../shared is needed for this test)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """../shared/corpus: 2,477 real articles in three source folders."""
    return require_shared("corpus")


@pytest.fixture(scope="session")
def openapi_path() -> Path:
    """Discord's OpenAPI description of its HTTP API."""
    return require_shared("discord-api-spec/openapi.json")


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS_DIR


@pytest.fixture(scope="session")
def discord_spec(openapi_path: Path) -> dict[str, object]:
    """Discord's OpenAPI document, loaded once; check bodies with discord_limits.validate_message_body."""
    from tests.discord_limits import load_spec

    return load_spec(openapi_path)


ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(params=ENGINES)
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path | str]:
    """Where a test's store lives, once per engine: a SQLite file in tmp_path, or a fresh
    PostgreSQL schema (skipped without a server, failed under CI=true). The per-user data
    folder (where a PostgreSQL installation keeps its search index) is in tmp_path too."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    if request.param == "sqlite":
        yield tmp_path / "newsbot.sqlite3"
        return
    from tests.pg import fresh_database

    with fresh_database() as url:
        yield url


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL schema's URL (skipped without a server, failed under CI=true)."""
    from tests.pg import fresh_database

    with fresh_database() as url:
        yield url


@pytest.fixture
def store(database: Path | str) -> Iterator[Store]:
    """An open, migrated store on each engine (`database`)."""
    from bot.store.db import Store

    with Store.open(database) as opened:
        yield opened


def _uses_postgresql(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("database") == "postgresql":
        return True
    return "pg_database" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a PostgreSQL server (and not under CI=true, where they fail instead), the
    PostgreSQL half of the suite is left out, said in one line at the end."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return
    wanted = [item for item in items if _uses_postgresql(item)]
    if not wanted:
        return
    from tests.pg import SERVER, _unreachable

    why = _unreachable()
    if why is None:
        return
    items[:] = [item for item in items if not _uses_postgresql(item)]
    config.hook.pytest_deselected(items=wanted)
    config.stash[_PG_SKIPPED] = (
        f"{len(wanted)} PostgreSQL tests skipped: no server at {SERVER} ({why})"
    )


_PG_SKIPPED = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    message = config.stash.get(_PG_SKIPPED, None)
    if message:
        terminalreporter.write_line(message, yellow=True)


@pytest.fixture
def settings(tmp_path: Path, database: Path | str) -> Settings:
    """Settings on the test's store (`database`: each engine in turn)."""
    return Settings.model_validate({"articles_dir": tmp_path / "articles", "database": database})


@pytest.fixture
def defaults(settings: Settings) -> GuildDefaults:
    return GuildDefaults.from_settings(settings)
