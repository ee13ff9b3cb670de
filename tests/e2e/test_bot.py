"""The real NewsBot end to end through the fake Discord: a temp SQLite file or PostgreSQL schema, real article files
(copied from ../shared/corpus into tmp_path), the real scheduler and an injected clock."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.discord.app import NewsBot
from bot.search.index import SearchIndex
from bot.settings import Settings
from bot.store.async_store import AsyncStore
from bot.store.db import Store
from bot.store.guilds import GuildDefaults
from bot.store.ingest import ingest_folders
from tests.fake_discord import EMBED_LINKS, SEND_MESSAGES, VIEW_CHANNEL, FakeDiscord
from tests.fake_discord.clients import running
from tests.fake_discord.plugin import DiscordEndpoints

pytestmark = pytest.mark.e2e

MESSAGES = "/channels/{channel_id}/messages"
COMMANDS = "/applications/{application_id}/commands"
TOPIC = "Diablo 4"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class World:
    """One bot installation on disk: settings, article folder, database."""

    def __init__(
        self, tmp_path: Path, corpus_dir: Path, database: Path | str | None = None
    ) -> None:
        articles = tmp_path / "articles"
        articles.mkdir()
        newest = sorted((corpus_dir / "diablo4" / "_news").glob("2023-0[45]-*.md"))[-40:]
        for path in newest:
            shutil.copy(path, articles / path.name)
        self.settings = Settings.model_validate(
            {
                "articles_dir": articles,
                "database": database or tmp_path / "data" / "newsbot.sqlite3",
            }
        )
        with Store.open(self.settings.database) as store:
            index = SearchIndex.open(self.settings.index_dir)
            report = ingest_folders(
                store, index, [articles], max_file_bytes=1_048_576, now=_fixed_now()
            )
            assert report.added > 20
            newest_published = store.newest_published()
            index.close()
        assert newest_published is not None
        self.clock = Clock(newest_published + timedelta(hours=1))

    @contextlib.asynccontextmanager
    async def bot(self, fake: FakeDiscord, **options: Any) -> AsyncIterator[NewsBot]:
        """A started NewsBot on this world's database (closed, with its store, afterwards)."""
        store = Store.open(self.settings.database)
        index = SearchIndex.open(self.settings.index_dir)
        astore = AsyncStore(store, GuildDefaults.from_settings(self.settings))
        options = {
            "tick_seconds": 3600.0,
            "rescan": False,
            "retry_base_seconds": 0.0,
            "guild_ready_timeout": 0.05,
            **options,
        }
        bot = NewsBot(
            settings=self.settings, store=astore, index=index, clock=self.clock, **options
        )
        try:
            async with running(bot, fake):
                yield bot
        finally:
            astore.close()
            index.close()
            store.close()


def _fixed_now() -> datetime:
    from datetime import UTC

    return datetime(2023, 5, 11, tzinfo=UTC)


@pytest.fixture
def world(tmp_path: Path, corpus_dir: Path, database: Path | str) -> World:
    """The bot's installation, on each engine (`database`)."""
    return World(tmp_path, corpus_dir, database)


def text_of(message: dict[str, Any]) -> str:
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts.append((embed.get("footer") or {}).get("text") or "")
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields") or []]
    return "\n".join(parts)


def embed_urls(messages: list[dict[str, Any]]) -> list[str]:
    return [e["url"] for m in messages for e in m.get("embeds") or [] if e.get("url")]


async def ask(
    fake: FakeDiscord, guild: Any, where: Any, user: Any, path: list[str], /, **options: Any
) -> Any:
    """Invoke a slash command and wait for its first answer."""
    handle = await fake.invoke(guild, where, user, path, options)
    await handle.response()
    return handle


async def configure(
    fake: FakeDiscord, guild: Any, channel: Any, admin: Any, *, time: str, tz: str = "UTC"
) -> None:
    await ask(fake, guild, channel, admin, ["digest", "channel"], channel=channel)
    await ask(fake, guild, channel, admin, ["digest", "topics", "add"], topic=TOPIC)
    await ask(fake, guild, channel, admin, ["digest", "schedule"], time=time, timezone=tz)


