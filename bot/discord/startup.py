"""Start-up against a Discord that cannot be reached yet: a bounded retry with back-off.

A network error or a Discord 5xx while logging in is retried (one log line per attempt); when
the attempts are used up `DiscordUnreachable` is raised, and the command exits with status 75
(EX_TEMPFAIL), which a service manager restarts on. A rejected token is not retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
import discord

log = logging.getLogger(__name__)

T = TypeVar("T")

# what "Discord cannot be reached" looks like: refused or dropped connections, DNS failures,
# time-outs, and Discord's own 5xx after discord.py's retries
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    aiohttp.ClientError,
    TimeoutError,
    discord.DiscordServerError,
)


# what discord.py's own reconnect loops meet when the network is down (logged in one line)
NETWORK_ERRORS = (*UNREACHABLE, discord.ConnectionClosed, discord.GatewayNotFound)


class DiscordUnreachable(Exception):
    """Discord could not be reached at start-up; the message says where and why."""


def describe(exc: BaseException) -> str:
    """One line about a network error (aiohttp's texts can be long or empty)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


async def retry_unreachable(
    action: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    first_delay: float,
    before_retry: Callable[[], Awaitable[None]] | None = None,
    retryable: Callable[[], bool] = lambda: True,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """`action()`, tried up to `attempts` times while Discord cannot be reached, waiting
    `first_delay` seconds after the first failure and twice as long after each next one.

    `retryable()` says whether a failure may still be retried (e.g. not once the bot's set-up
    has begun); `before_retry()` cleans up a failed attempt."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await action()
        except UNREACHABLE as exc:
            where = discord.http.Route.BASE
            if attempt >= attempts or not retryable():
                raise DiscordUnreachable(
                    f"cannot reach Discord at {where} ({describe(exc)}); gave up after "
                    f"{attempt} attempt{'s' if attempt > 1 else ''}"
                ) from exc
            log.warning(
                "cannot reach Discord at %s (%s): attempt %d of %d, next in %.1f s",
                where,
                describe(exc),
                attempt,
                attempts,
                delay,
            )
            if before_retry is not None:
                await before_retry()
            await sleep(delay)
            delay *= 2
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
