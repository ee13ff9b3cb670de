"""Pacing of REST calls: a shared limit across servers plus spacing per channel.

discord.py waits on per-route buckets but meets the global limit only after a 429; a burst of
hundreds of digests at the same minute must be paced by the bot itself. Clock and sleep are
injectable so the behaviour is tested in virtual time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

Clock = Callable[[], float]
_EPSILON = 1e-9  # float slack: a wait of exactly the computed length must be enough
Sleep = Callable[[float], Awaitable[None]]


class WindowLimiter:
    """At most `limit` requests in any `per`-second window *as Discord sees them*.

    A request holds a slot from the moment it is allowed until `per` seconds after its answer came
    back. Whatever the network or event-loop delays, every request Discord receives within one window
    was allowed while all the others received in that window still held their slots, so Discord
    never counts more than `limit` in a window. (A token bucket counts at the sender, and delays of
    a few tens of milliseconds bunch its requests up at Discord.) Throughput is about
    `limit / (per + latency)`: ~46/s at 48 per second with 40 ms answers.
    """

    def __init__(
        self,
        limit: int,
        per: float = 1.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit < 1 or per <= 0:
            raise ValueError("limit must be positive and per must be positive")
        self.limit = limit
        self.per = per
        self._clock = clock
        self._sleep = sleep
        self._in_flight = 0
        self._finished: deque[float] = deque()  # answer times within the last `per` seconds
        self._lock = asyncio.Lock()

    def _expire(self, now: float) -> None:
        while self._finished and now - self._finished[0] >= self.per - _EPSILON:
            self._finished.popleft()

    async def acquire(self) -> None:
        """Wait for a slot (callers are served in arrival order); pair with `release`."""
        async with self._lock:
            while True:
                now = self._clock()
                self._expire(now)
                if self._in_flight + len(self._finished) < self.limit:
                    self._in_flight += 1
                    return
                if self._finished:
                    await self._sleep(max(self.per - (now - self._finished[0]), _EPSILON))
                else:  # every slot is in flight: wait for an answer
                    await self._sleep(0.005)

    def assume_full(self) -> None:
        """Count the current window as used up: another process (a deliverer that just died) may
        have spent it. The next request waits `per` seconds."""
        now = self._clock()
        self._finished.extend([now] * max(0, self.limit - len(self._finished)))

    def release(self) -> None:
        """The request's answer came back (or it failed): its slot frees `per` seconds from now."""
        self._in_flight = max(0, self._in_flight - 1)
        self._finished.append(self._clock())

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()


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

    def assume_used(self, channel_id: int, messages: int) -> None:
        """Count `messages` posts to `channel_id` as just made (by another process)."""
        now = self._clock()
        window = self._sent.setdefault(channel_id, deque())
        window.extend([now] * max(0, min(messages, self.count - len(window))))

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
    """Both limits together: the per-channel slot first, then a global slot for the request."""

    def __init__(self, global_limit: WindowLimiter, channels: ChannelSpacer) -> None:
        self.global_limit = global_limit
        self.channels = channels

    def assume_full(self, recent: Iterable[tuple[int, int]]) -> None:
        """Taking over from another process: its last global window counts as used up, and
        each `(channel_id, messages)` of `recent` as that many posts just made in the channel
        (the runs it left unfinished: what it sent of them, and one maybe in flight)."""
        self.global_limit.assume_full()
        for channel_id, messages in recent:
            self.channels.assume_used(channel_id, messages)

    @contextlib.asynccontextmanager
    async def message(self, channel_id: int) -> AsyncIterator[None]:
        """Hold both limits around one message create in `channel_id`."""
        await self.channels.acquire(channel_id)
        async with self.global_limit.slot():
            yield
