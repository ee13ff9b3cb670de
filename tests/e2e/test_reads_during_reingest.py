"""Interactions are answered within Discord's deadline while a large re-ingest writes.

The re-ingest runs as the bot runs one (its own thread and connection) and is held mid-run;
meanwhile the store's writer thread is kept busy too (as during the index sync that follows a
re-ingest). `/digest show` and `/news search` must still be answered in time: they read on
connections of their own (SQLite WAL readers, a PostgreSQL pool), never behind the writer.
The fake Discord's late-ack detection is the deadline (3 s); nothing here times anything.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from benchmarks.articles_gen import generate_folder
from bot.store.db import Store
from bot.store.ingest import IngestReport, ingest_folders
from tests.e2e.test_bot import TOPIC, World, ask, configure, text_of
from tests.fake_discord import FakeDiscord
from tests.fake_discord.plugin import DiscordEndpoints

pytestmark = pytest.mark.e2e

BULK_FILES = 1500


@pytest.fixture
def world(tmp_path: Path, corpus_dir: Path, database: Path | str) -> World:
    return World(tmp_path, corpus_dir, database)


async def test_show_and_search_answer_in_time_while_a_large_reingest_runs(
    world: World, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints, tmp_path: Path
) -> None:
    bulk = tmp_path / "bulk"
    generate_folder(bulk, BULK_FILES, seed=13)
    ingesting, release = threading.Event(), threading.Event()

    def hold(done: int, total: int | None) -> None:  # the ingest's progress: stop mid-run
        if total is None and not ingesting.is_set():
            ingesting.set()
            release.wait(60)

    def reingest() -> IngestReport:
        with Store.open(world.settings.database) as store:
            return ingest_folders(
                store, None, [bulk], max_file_bytes=1_048_576, now=world.clock(), progress=hold
            )

    def busy_writer() -> None:
        release.wait(60)

    guild = fake_discord.add_guild("News Fans", channels=("general",))
    general = next(iter(guild.channels.values()))
    admin = fake_discord.add_admin(guild)
    async with world.bot(fake_discord) as bot:
        await configure(fake_discord, guild, general, admin, time="08:00")
        writer = asyncio.ensure_future(bot.store.run(busy_writer))
        ingest = asyncio.ensure_future(asyncio.to_thread(reingest))
        try:
            assert await asyncio.to_thread(ingesting.wait, 60)
            show = await ask(fake_discord, guild, general, admin, ["digest", "show"])
            assert TOPIC in show.text()
            search = await fake_discord.invoke(
                guild, general, admin, ["news", "search"], {"query": "diablo"}
            )
            await search.response()
            page = await search.followup()
            assert "Page 1/" in text_of(page)
            assert not ingest.done()  # both answered while the re-ingest was still under way
            assert not writer.done()
        finally:
            release.set()
        await writer
        report = await ingest
        assert report.scanned == BULK_FILES
        assert report.added > BULK_FILES // 2
    assert fake_discord.late_acks == []