async def test_login_syncs_commands_once_across_restarts(
    world: World, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    fake_discord.add_guild("News Fans", channels=("general",))
    async with world.bot(fake_discord) as bot:
        assert bot.synced_commands
    synced = {c["name"]: c for c in fake_discord.commands()}
    assert set(synced) == {"news", "digest"}
    news = {o["name"] for o in synced["news"]["options"]}
    assert news == {"search", "top", "topics", "help", "why"}
    digest = {o["name"]: o for o in synced["digest"]["options"]}
    assert set(digest) == {
        "channel", "topics", "schedule", "settings", "pause", "resume", "now", "preview", "show",
    }  # fmt: skip
    assert {o["name"] for o in digest["topics"]["options"]} == {"add", "remove", "list"}
    assert str(synced["digest"]["default_member_permissions"]) == str(1 << 5)
    puts = len(fake_discord.requests_to("PUT", COMMANDS))
    assert puts == 1
    async with world.bot(fake_discord) as again:
        assert not again.synced_commands
    assert len(fake_discord.requests_to("PUT", COMMANDS)) == puts


async def test_admin_sets_up_a_digest_and_sees_it_in_show(
    world: World, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild("News Fans", channels=("general", "news"))
    general, news = list(guild.channels.values())[:2]
    admin = fake_discord.add_admin(guild)
    async with world.bot(fake_discord) as bot:
        handle = await ask(fake_discord, guild, general, admin, ["digest", "channel"], channel=news)
        assert handle.ephemeral
        assert f"<#{news.id}>" in handle.text()
        handle = await ask(
            fake_discord, guild, general, admin, ["digest", "topics", "add"], topic="diablo 4"
        )
        assert TOPIC in handle.text()
        handle = await ask(
            fake_discord, guild, general, admin, ["digest", "schedule"],
            time="07:45", timezone="Europe/Paris", weekdays="mon-fri",
        )  # fmt: skip
        assert "07:45" in handle.text()
        show = await ask(fake_discord, guild, general, admin, ["digest", "show"])
        text = show.text()
        for expected in (f"<#{news.id}>", TOPIC, "07:45 Europe/Paris", "mon-fri", "active"):
            assert expected in text
        state = await bot.store.guild(guild.id)
        assert state.next_run_at is not None
        local = state.next_run_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
        assert (local.hour, local.minute) == (7, 45)
        assert local.weekday() < 5
    assert fake_discord.late_acks == []


async def test_admin_previews_posts_now_pauses_and_resumes(
    world: World, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild("News Fans", channels=("general",))
    general = next(iter(guild.channels.values()))
    admin = fake_discord.add_admin(guild)
    async with world.bot(fake_discord) as bot:
        await configure(fake_discord, guild, general, admin, time="08:00")
        shown = await ask(fake_discord, guild, general, admin, ["digest", "settings"])
        assert "per_topic 3" in shown.text()
        changed = await ask(
            fake_discord, guild, general, admin, ["digest", "settings"], per_topic=2, silent=True
        )
        assert "per_topic 2" in changed.text()
        assert "silent on" in changed.text()
        preview = await fake_discord.invoke(guild, general, admin, ["digest", "preview"], {})
        await preview.response()
        first = await preview.followup()
        assert TOPIC in text_of(first)
        assert fake_discord.messages(general) == []  # a preview posts nothing
        now = await fake_discord.invoke(guild, general, admin, ["digest", "now"], {})
        await now.response()
        await now.followup()
        assert "Posted" in now.text()
        posted = fake_discord.messages(general)
        assert posted
        assert all(m["flags"] & 4096 for m in posted)  # silent
        again = await fake_discord.invoke(guild, general, admin, ["digest", "now"], {})
        await again.response()
        await again.followup()
        assert "Nothing new" in again.text()
        assert len(fake_discord.messages(general)) == len(posted)
        paused = await ask(fake_discord, guild, general, admin, ["digest", "pause"])
        assert "paused" in paused.text()
        assert (await bot.store.guild(guild.id)).next_run_at is None
        await ask(fake_discord, guild, general, admin, ["digest", "resume"])
        assert (await bot.store.guild(guild.id)).next_run_at is not None
    assert fake_discord.late_acks == []


async def test_news_top_topics_and_help(
    world: World, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild("News Fans", channels=("general",))
    general = next(iter(guild.channels.values()))
    reader = fake_discord.add_member(guild, "reader")
    async with world.bot(fake_discord):
        top = await fake_discord.invoke(
            guild, general, reader, ["news", "top"], {"topic": TOPIC, "days": 7, "share": True}
        )
        await top.response()
        page = await top.followup()
        assert not top.ephemeral  # shared on request
        assert page["embeds"]
        topics = await ask(fake_discord, guild, general, reader, ["news", "topics"])
        assert topics.ephemeral
        assert TOPIC in topics.text()
        helped = await ask(fake_discord, guild, general, reader, ["news", "help"])
        assert "/digest channel" in helped.text()
        unknown = await ask(fake_discord, guild, general, reader, ["news", "top"], topic="Diablo 5")
        assert "Did you mean" in unknown.text()
    assert fake_discord.late_acks == []


async def test_member_without_manage_server_is_refused(
    world: World, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild("News Fans", channels=("general",))
    general = next(iter(guild.channels.values()))
    reader = fake_discord.add_member(guild, "reader")
    async with world.bot(fake_discord) as bot:
        handle = await ask(
            fake_discord, guild, general, reader, ["digest", "channel"], channel=general
        )
        assert handle.ephemeral
        assert "Manage Server" in handle.text()
        state = await bot.store.guild(guild.id)
        assert state.settings.channel_id is None


async def test_bad_values_are_refused_and_change_nothing(
    world: World, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild("News Fans", channels=("general",))
    general = next(iter(guild.channels.values()))
    closed = fake_discord.add_channel(
        guild, "closed", overwrites={fake_discord.bot_user: (0, SEND_MESSAGES | EMBED_LINKS)}
    )
    admin = fake_discord.add_admin(guild)
    async with world.bot(fake_discord) as bot:
        await configure(fake_discord, guild, general, admin, time="08:00")
        before = await bot.store.guild(guild.id)
        cases: list[tuple[list[str], dict[str, Any], str]] = [
            (["digest", "schedule"], {"time": "25:99", "timezone": "UTC"}, "not a time of day"),
            (["digest", "schedule"], {"time": "09:00", "timezone": "Mars/Olympus"}, "time zone"),
            (
                ["digest", "schedule"],
                {"time": "09:00", "timezone": "UTC", "weekdays": ","},
                "at least one weekday",
            ),
            # Discord enforces the options' ranges; a client that does not is refused all the same
            (["digest", "settings"], {"per_topic": 11}, "per_topic must be from 1 to 10 (got 11)"),
            (["digest", "settings"], {"silent": True, "min_quality": 190}, "0 to 189"),
            (["digest", "topics", "add"], {"topic": "Diablo 5"}, "Diablo 4"),
            (["digest", "channel"], {"channel": closed}, "Send Messages"),
        ]
        for path, options, hint in cases:
            handle = await ask(fake_discord, guild, general, admin, path, **options)
            assert handle.ephemeral, path
            assert hint in handle.text(), (path, handle.text())
        assert await bot.store.guild(guild.id) == before


async def test_scheduled_digest_fires_at_its_time(
    world: World, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild("News Fans", channels=("general",))
    general = next(iter(guild.channels.values()))
    admin = fake_discord.add_admin(guild)
    async with world.bot(fake_discord) as bot:
        due = world.clock.now + timedelta(minutes=5)
        await configure(fake_discord, guild, general, admin, time=f"{due:%H:%M}")
        assert fake_discord.messages(general) == []
        world.clock.now = due.replace(second=10)
        report = await bot.scheduler.tick()
        assert [o.outcome for o in report.outcomes] == ["sent"]
    posted = fake_discord.messages(general)
    assert posted
    assert any(TOPIC in text_of(m) for m in posted)
    urls = embed_urls(posted)
    assert len(urls) == len(set(urls))
    bodies = [r.body for r in fake_discord.requests_to("POST", MESSAGES)]
    assert all(b["allowed_mentions"] == {"parse": []} for b in bodies)
    assert all(b.get("enforce_nonce") and len(b["nonce"]) <= 25 for b in bodies)
    assert len({b["nonce"] for b in bodies}) == len(bodies)


async def test_due_digest_is_posted_by_the_scheduler_at_startup(
    world: World, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild("News Fans", channels=("general",))
    general = next(iter(guild.channels.values()))
    with Store.open(world.settings.database) as store:
        from bot.store.guilds import update_settings

        defaults = GuildDefaults.from_settings(world.settings)
        due = world.clock.now + timedelta(minutes=1)
        update_settings(
            store.conn, guild.id,
            {"channel_id": general.id, "topics": (TOPIC,), "time": due.time().replace(second=0, microsecond=0)},
            defaults, now=world.clock.now,
        )  # fmt: skip
    world.clock.now = due + timedelta(minutes=10)  # the bot was down at the due time
    async with world.bot(fake_discord):
        await fake_discord.wait_until(lambda: bool(fake_discord.messages(general)), within=10)
    assert any(TOPIC in text_of(m) for m in fake_discord.messages(general))


async def test_news_search_round_trip_with_pagination(
    world: World, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild("News Fans", channels=("general",))
    general = next(iter(guild.channels.values()))
    reader = fake_discord.add_member(guild, "reader")
    other = fake_discord.add_member(guild, "other")
    async with world.bot(fake_discord):
        handle = await fake_discord.invoke(
            guild, general, reader, ["news", "search"], {"query": "diablo"}
        )
        first = await handle.response()
        assert first["type"] == 5  # deferred
        assert handle.ephemeral
        page1 = await handle.followup()
        assert "Page 1/" in text_of(page1)
        buttons = [c for row in page1.get("components") or [] for c in row["components"]]
        next_id = next(b["custom_id"] for b in buttons if b.get("label") == "Next")
        denied = await fake_discord.click(page1, next_id, other)
        await denied.response()
        assert denied.ephemeral
        assert "Only reader" in denied.text()
        turned = await fake_discord.click(page1, next_id, reader)
        answer = await turned.response()
        assert answer["type"] == 7  # message updated in place
        assert "Page 2/" in text_of(answer["data"])
        choices = await fake_discord.autocomplete(
            guild,
            general,
            reader,
            ["news", "search"],
            {"query": "x", "topic": "dia"},
            focused="topic",
        )
        await choices.response()
        assert TOPIC in [c["value"] for c in choices.choices]
    assert fake_discord.late_acks == []


async def test_channel_answering_403_does_not_stop_other_guilds(
    world: World, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guilds = [fake_discord.add_guild(f"Guild {n}", channels=("general",)) for n in range(3)]
    channels = [next(iter(g.channels.values())) for g in guilds]
    async with world.bot(fake_discord) as bot:
        due = world.clock.now + timedelta(minutes=5)
        for guild, channel in zip(guilds, channels, strict=True):
            await configure(
                fake_discord, guild, channel, fake_discord.add_admin(guild), time=f"{due:%H:%M}"
            )
        fake_discord.fail(
            "POST", f"/channels/{channels[1].id}/messages", status=403, code=50013, times=50
        )
        world.clock.now = due
        report = await bot.scheduler.tick()
        outcomes = {o.guild_id: o.outcome for o in report.outcomes}
        assert outcomes == {guilds[0].id: "sent", guilds[1].id: "failing", guilds[2].id: "sent"}
        refused = len(fake_discord.requests_to("POST", f"/channels/{channels[1].id}/messages"))
        world.clock.now = due + timedelta(days=1)
        await bot.scheduler.tick()  # the failing guild is not retried (no 403 storm)
        assert (
            len(fake_discord.requests_to("POST", f"/channels/{channels[1].id}/messages")) == refused
        )
        show = await ask(
            fake_discord,
            guilds[1],
            channels[1],
            fake_discord.add_admin(guilds[1], "boss"),
            ["digest", "show"],
        )
        assert "failing" in show.text()
        assert "permission" in show.text().lower()
    assert fake_discord.messages(channels[0])
    assert fake_discord.messages(channels[2])


async def test_admins_are_told_in_the_system_channel_why_the_digest_stopped(
    world: World, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild("Told", channels=("general", "news"))
    general, news = guild.channels.values()
    guild.system_channel_id = general.id
    async with world.bot(fake_discord) as bot:
        due = world.clock.now + timedelta(minutes=5)
        await configure(
            fake_discord, guild, news, fake_discord.add_admin(guild), time=f"{due:%H:%M}"
        )
        fake_discord.fail("POST", f"/channels/{news.id}/messages", status=403, code=50013, times=5)
        world.clock.now = due
        report = await bot.scheduler.tick()
        assert [o.outcome for o in report.outcomes] == ["failing"]
        notices = [text_of(m) for m in fake_discord.messages(general)]
    assert len(notices) == 1
    assert "News digest stopped" in notices[0]
    assert "permission" in notices[0].lower()
    assert fake_discord.messages(news) == []


async def test_killed_mid_burst_then_restarted_loses_and_repeats_nothing(
    world: World, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guilds = [fake_discord.add_guild(f"Guild {n}", channels=("general",)) for n in range(4)]
    channels = [next(iter(g.channels.values())) for g in guilds]
    due = world.clock.now + timedelta(minutes=5)
    async with world.bot(fake_discord, shutdown_grace=0.0) as bot:
        for guild, channel in zip(guilds, channels, strict=True):
            await configure(
                fake_discord, guild, channel, fake_discord.add_admin(guild), time=f"{due:%H:%M}"
            )
        # one channel answers slowly: the bot is killed while that post is in flight
        fake_discord.fail("POST", f"/channels/{channels[2].id}/messages", status=None, delay=1.0)
        world.clock.now = due
        burst = asyncio.create_task(bot.scheduler.tick())
        await fake_discord.wait_until(
            lambda: any(fake_discord.messages(c) for c in channels if c is not channels[2]),
            within=10,
        )
        await asyncio.sleep(0.2)
        burst.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await burst
        pending = await bot.store.journal.pending()
        assert pending  # the interrupted run is kept, not lost
    world.clock.now = due + timedelta(minutes=2)
    async with world.bot(fake_discord) as restarted:
        await restarted.scheduler.tick()
        assert await restarted.store.journal.pending() == []
        await asyncio.sleep(1.0)  # let the slow request of the first life land, if it does
    for channel in channels:
        posted = fake_discord.messages(channel)
        assert posted, channel.name
        urls = embed_urls(posted)
        assert len(urls) == len(set(urls)), f"an article was posted twice in {channel.name}"
    # every channel got the same complete digest (same articles, same window)
    assert len({tuple(sorted(embed_urls(fake_discord.messages(c)))) for c in channels}) == 1


def _unused(_: Callable[..., Any], __: int = VIEW_CHANNEL) -> None:
    """Keeps the permission constants import meaningful for readers of this module."""


async def test_pagination_buttons_disable_themselves_on_timeout(
    world: World, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild("News Fans", channels=("general",))
    general = next(iter(guild.channels.values()))
    reader = fake_discord.add_member(guild, "reader")
    async with world.bot(fake_discord, view_timeout=0.3):
        handle = await fake_discord.invoke(
            guild, general, reader, ["news", "search"], {"query": "diablo"}
        )
        await handle.response()
        await handle.followup()

        def all_disabled(h: Any) -> bool:
            rows = (h.messages[-1] if h.messages else {}).get("components") or []
            buttons = [c for row in rows for c in row["components"]]
            return bool(buttons) and all(b.get("disabled") for b in buttons)

        await handle.wait(all_disabled, within=5)
