"""pytest fixtures: `fake_discord` (a started FakeDiscord) and `discord_endpoints`.

Registered from tests/conftest.py with `pytest_plugins = ["tests.fake_discord.plugin"]`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .server import FakeDiscord
from .validation import SpecValidators


@dataclass(frozen=True, slots=True)
class DiscordEndpoints:
    """Where the fake listens; `env` holds the variables the bot reads."""

    api_base: str
    gateway_url: str

    @property
    def env(self) -> dict[str, str]:
        return {"DISCORD_API_BASE": self.api_base, "DISCORD_GATEWAY_URL": self.gateway_url}


@pytest.fixture(scope="session")
def discord_validators(openapi_path: Path) -> SpecValidators:
    """Validators for Discord's OpenAPI description, compiled lazily and shared by the session."""
    return SpecValidators.from_path(openapi_path)


@pytest.fixture
async def fake_discord(discord_validators: SpecValidators) -> AsyncIterator[FakeDiscord]:
    """A started fake Discord; fails the test at teardown if it recorded a harness error."""
    fake = FakeDiscord(discord_validators)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    assert_no_harness_errors(fake)


def assert_no_harness_errors(fake: FakeDiscord) -> None:
    """Fail the test when the fake recorded harness errors (unknown route, invalid body ...)."""
    errors = list(fake.errors)
    if not fake.expect_late_acks:
        errors += [
            f"interaction {late.name!r} acknowledged late or never ({late.elapsed} s, limit {fake.ack_timeout} s)"
            for late in fake.late_acks
        ]
    if errors:
        listed = "\n  ".join(errors)
        pytest.fail(f"fake Discord recorded {len(errors)} harness error(s):\n  {listed}")


@pytest.fixture
def discord_endpoints(fake_discord: FakeDiscord) -> Iterator[DiscordEndpoints]:
    """Point discord.py at the fake (Route.BASE, DEFAULT_GATEWAY); restored afterwards."""
    import discord.gateway
    import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake_discord.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake_discord.gateway_url)
    try:
        yield DiscordEndpoints(fake_discord.api_base, fake_discord.gateway_url)
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
