"""Pacing in virtual time: the shared rate limit and per-channel spacing hold under a burst."""

from __future__ import annotations

import asyncio
import logging
import random
import time

import pytest

from bot.discord.pacing import ChannelSpacer, Pacer, WindowLimiter


class VirtualTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def max_in_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window - 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_burst_stays_under_the_limit_as_the_server_counts_despite_delays() -> None:
    """Requests reach "Discord" after random delays; no window there ever holds more than the limit."""
    rng = random.Random(7)
    limiter = WindowLimiter(4, per=0.1)  # 40/s, scaled down to keep the test short
    received: list[float] = []

    async def call() -> None:
        async with limiter.slot():
            await asyncio.sleep(rng.uniform(0, 0.03))  # on its way to Discord
            received.append(time.monotonic())
            await asyncio.sleep(rng.uniform(0, 0.03))  # the answer on its way back

    await asyncio.gather(*(call() for _ in range(40)))
    assert len(received) == 40
    assert max_in_window(received, 0.1) <= 4


async def test_window_limiter_waits_for_answers_when_all_slots_are_in_flight() -> None:
    vt = VirtualTime()
    limiter = WindowLimiter(2, per=1.0, clock=vt.clock, sleep=vt.sleep)
    await limiter.acquire()
    await limiter.acquire()
    limiter.release()
    limiter.release()
    before = vt.now
    await limiter.acquire()  # both slots are held until one second after their answers
    assert vt.now - before >= 1.0 - 1e-9


async def test_one_channel_gets_at_most_5_messages_per_5_seconds() -> None:
    vt = VirtualTime()
    spacer = ChannelSpacer(5, 5.0, clock=vt.clock, sleep=vt.sleep)
    stamps: dict[int, list[float]] = {1: [], 2: []}

    async def post(channel: int) -> None:
        await spacer.acquire(channel)
        stamps[channel].append(vt.now)

    await asyncio.gather(*(post(1) for _ in range(12)))
    assert max_in_window(stamps[1], 5.0) == 5
    before = vt.now
    await post(2)  # another channel is not held back by the busy one
    assert stamps[2] == [before]


async def test_pacer_applies_both_limits() -> None:
    vt = VirtualTime()
    pacer = Pacer(
        WindowLimiter(40, clock=vt.clock, sleep=vt.sleep),
        ChannelSpacer(5, 5.0, clock=vt.clock, sleep=vt.sleep),
    )
    for _ in range(6):
        async with pacer.message(7):
            pass
    assert vt.now >= 5.0  # the 6th message in one channel waited for the window


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        WindowLimiter(0)


def test_rate_limits_discord_py_retried_itself_are_counted() -> None:
    from bot.discord.delivery import DeliveryStats, RateLimitCounter

    stats = DeliveryStats()
    counter = RateLimitCounter(stats)
    logger = logging.getLogger("discord.http")
    logger.addFilter(counter)
    try:
        fmt = "We are being rate limited. %s %s responded with 429. Retrying in %.2f seconds."
        logger.warning(fmt, "POST", "/channels/1/messages", 0.5)
        logger.warning("something else")
    finally:
        logger.removeFilter(counter)
    assert stats.rate_limited == 1


async def test_channels_idle_for_a_window_are_forgotten_but_busy_ones_still_paced() -> None:
    """The pacing state stays bounded however many channels a bot has posted to."""
    vt = VirtualTime()
    spacer = ChannelSpacer(2, 5.0, clock=vt.clock, sleep=vt.sleep)
    for channel in range(1000):
        await spacer.acquire(channel)
    vt.now = 6.0  # a window later, every one of them is idle
    await spacer.acquire(1)
    await spacer.acquire(1)  # channel 1 is busy again: two messages in this window
    spacer.forget_idle()
    assert len(spacer._sent) == 1  # only the busy channel is remembered
    before = vt.now
    await spacer.acquire(1)  # and it is still held to its limit
    assert vt.now - before >= 5.0 - 1e-9


async def test_taking_over_counts_the_last_window_as_used_globally() -> None:
    """A process taking over from a dead deliverer does not send a full window at once: the
    dead one may just have spent it."""
    vt = VirtualTime()
    limiter = WindowLimiter(3, per=1.0, clock=vt.clock, sleep=vt.sleep)
    vt.now = 10.0
    limiter.assume_full()
    await limiter.acquire()
    assert vt.now >= 11.0 - 1e-9  # a full window later
    limiter.release()
    await limiter.acquire()  # the window was only assumed full: the rest is free again
    await limiter.acquire()
    assert vt.now < 11.5


async def test_taking_over_holds_back_only_what_the_dead_deliverer_may_have_posted() -> None:
    vt = VirtualTime()
    spacer = ChannelSpacer(5, 5.0, clock=vt.clock, sleep=vt.sleep)
    spacer.assume_used(7, 5)  # it may have posted a whole window there
    spacer.assume_used(9, 1)  # one message, maybe in flight
    for _ in range(5):
        await spacer.acquire(8)
    for _ in range(4):
        await spacer.acquire(9)
    assert vt.now == 0.0  # another channel gets its whole window; 9 the four left of it
    await spacer.acquire(7)
    assert vt.now >= 5.0 - 1e-9  # the full channel waits out its window
    for _ in range(4):
        await spacer.acquire(7)
    assert vt.now < 10.0  # then it has a whole window again


async def test_pacer_assume_full_marks_the_global_window_and_the_given_channels() -> None:
    vt = VirtualTime()
    pacer = Pacer(
        WindowLimiter(40, clock=vt.clock, sleep=vt.sleep),
        ChannelSpacer(5, 5.0, clock=vt.clock, sleep=vt.sleep),
    )
    pacer.assume_full([(7, 5)])
    async with pacer.message(8):
        pass
    assert 1.0 - 1e-9 <= vt.now < 5.0  # a global window, not a channel's
    async with pacer.message(7):
        pass
    assert vt.now >= 5.0 - 1e-9
