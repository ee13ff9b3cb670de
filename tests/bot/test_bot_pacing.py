"""Pacing in virtual time: the shared rate limit and per-channel spacing hold under a burst."""

from __future__ import annotations

import asyncio

from bot.pacing import ChannelSpacer, Pacer, RateLimiter


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


async def test_burst_of_300_guilds_stays_under_the_global_limit() -> None:
    vt = VirtualTime()
    limiter = RateLimiter(40, burst=10, clock=vt.clock, sleep=vt.sleep)
    stamps: list[float] = []

    async def call() -> None:
        await limiter.acquire()
        stamps.append(vt.now)

    await asyncio.gather(*(call() for _ in range(300)))
    assert len(stamps) == 300
    assert max_in_window(stamps, 1.0) <= 50  # Discord's global limit is 50/s
    assert vt.now >= (300 - 10) / 40 - 1e-6  # and the average rate is 40/s


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
        RateLimiter(40, burst=1, clock=vt.clock, sleep=vt.sleep),
        ChannelSpacer(5, 5.0, clock=vt.clock, sleep=vt.sleep),
    )
    for _ in range(6):
        await pacer.before_message(7)
    assert vt.now >= 5.0  # the 6th message in one channel waited for the window


def test_rate_must_be_positive() -> None:
    import pytest

    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)
