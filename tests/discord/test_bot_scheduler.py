"""Scheduling with a fixed clock: time zones, weekdays, DST fall-back, catch-up, exactly-once."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from bot.core.models import GuildSettings
from bot.core.schedule import next_run_after
from bot.discord.delivery import Deliverer, retry_wait
from bot.discord.pacing import ChannelSpacer, Pacer, WindowLimiter
from bot.discord.scheduler import BotScheduler
from bot.settings import DeliverySettings, Settings
from bot.store import cluster
from bot.store.async_store import AsyncStore
from bot.store.db import Store
from bot.store.guilds import GuildDefaults, manual_run_key
from tests.discord.bot_helpers import RecordingClient, http_error, make_article, put_articles


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

    def build(
        now: datetime, *, concurrency: int = 64
    ) -> tuple[BotScheduler, RecordingClient, Clock, AsyncStore]:
        clock = Clock(now)
        client = RecordingClient()
        astore = AsyncStore(store, defaults)
        stores.append(astore)
        pacer = Pacer(WindowLimiter(10_000), ChannelSpacer(10_000, 5.0))
        deliverer = Deliverer(
            client,  # type: ignore[arg-type]  # a recording stand-in for discord.Client
            astore,
            settings,
            pacer,
            clock=clock,
            retry_base_seconds=0.0,
            concurrency=concurrency,
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
    pending = await astore.journal.pending()
    assert len(pending) == 1
    # restart: a fresh scheduler on the same database, same channel recorder (Discord)
    client.fail_after_post = set()
    restarted, _, _clock2, astore2 = rig(due + timedelta(minutes=1))
    restarted.deliverer.client = client
    report = await restarted.tick()
    assert [o.outcome for o in report.outcomes] == ["sent"]
    assert await astore2.journal.pending() == []
    nonces = [p.nonce for p in client.in_channel(2)]
    assert len(nonces) == len(set(nonces)) == len(pending[0].payloads)
    assert all(isinstance(n, str) and len(n) <= 25 for n in nonces)
    posted = await astore2.journal.posted_ids(2)
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
    assert await astore.journal.pending() == []
    assert await astore.journal.posted_ids(2) == set()  # a later run may post them
    assert "refused" in ((await astore.guild(1)).last_result or "")


def test_spring_forward_gap_still_runs_that_day() -> None:
    # 2026-03-08: New York skips 02:00-03:00; a 02:30 digest comes at 03:30 EDT that day
    gap = guild_settings(time=time(2, 30), timezone="America/New_York")
    run = next_run_after(gap, datetime(2026, 3, 7, 12, 0, tzinfo=UTC))
    assert run == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


async def configure_guilds(astore: AsyncStore, guilds: range, now: datetime) -> None:
    for guild in guilds:
        await astore.update_guild(guild, {"channel_id": guild * 10, "topics": ("AI",)}, now=now)


def assert_one_digest_each(client: RecordingClient, channels: list[int]) -> None:
    """Every channel got the digest, and no message (nonce) or article twice."""
    digests = set()
    for channel in channels:
        posted = client.in_channel(channel)
        assert posted, f"channel {channel} got no digest"
        nonces = [p.nonce for p in posted]
        assert len(nonces) == len(set(nonces)), f"channel {channel} got a message twice"
        urls = [e.url for p in posted for e in p.kwargs.get("embeds", [])]
        assert len(urls) == len(set(urls)), f"channel {channel} got an article twice"
        digests.add(tuple(sorted(urls)))
    assert len(digests) == 1  # the same digest everywhere


async def test_servers_claimed_before_a_crash_are_delivered_after_the_restart(
    store: Store, rig: Callable[..., Any]
) -> None:
    """Issue 11: a claim moved the next run to tomorrow; the process died before any run row."""
    due = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    put_articles(store, [make_article(n, published=due - timedelta(hours=3)) for n in range(3)])
    _scheduler, client, clock, astore = rig(due - timedelta(hours=1))
    await configure_guilds(astore, range(1, 4), clock())
    claimed = await astore.journal.claim(due + timedelta(seconds=5))  # ... and then SIGKILL
    assert len(claimed) == 3
    restarted, _, _clock, astore2 = rig(due + timedelta(minutes=1))
    restarted.deliverer.client = client
    report = await restarted.tick()
    assert [o.outcome for o in report.outcomes] == ["sent"] * 3
    assert_one_digest_each(client, [10, 20, 30])
    assert await astore2.journal.open_claims() == []
    posted = len(client.posted)
    await restarted.tick()  # nothing is left to deliver, nothing is delivered twice
    assert len(client.posted) == posted


async def test_a_burst_cut_short_leaves_no_server_behind(
    store: Store, rig: Callable[..., Any]
) -> None:
    """More servers than delivery slots; the tick is cut (a kill, or shutdown's drain running
    out) while the first post hangs: the restart delivers every server exactly once."""
    due = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    put_articles(store, [make_article(n, published=due - timedelta(hours=3)) for n in range(3)])
    scheduler, client, clock, astore = rig(due - timedelta(hours=1), concurrency=2)
    await configure_guilds(astore, range(1, 7), clock())
    client.hold = asyncio.Event()  # Discord does not answer
    clock.now = due
    burst = asyncio.create_task(scheduler.tick())
    for _ in range(500):
        if client.waiting == 2:
            break
        await asyncio.sleep(0.01)
    assert client.waiting == 2  # both slots hang; four servers are still queued
    burst.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await burst
    assert len(await astore.journal.pending()) == 2
    assert len(await astore.journal.open_claims()) == 4
    client.hold = None
    restarted, _, _clock, astore2 = rig(due + timedelta(minutes=2))
    restarted.deliverer.client = client
    report = await restarted.tick()
    assert sorted(o.outcome for o in report.outcomes) == ["sent"] * 6
    assert_one_digest_each(client, [10, 20, 30, 40, 50, 60])
    assert await astore2.journal.pending() == []
    assert await astore2.journal.open_claims() == []


async def test_claims_left_too_long_or_for_a_changed_digest_are_dropped(
    store: Store, rig: Callable[..., Any]
) -> None:
    due = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    put_articles(store, [make_article(n, published=due - timedelta(hours=3)) for n in range(3)])
    _scheduler, client, clock, astore = rig(due - timedelta(hours=1))
    await configure_guilds(astore, range(1, 3), clock())
    await astore.journal.claim(due)  # and the process dies
    await astore.update_guild(2, {"paused": True}, now=due)
    restarted, _, _clock, astore2 = rig(due + timedelta(hours=4))  # beyond the 180 min grace
    restarted.deliverer.client = client
    report = await restarted.tick()
    assert report.skipped == 2
    assert client.posted == []
    assert await astore2.journal.open_claims() == []
    assert "skipped" in ((await astore2.guild(1)).last_result or "")


def test_retry_waits_honour_retry_after_and_spread_out() -> None:
    rng = random.Random(11)
    waits = [retry_wait(0, 1.0, 2.5, rng) for _ in range(200)]
    assert all(2.5 <= w <= 2.5 * 1.25 for w in waits)  # never sooner than Discord asked
    assert len(set(waits)) > 100  # jittered: a burst of retries does not come back together
    assert all(4.0 <= retry_wait(2, 1.0, None, rng) <= 5.0 for _ in range(50))  # back-off 1*2^2
    assert retry_wait(30, 1.0, None, rng) <= 60 * 1.25  # bounded


async def test_a_429_is_retried_after_its_retry_after_with_the_same_nonce(
    store: Store, rig: Callable[..., Any]
) -> None:
    now = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    put_articles(store, [make_article(n, published=now - timedelta(hours=2)) for n in range(3)])
    scheduler, client, _clock, astore = rig(now)
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    scheduler.deliverer.sleep = sleep
    state = await astore.update_guild(1, {"channel_id": 2, "topics": ("AI",)}, now=now)
    limited = http_error(
        429, 0, "rate limited", {"Retry-After": "3", "X-RateLimit-Reset-After": "2.5"}
    )
    client.transient = [limited, http_error(503, 0, "unavailable", {"Retry-After": "4"})]
    outcome = await scheduler.deliverer.deliver_now(state)
    assert outcome.outcome == "sent"
    assert len(waited) == 2
    assert 2.5 <= waited[0] <= 2.5 * 1.25
    assert 4.0 <= waited[1] <= 4.0 * 1.25
    assert scheduler.deliverer.stats.rate_limited == 1
    assert len(client.in_channel(2)) == outcome.messages


async def test_a_post_whose_answer_never_comes_is_retried_once_and_not_duplicated(
    store: Store, settings: Settings, rig: Callable[..., Any]
) -> None:
    now = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    put_articles(store, [make_article(n, published=now - timedelta(hours=2)) for n in range(3)])
    scheduler, client, _clock, astore = rig(now)
    quick = DeliverySettings(request_timeout_seconds=0.05)
    scheduler.deliverer.settings = settings.model_copy(update={"delivery": quick})
    state = await astore.update_guild(1, {"channel_id": 2, "topics": ("AI",)}, now=now)
    client.lose_answers = 1  # Discord posts the first message, its answer is lost
    outcome = await asyncio.wait_for(scheduler.deliverer.deliver_now(state), 30)
    assert outcome.outcome == "sent"
    assert scheduler.deliverer.stats.timeouts == 1
    assert scheduler.deliverer.stats.retries == 1
    posted = client.in_channel(2)
    assert len(posted) == outcome.messages  # the retry's nonce found the first post


async def test_a_run_left_with_every_message_sent_is_finished_without_posting(
    store: Store, rig: Callable[..., Any]
) -> None:
    """An earlier version recorded the last message as sent and died before finishing the run:
    the restart finishes it (and the server's last result) and posts nothing again."""
    due = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    put_articles(store, [make_article(n, published=due - timedelta(hours=3)) for n in range(3)])
    scheduler, client, clock, astore = rig(due - timedelta(hours=1))
    await configure_guilds(astore, range(1, 2), clock())
    client.fail_after_post = {1}  # the message is accepted, then the process "dies"
    clock.now = due
    await scheduler.tick()
    (run,) = await astore.journal.pending()
    store.conn.execute(  # as the earlier version left it: every message sent, run still pending
        "UPDATE digest_runs SET messages_sent = ? WHERE run_key = ?",
        (len(run.payloads), run.run_key),
    )
    store.conn.execute(
        "UPDATE delivery_ledger SET status = 'sent' WHERE run_key = ?", (run.run_key,)
    )
    posted = len(client.posted)
    restarted, _, _clock, astore2 = rig(due + timedelta(minutes=1))
    restarted.deliverer.client = client
    report = await restarted.tick()
    assert [o.outcome for o in report.outcomes] == ["sent"]
    assert len(client.posted) == posted
    assert await astore2.journal.pending() == []
    state = await astore2.guild(1)
    assert "posted" in (state.last_result or "")
    assert state.last_run_at == run.window_end


async def test_a_run_stops_when_the_lease_goes_and_the_successor_finishes_it(
    store: Store, rig: Callable[..., Any]
) -> None:
    """Several processes: the deliverer that loses its lease mid-run posts no further message;
    the run stays pending, and the process that delivers now finishes it with the same nonces."""
    due = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    topics = ("AI", "Space", "Rust", "Go")  # 12 stories: more than one message's 10 embeds
    articles = [
        make_article(n, topic=topics[n % 4], published=due - timedelta(hours=2)) for n in range(12)
    ]
    put_articles(store, articles)
    scheduler, client, clock, astore = rig(due - timedelta(hours=1))
    await astore.update_guild(1, {"channel_id": 2, "topics": topics}, now=clock())
    answers = iter([True])  # the lease holds for the first message only
    scheduler.deliverer.delivers = lambda: next(answers, False)
    clock.now = due
    report = await scheduler.tick()
    assert [(o.outcome, o.messages) for o in report.outcomes] == [("skipped", 1)]
    [left] = await astore.journal.pending()
    assert len(left.payloads) > 1
    assert len(client.in_channel(2)) == 1

    successor, _, _, astore2 = rig(due + timedelta(seconds=12))
    successor.deliverer.client = client
    report = await successor.tick()
    assert [o.outcome for o in report.outcomes] == ["sent"]
    assert await astore2.journal.pending() == []
    nonces = [p.nonce for p in client.in_channel(2)]
    assert len(nonces) == len(set(nonces)) == len(left.payloads)


async def test_only_the_process_holding_the_lease_delivers(
    store: Store, rig: Callable[..., Any]
) -> None:
    """Several processes: one that does not deliver claims and posts nothing, and neither does
    one that believes it delivers while the store says another process holds the lease."""
    due = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    put_articles(store, [make_article(n, published=due - timedelta(hours=3)) for n in range(3)])
    scheduler, client, clock, astore = rig(due - timedelta(hours=1))
    await configure_guilds(astore, range(1, 3), clock())
    me, now_us, ttl_us = "host-a:1:aaaaaa", 1_741_593_600_000_000, 10_000_000
    assert cluster.acquire(store.conn, "host-b:2:bbbbbb", now_us=now_us, ttl_us=ttl_us)
    delivering = [False]
    scheduler.delivers = lambda: delivering[0]
    scheduler.fence = lambda conn: cluster.holds(conn, me, now_us=now_us + 1)
    clock.now = due + timedelta(minutes=1)

    assert (await scheduler.tick()).outcomes == ()  # another process delivers
    delivering[0] = True  # this one thinks it does (a paused process waking up) ...
    assert (await scheduler.tick()).outcomes == ()  # ... but the claim's fence says no
    assert client.posted == []
    assert (await astore.guild(1)).next_run_at == due  # left for the real deliverer
    assert await astore.journal.open_claims() == []

    cluster.release(store.conn, "host-b:2:bbbbbb")
    assert cluster.acquire(store.conn, me, now_us=now_us, ttl_us=ttl_us)
    report = await scheduler.tick()
    assert [o.outcome for o in report.outcomes] == ["sent"] * 2
    assert_one_digest_each(client, [10, 20])


async def test_a_digest_now_asked_on_another_process_is_posted_by_the_deliverer(
    store: Store, rig: Callable[..., Any]
) -> None:
    """`/digest now` answered by a process that does not deliver claims a manual run; the
    deliverer's next tick posts it (also for a paused server: a manual run needs no schedule),
    and a request for a server the bot has left is dropped."""
    now = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
    put_articles(store, [make_article(n, published=now - timedelta(hours=2)) for n in range(3)])
    scheduler, client, _clock, astore = rig(now)
    await configure_guilds(astore, range(1, 3), now)
    await astore.update_guild(1, {"paused": True}, now=now)
    await astore.set_removed(2, True, now=now)
    await astore.journal.request(manual_run_key(1, 10), 1, 10, now=now)
    await astore.journal.request(manual_run_key(2, 20), 2, 20, now=now)
    report = await scheduler.tick()
    assert [(o.guild_id, o.outcome) for o in report.outcomes] == [(1, "sent")]
    assert report.skipped == 1
    assert len(client.in_channel(10)) == 1
    assert client.in_channel(20) == []
    assert await astore.journal.open_claims() == []
    assert await astore.journal.pending() == []
