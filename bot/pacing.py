"""Pacing of REST calls: a shared rate limit across servers plus spacing per channel.

discord.py waits on per-route buckets but meets the global limit only after a 429; a burst of
hundreds of digests at the same minute must be paced by the bot itself. Clock and sleep are
injectable so the behaviour is tested in virtual time.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
_EPSILON = 1e-9  # float slack: a wait of exactly the computed length must be enough
Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """Token bucket: at most `rate` acquisitions per second on average, bursts up to `burst`."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        # a small burst, so that any 1 s window holds at most rate + burst <= 49 calls
        # (Discord's global limit is 50/s): 49 at the default 45/s
        self.capacity = burst if burst is not None else max(1.0, min(rate / 8, 49 - rate))
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until a call may be made (callers are served in arrival order)."""
        async with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1 - _EPSILON:
                    self._tokens = max(0.0, self._tokens - 1)
                    return
                await self._sleep(max((1 - self._tokens) / self.rate, _EPSILON))


class ChannelSpacer:
    """Sliding window per channel: at most `count` messages per `per` seconds in one channel."""

    def __init__(
        self,
        count: int = 5,
        per: float = 5.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.count = count
        self.per = per
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[int, deque[float]] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def acquire(self, channel_id: int) -> None:
        lock = self._locks.setdefault(channel_id, asyncio.Lock())
        async with lock:
            window = self._sent.setdefault(channel_id, deque())
            while True:
                now = self._clock()
                while window and now - window[0] >= self.per - _EPSILON:
                    window.popleft()
                if len(window) < self.count:
                    window.append(now)
                    return
                await self._sleep(max(self.per - (now - window[0]), _EPSILON))

    def forget_idle(self) -> None:
        """Drop the history of channels with nothing in the current window (bounded memory)."""
        now = self._clock()
        for channel_id in [
            cid for cid, window in self._sent.items() if not window or now - window[-1] >= self.per
        ]:
            lock = self._locks.get(channel_id)
            if lock is None or not lock.locked():
                self._sent.pop(channel_id, None)
                self._locks.pop(channel_id, None)


class Pacer:
    """Both limits together: the per-channel slot first, then a global token."""

    def __init__(self, global_limit: RateLimiter, channels: ChannelSpacer) -> None:
        self.global_limit = global_limit
        self.channels = channels

    async def before_message(self, channel_id: int) -> None:
        await self.channels.acquire(channel_id)
        await self.global_limit.acquire()

    async def before_call(self) -> None:
        await self.global_limit.acquire()
