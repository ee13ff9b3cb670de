"""Scheduling with a fixed clock: time zones, weekdays, DST fall-back, catch-up, exactly-once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from bot_helpers import RecordingClient, http_error, make_article, put_articles

from bot.core.models import GuildSettings
from bot.core.schedule import next_run_after
from bot.discord.delivery import Deliverer
from bot.discord.pacing import ChannelSpacer, Pacer, WindowLimiter
from bot.discord.scheduler import BotScheduler
from bot.settings import Settings
from bot.store.async_store import AsyncStore
from bot.store.db import Store
from bot.store.guilds import GuildDefaults


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def guild_settings(**changes: Any) -> GuildSettings:
    values: dict[str, Any] = {
        "guild_id": 1,
        "channel_id": 2,
        "topics": ("AI",),
        "time": time(8, 0),
        "timezone": "UTC",
        "weekdays": frozenset(range(7)),
        "per_topic": 3,
        "min_quality": 0,
        "max_per_provider": 2,
        "lookback_hours": 24,
    }
    values.update(changes)
    return GuildSettings(**values)


def test_next_run_is_local_time_in_the_servers_zone() -> None:
    winter = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
    summer = datetime(2025, 7, 15, 12, 0, tzinfo=UTC)
    paris = guild_settings(timezone="Europe/Paris")
    assert next_run_after(paris, winter) == datetime(2025, 1, 16, 7, 0, tzinfo=UTC)
    assert next_run_after(paris, summer) == datetime(2025, 7, 16, 6, 0, tzinfo=UTC)


def test_next_run_respects_weekdays_and_never_returns_the_same_instant() -> None:
    friday_8am = datetime(2025, 3, 14, 8, 0, tzinfo=UTC)
    weekdays = guild_settings(weekdays=frozenset(range(5)))
    assert next_run_after(weekdays, friday_8am) == datetime(2025, 3, 17, 8, 0, tzinfo=UTC)


def test_inactive_digest_has_no_next_run() -> None:
    assert next_run_after(guild_settings(topics=()), datetime(2025, 1, 1, tzinfo=UTC)) is None
    assert next_run_after(guild_settings(paused=True), datetime(2025, 1, 1, tzinfo=UTC)) is None


@pytest.fixture
async def rig(
    store: Store, settings: Settings, defaults: GuildDefaults
) -> AsyncIterator[Callable[..., tuple[BotScheduler, RecordingClient, Clock, AsyncStore]]]:
    stores: list[AsyncStore] = []

    def build(now: datetime) -> tuple[BotScheduler, RecordingClient, Clock, AsyncStore]:
        clock = Clock(now)
        client = RecordingClient()
        astore = AsyncStore(store, defaults)
        stores.append(astore)
        pacer = Pacer(WindowLimiter(10_000), ChannelSpacer(10_000, 5.0))
        deliverer = Deliverer(
            client,  # type: ignore[arg-type]
            astore,
            settings,
            pacer,
            clock=clock,
            retry_base_seconds=0.0,
        )
        scheduler = BotScheduler(
            astore, deliverer, clock=clock, catch_up_minutes=settings.schedule.catch_up_minutes
        )
        return scheduler, client, clock, astore

    yield build
    for astore in stores:
        astore.close()


async def test_fall_back_day_in_new_york_posts_once(store: Store, rig: Callable[..., Any]) -> None:
    # 2025-11-02: clocks in New York fall back from 02:00 EDT to 01:00 EST; 01:30 happens twice
    first = datetime(2025, 11, 2, 5, 30, tzinfo=UTC)  # 01:30 EDT
    put_articles(store, [make_article(n, published=first - timedelta(hours=2)) for n in range(3)])
    scheduler, client, clock, astore = rig(first - timedelta(hours=3))
    await astore.update_guild(
        1,
        {"channel_id": 2, "topics": ("AI",), "time": time(1, 30), "timezone": "America/New_York"},
        now=clock(),
    )
    assert (await astore.guild(1)).next_run_at == first
    clock.now = first
    report = await scheduler.tick()
    assert [o.outcome for o in report.outcomes] == ["sent"]
    posts = len(client.posted)
    assert posts >= 1
    # the repeated 01:30 (EST) is not a second run: the next one is the next local day
    assert (await astore.guild(1)).next_run_at == datetime(2025, 11, 3, 6, 30, tzinfo=UTC)
    clock.now = datetime(2025, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 EST, the hour repeated
    report = await scheduler.tick()
    assert [o.outcome for o in report.outcomes] in ([], ["already-done"])
    assert len(client.posted) == posts


async def test_missed_run_is_caught_up_within_the_grace(
    store: Store, rig: Callable[..., Any]
) -> None:
    due = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    put_articles(store, [make_article(n, published=due - timedelta(hours=3)) for n in range(3)])
    scheduler, client, clock, astore = rig(due - timedelta(hours=1))
    await astore.update_guild(1, {"channel_id": 2, "topics": ("AI",)}, now=clock())
    clock.now = due + timedelta(minutes=90)  # the bot was down at 08:00, back at 09:30
    report = await scheduler.tick()
    assert [o.outcome for o in report.outcomes] == ["sent"]
    assert client.in_channel(2)


async def test_missed_run_beyond_the_grace_is_skipped_to_the_next_occurrence(
    store: Store, rig: Callable[..., Any]
) -> None:
    due = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    put_articles(store, [make_article(n, published=due - timedelta(hours=3)) for n in range(3)])
    scheduler, client, clock, astore = rig(due - timedelta(hours=1))
    await astore.update_guild(1, {"channel_id": 2, "topics": ("AI",)}, now=clock())
    clock.now = due + timedelta(hours=4)  # catch-up grace is 180 minutes
    report = await scheduler.tick()
    assert report.skipped == 1
    assert client.posted == []
    state = await astore.guild(1)
    assert state.next_run_at == datetime(2025, 3, 11, 8, 0, tzinfo=UTC)
    assert "skipped" in (state.last_result or "")


async def test_refused_channel_marks_only_that_guild_failing(
    store: Store, rig: Callable[..., Any]
) -> None:
    due = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    put_articles(store, [make_article(n, published=due - timedelta(hours=3)) for n in range(6)])
    scheduler, client, clock, astore = rig(due - timedelta(hours=1))
    for guild in (1, 2, 3):
        await astore.update_guild(guild, {"channel_id": guild * 10, "topics": ("AI",)}, now=clock())
    client.refuse[20] = http_error(403, 50013, "Missing Permissions")
    clock.now = due
    report = await scheduler.tick()
    by_guild = {o.guild_id: o.outcome for o in report.outcomes}
    assert by_guild == {1: "sent", 2: "failing", 3: "sent"}
    failing = await astore.guild(2)
    assert failing.failing_reason is not None
    assert "permission" in failing.failing_reason.lower()
    assert failing.next_run_at is None  # no retry storm
    assert client.in_channel(10)
    assert client.in_channel(30)
    assert scheduler.deliverer.stats.failing_guilds == {2}


async def test_interrupted_run_resumes_without_duplicates_or_losses(
    store: Store, rig: Callable[..., Any]
) -> None:
    due = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    topics = ("AI", "Space", "Rust")
    articles = [
        make_article(n, topic=topics[n % 3], published=due - timedelta(hours=2)) for n in range(9)
    ]
    put_articles(store, articles)
    scheduler, client, clock, astore = rig(due - timedelta(hours=1))
    await astore.update_guild(1, {"channel_id": 2, "topics": topics}, now=clock())
    client.fail_after_post = {1}  # the first message is accepted, then the process "dies"
    clock.now = due
    report = await scheduler.tick()
    assert [o.outcome for o in report.outcomes] == ["failed"]
    pending = await astore.pending_runs()
    assert len(pending) == 1
    # restart: a fresh scheduler on the same database, same channel recorder (Discord)
    client.fail_after_post = set()
    restarted, _, _clock2, astore2 = rig(due + timedelta(minutes=1))
    restarted.deliverer.client = client
    report = await restarted.tick()
    assert [o.outcome for o in report.outcomes] == ["sent"]
    assert await astore2.pending_runs() == []
    nonces = [p.nonce for p in client.in_channel(2)]
    assert len(nonces) == len(set(nonces)) == len(pending[0].payloads)
    assert all(isinstance(n, str) and len(n) <= 25 for n in nonces)
    posted = await astore2.posted_ids(2)
    assert posted
    assert posted <= {a.id for a in articles}


async def test_manual_run_respects_the_ledger(store: Store, rig: Callable[..., Any]) -> None:
    now = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    put_articles(store, [make_article(n, published=now - timedelta(hours=2)) for n in range(3)])
    scheduler, client, _clock, astore = rig(now)
    state = await astore.update_guild(1, {"channel_id": 2, "topics": ("AI",)}, now=now)
    first = await scheduler.deliverer.deliver_now(state)
    assert first.outcome == "sent"
    again = await scheduler.deliverer.deliver_now(await astore.guild(1))
    assert again.outcome == "empty"
    assert len(client.in_channel(2)) == first.messages


async def test_shutdown_is_safe_when_never_started(rig: Callable[..., Any]) -> None:
    scheduler, *_ = rig(datetime(2025, 3, 10, tzinfo=UTC))
    scheduler.shutdown()
    scheduler.shutdown()
    assert not scheduler.running
    assert await scheduler.drain(0.1)
    await asyncio.sleep(0)


async def test_server_errors_are_retried_with_the_same_nonce(
    store: Store, rig: Callable[..., Any]
) -> None:
    now = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    put_articles(store, [make_article(n, published=now - timedelta(hours=2)) for n in range(3)])
    scheduler, client, _clock, astore = rig(now)
    state = await astore.update_guild(1, {"channel_id": 2, "topics": ("AI",)}, now=now)
    client.transient = [http_error(503, 0, "unavailable"), TimeoutError()]
    outcome = await scheduler.deliverer.deliver_now(state)
    assert outcome.outcome == "sent"
    assert scheduler.deliverer.stats.retries == 2
    assert len(client.in_channel(2)) == outcome.messages


async def test_a_message_refused_for_good_is_not_resent_and_frees_its_articles(
    store: Store, rig: Callable[..., Any]
) -> None:
    now = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    put_articles(store, [make_article(n, published=now - timedelta(hours=2)) for n in range(3)])
    scheduler, client, _clock, astore = rig(now)
    state = await astore.update_guild(1, {"channel_id": 2, "topics": ("AI",)}, now=now)
    client.transient = [http_error(400, 50035, "Invalid Form Body")]
    outcome = await scheduler.deliverer.deliver_now(state)
    assert outcome.outcome == "failed"
    assert await astore.pending_runs() == []
    assert await astore.posted_ids(2) == set()  # a later run may post them
    assert "refused" in ((await astore.guild(1)).last_result or "")


def test_spring_forward_gap_still_runs_that_day() -> None:
    # 2026-03-08: New York skips 02:00-03:00; a 02:30 digest comes at 03:30 EDT that day
    gap = guild_settings(time=time(2, 30), timezone="America/New_York")
    run = next_run_after(gap, datetime(2026, 3, 7, 12, 0, tzinfo=UTC))
    assert run == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
