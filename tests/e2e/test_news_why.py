"""`/news why` through the fake Discord: an admin hears about this server's digest and ledger,
a plain member about a default digest; bad and unknown links get a helpful ephemeral reply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.discord_limits import validate_message_body
from tests.e2e.test_bot import TOPIC, World, configure, embed_urls
from tests.fake_discord import FakeDiscord
from tests.fake_discord.plugin import DiscordEndpoints

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(tmp_path: Path, corpus_dir: Path, database: Path | str) -> World:
    return World(tmp_path, corpus_dir, database)


async def why(fake: FakeDiscord, guild: Any, channel: Any, user: Any, url: str) -> Any:
    handle = await fake.invoke(guild, channel, user, ["news", "why"], {"url": url})
    await handle.response()
    if handle.deferred:
        await handle.followup()
    return handle


async def test_news_why_for_an_admin_and_for_a_member(
    world: World,
    fake_discord: FakeDiscord,
    discord_endpoints: DiscordEndpoints,
    discord_spec: dict[str, Any],
) -> None:
    guild = fake_discord.add_guild("News Fans", channels=("general",))
    general = next(iter(guild.channels.values()))
    admin = fake_discord.add_admin(guild)
    reader = fake_discord.add_member(guild, "reader")
    async with world.bot(fake_discord):
        await configure(fake_discord, guild, general, admin, time="08:00")
        posting = await fake_discord.invoke(guild, general, admin, ["digest", "now"], {})
        await posting.response()
        await posting.followup()
        posted = embed_urls(fake_discord.messages(general))
        assert posted
        day = f"{world.clock():%Y-%m-%d}"

        told = await why(fake_discord, guild, general, admin, posted[0])
        assert told.ephemeral
        text = told.text()
        assert f"already posted to this channel on {day}" in text.casefold()
        assert "This server's digest" in text
        assert "nothing new yet: the last digest was" in text  # it was just posted
        assert TOPIC in text
        assert "Score" in text
        for message in told.messages:
            assert validate_message_body(message, discord_spec) == []

        plain = await why(fake_discord, guild, general, reader, posted[0])
        assert plain.ephemeral
        text = plain.text()
        assert "already posted" not in text.casefold()  # no ledger details for members
        assert "A default digest" in text
        assert "In the digest" in text  # a fresh digest over the server's topics has it
        for message in plain.messages:
            assert validate_message_body(message, discord_spec) == []

        bad = await why(fake_discord, guild, general, reader, "hello there")
        assert bad.ephemeral
        assert "is not a link" in bad.text()
        unknown = await why(fake_discord, guild, general, reader, "https://nowhere.example/x")
        assert unknown.ephemeral
        assert "No article with the link https://nowhere.example/x" in unknown.text()
        assert "/news search" in unknown.text()
    sent = fake_discord.requests_to("POST", "/webhooks/{webhook_id}/{webhook_token}")
    assert sent
    assert all(r.body["allowed_mentions"] == {"parse": []} for r in sent)  # nothing pings
    assert fake_discord.late_acks == []
