"""Posting digests: compose, format, post with a nonce per message, record it in the run's journal.

Delivery speaks to the store about a run only through its journal (`AsyncStore.journal`, see
`bot.store.journal`), one transaction per step. Exactly-once across crashes: a scheduled run is
claimed before anything else; the run and a `pending` ledger row per article are written before
the first post, in the transaction that deletes the claim (`begin`); each message is recorded as
sent after Discord accepted it, the last one finishing the run and the server's last result in
the same transaction (`sent`). A claim left behind is delivered at the next tick; an interrupted
run is resumed with the same payloads and the same nonces, which Discord de-duplicates
(`enforce_nonce`).
Errors are classified: 5xx, 429 and timeouts (a post gets `delivery.request_timeout_seconds`) are
retried with the same nonce after an exponential back-off with jitter, never sooner than Discord's
`retry_after`; 403/404 stop the server's digest with a reason an admin can read in `/digest show`,
without touching other servers.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import aiohttp
import discord

from bot.core.digest import CandidatePool, build_pool, compose_digest, digest_window
from bot.core.models import Digest
from bot.discord.formatting import article_link, digest_messages
from bot.discord.pacing import Pacer
from bot.discord.payloads import payload_kwargs
from bot.ingest.related import related_items
from bot.settings import Settings
from bot.store.async_store import AsyncStore
from bot.store.guilds import GuildState, manual_run_key, scheduled_run_key
from bot.store.ledger import DigestRun, RunKind

__all__ = [
    "Deliverer",
    "DeliveryStats",
    "DueRun",
    "RateLimitCounter",
    "RunOutcome",
    "message_nonce",
    "retry_after_seconds",
    "retry_wait",
    "scheduled_run_key",
]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
Outcome = Literal["sent", "empty", "already-done", "failing", "failed", "skipped"]

#: Discord error codes that mean "this channel is not ours to post in" (never retried).
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
UNKNOWN_CHANNEL = 10003

#: The longest wait between two attempts of one message; a longer `retry_after` gives up for now
#: (the run stays pending and a later tick resumes it).
MAX_RETRY_WAIT_SECONDS = 60.0
JITTER = 0.25  # a wait is stretched by up to this fraction, so retries of a burst spread out


def message_nonce(run_key: str, index: int) -> str:
    """A nonce of 25 characters, the same for the same message of the same run."""
    digest = hashlib.sha256(f"{run_key}#{index}".encode()).digest()
    return base64.b32encode(digest).decode("ascii")[:25]


@dataclass(frozen=True, slots=True)
class DueRun:
    """A server whose digest is to be delivered now."""

    state: GuildState
    run_key: str
    kind: RunKind


@dataclass(frozen=True, slots=True)
class RunOutcome:
    guild_id: int
    channel_id: int | None
    run_key: str | None
    outcome: Outcome
    messages: int = 0
    detail: str = ""


@dataclass(slots=True)
class DeliveryStats:
    """Counters since start-up (read by `/digest show` logs and by tests)."""

    deliveries_ok: int = 0
    deliveries_failed: int = 0
    messages_sent: int = 0
    retries: int = 0
    rate_limited: int = 0
    timeouts: int = 0
    failing_guilds: set[int] = field(default_factory=set)


class RateLimitCounter(logging.Filter):
    """Counts the 429s that discord.py retried by itself into `stats.rate_limited`.

    discord.py handles those internally and only says so in a warning on the `discord.http`
    logger; attach this filter there (it never drops a record).
    """

    def __init__(self, stats: DeliveryStats) -> None:
        super().__init__()
        self.stats = stats

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("We are being rate limited"):
            self.stats.rate_limited += 1
        return True


class ChannelUnusable(Exception):
    """Discord refused the channel (403/404): a reason for admins, no retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def describe_refusal(exc: discord.HTTPException) -> str | None:
    """A human reason when Discord's answer means the channel cannot be used, else None."""
    if exc.status == 404 or exc.code == UNKNOWN_CHANNEL:
        return "the digest channel no longer exists (deleted?); pick one with /digest channel"
    if exc.status == 403 or exc.code in (MISSING_ACCESS, MISSING_PERMISSIONS):
        return (
            "the bot may not post in the digest channel (it needs View Channel, Send Messages and "
            "Embed Links there); fix the permissions or pick another channel with /digest channel"
        )
    return None


def retry_after_seconds(exc: discord.HTTPException) -> float | None:
    """How long Discord asked us to wait, from the answer's headers, if it said: a 429's bucket
    reset (precise) or its `Retry-After` (whole seconds); a 5xx's `Retry-After` (e.g. a 503)."""
    headers = getattr(exc.response, "headers", None) or {}
    names = ("X-RateLimit-Reset-After", "Retry-After") if exc.status == 429 else ("Retry-After",)
    for name in names:
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None


def retry_wait(
    attempt: int, base_seconds: float, retry_after: float | None, rng: random.Random
) -> float:
    """The wait before attempt `attempt + 1`: exponential back-off or Discord's `retry_after`,
    whichever is longer, stretched by a random jitter of up to `JITTER` (never shorter)."""
    backoff = min(base_seconds * 2.0**attempt, MAX_RETRY_WAIT_SECONDS)
    wait = max(backoff, retry_after or 0.0)
    return wait * (1.0 + rng.uniform(0.0, JITTER))


def article_message_index(digest: Digest, payloads: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Which message carries each article (found by its embed link; the last message if not found)."""
    carried: dict[str, int] = {}
    for index, payload in enumerate(payloads):
        for embed in payload.get("embeds") or []:
            if isinstance(embed.get("url"), str):
                carried.setdefault(embed["url"], index)
    last = max(len(payloads) - 1, 0)
    return {
        article.id: carried.get(article_link(article) or "", last) for article in digest.articles
    }


class Deliverer:
    """Delivers digests for the scheduler and for `/digest now`."""

    def __init__(
        self,
        client: discord.Client,
        store: AsyncStore,
        settings: Settings,
        pacer: Pacer,
        *,
        clock: Clock,
        retry_base_seconds: float = 1.0,
        concurrency: int = 64,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
        delivers: Callable[[], bool] | None = None,
    ) -> None:
        self.client = client
        # several processes: a scheduled run stops posting (and stays pending, for the process
        # that delivers now) as soon as this process no longer holds the deliverer lease
        self.delivers = delivers or (lambda: True)
        self.store = store
        self.settings = settings
        self.pacer = pacer
        self.clock = clock
        self.retry_base_seconds = retry_base_seconds
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.sleep = sleep
        self.stats = DeliveryStats()
        self._slots = asyncio.Semaphore(concurrency)
        self._channel_locks: dict[int, asyncio.Lock] = {}

    def _lock(self, channel_id: int) -> asyncio.Lock:
        """One delivery at a time per channel (a manual run racing a scheduled one)."""
        return self._channel_locks.setdefault(channel_id, asyncio.Lock())

    # -- composing ----------------------------------------------------------------------------

    async def build_pool(self, states: Sequence[GuildState], now: datetime) -> CandidatePool:
        """One candidate pool for every server due at this tick (their widest window)."""
        starts = [
            digest_window(s.last_run_at, now, s.settings.lookback_hours)[0] for s in states
        ] or [now - timedelta(hours=self.settings.digest.lookback_hours)]
        articles = await self.store.articles_between(min(starts), now)
        # collapsing stories parses `related` lists: seconds on a large window, so off the loop
        return await asyncio.to_thread(
            build_pool, articles, now=now, weights=self.settings.ranking, related=related_items
        )

    async def compose(
        self, state: GuildState, pool: CandidatePool, now: datetime
    ) -> tuple[Digest | None, datetime, datetime]:
        start, end = digest_window(state.last_run_at, now, state.settings.lookback_hours)
        channel_id = state.settings.channel_id
        posted = (
            await self.store.journal.posted_ids(channel_id) if channel_id is not None else set()
        )
        digest = compose_digest(
            pool, state.settings, posted_ids=posted, window_start=start, window_end=end
        )
        return digest, start, end

    def render(self, digest: Digest, *, silent: bool) -> list[dict[str, Any]]:
        return digest_messages(digest, topic_colors=self.settings.topic_colors, silent=silent)

    async def preview(self, state: GuildState) -> list[dict[str, Any]] | None:
        """What would be posted now, without posting or recording anything."""
        now = self.clock()
        pool = await self.build_pool([state], now)
        digest, _, _ = await self.compose(state, pool, now)
        return None if digest is None else self.render(digest, silent=state.settings.silent)

    # -- delivering ---------------------------------------------------------------------------

    async def deliver_due(self, due: Sequence[DueRun]) -> list[RunOutcome]:
        """Deliver every due run concurrently (paced), sharing one candidate pool."""
        if not due:
            return []
        now = self.clock()
        pool = await self.build_pool([run.state for run in due], now)
        return list(await asyncio.gather(*(self._guarded(run, pool, now) for run in due)))

    async def deliver_now(self, state: GuildState) -> RunOutcome:
        """A manual run (`/digest now`): its own run id, still respecting the ledger."""
        channel_id = state.settings.channel_id
        if channel_id is None:
            return RunOutcome(state.settings.guild_id, None, None, "skipped", detail="no channel")
        due = DueRun(state, manual_run_key(state.settings.guild_id, channel_id), "manual")
        return (await self.deliver_due([due]))[0]

    async def resume_pending(self) -> list[RunOutcome]:
        """Finish runs interrupted by a crash or a shutdown, with their original nonces (runs of
        different channels concurrently, within the delivery slots)."""
        stale = await self.store.journal.pending()
        resumed = await asyncio.gather(*(self._resume(run) for run in stale))
        return [outcome for outcome in resumed if outcome is not None]

    async def _resume(self, stale: DigestRun) -> RunOutcome | None:
        try:
            async with self._slots, self._lock(stale.channel_id):
                # another delivery may have ended it since the list was read
                run = await self.store.journal.run(stale.run_key)
                if run is None or run.status != "pending":
                    return None
                state = await self.store.guild(run.guild_id)
                if state.removed_at is not None or state.failing_reason is not None:
                    await self.store.journal.abandon(
                        run, "abandoned: server gone or failing", now=self.clock()
                    )
                    return None
                return await self._post_run(state, run)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("resuming run %s failed unexpectedly", stale.run_key)
            self.stats.deliveries_failed += 1
            return RunOutcome(stale.guild_id, stale.channel_id, stale.run_key, "failed")

    async def _guarded(self, due: DueRun, pool: CandidatePool, now: datetime) -> RunOutcome:
        guild_id = due.state.settings.guild_id
        channel_id = due.state.settings.channel_id or 0
        try:
            async with self._slots, self._lock(channel_id):
                return await self._deliver(due, pool, now)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery of guild %s failed unexpectedly", guild_id)
            self.stats.deliveries_failed += 1
            return RunOutcome(guild_id, due.state.settings.channel_id, due.run_key, "failed")

    async def _deliver(self, due: DueRun, pool: CandidatePool, now: datetime) -> RunOutcome:
        state = due.state
        guild_id, channel_id = state.settings.guild_id, state.settings.channel_id
        if channel_id is None:
            return RunOutcome(guild_id, None, due.run_key, "skipped", detail="no channel")
        journal = self.store.journal
        digest, start, end = await self.compose(state, pool, now)
        new = DigestRun(
            run_key=due.run_key,
            guild_id=guild_id,
            channel_id=channel_id,
            kind=due.kind,
            status="pending",
            window_start=start,
            window_end=end,
            payloads=(),
            messages_sent=0,
            result=None,
            created_at=now,
        )
        if digest is None:
            earlier = await journal.empty(new, f"{_stamp(now)}: nothing new to post", now=now)
            if earlier is None:
                self._log(state, 0, "empty", 0.0)
                return RunOutcome(guild_id, channel_id, due.run_key, "empty")
            run = earlier  # this key was recorded before (e.g. claimed again the same day)
        else:
            payloads = self.render(digest, silent=state.settings.silent)
            run = await journal.begin(
                replace(new, payloads=tuple(payloads)),
                article_message_index(digest, payloads),
                now=now,
            )
        if run.status != "pending":
            return RunOutcome(guild_id, channel_id, due.run_key, "already-done")
        return await self._post_run(state, run)

    async def _post_run(self, state: GuildState, run: DigestRun) -> RunOutcome:
        """Post the unsent messages of a recorded run, in order; the last one finishes it."""
        guild_id = state.settings.guild_id
        journal = self.store.journal
        started = time.monotonic()
        channel = self.client.get_partial_messageable(run.channel_id, guild_id=guild_id)
        sent = run.messages_sent
        try:
            for index in range(run.messages_sent, len(run.payloads)):
                if run.kind == "scheduled" and not self.delivers():
                    log.info("run %s left pending: another process delivers now", run.run_key)
                    return RunOutcome(
                        guild_id, run.channel_id, run.run_key, "skipped", sent, "handed over"
                    )
                message = await self._send(channel, run, index)
                now = self.clock()
                run = await journal.sent(run, index, message.id, now=now, result=_posted(run, now))
                sent += 1
                self.stats.messages_sent += 1
        except ChannelUnusable as exc:
            newly = await journal.failing(run, exc.reason, now=self.clock())
            self.stats.deliveries_failed += 1
            self.stats.failing_guilds.add(guild_id)
            self._log(state, sent, "failing", time.monotonic() - started, exc.reason)
            if newly:
                await self._tell_server(guild_id, exc.reason)
            return RunOutcome(guild_id, run.channel_id, run.run_key, "failing", sent, exc.reason)
        except discord.HTTPException as exc:
            if exc.status >= 500 or exc.status == 429:
                return await self._keep_pending(state, run, sent, started, exc)
            # refused for good (e.g. 400): never resent; unsent articles are released
            reason = f"Discord refused a digest message ({_short(exc)})"
            log.error("guild %s: %s: %s", guild_id, reason, exc.text[:300])
            now = self.clock()
            await journal.failed(run, reason, now=now, result=f"{_stamp(now)}: {reason}")
            self.stats.deliveries_failed += 1
            self._log(state, sent, "failed", time.monotonic() - started, _short(exc))
            return RunOutcome(guild_id, run.channel_id, run.run_key, "failed", sent, reason)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return await self._keep_pending(state, run, sent, started, exc)
        if run.status == "pending":  # every message was sent before, but the run never finished
            now = self.clock()
            run = await journal.done(run, _posted(run, now), now=now)
        self.stats.deliveries_ok += 1
        self.stats.failing_guilds.discard(guild_id)
        self._log(state, len(run.payloads), "sent", time.monotonic() - started)
        return RunOutcome(guild_id, run.channel_id, run.run_key, "sent", len(run.payloads))

    async def _keep_pending(
        self, state: GuildState, run: DigestRun, sent: int, started: float, exc: BaseException
    ) -> RunOutcome:
        """Out of retries: the run stays pending; the next tick resumes it with the same nonces."""
        guild_id = state.settings.guild_id
        reason = f"Discord did not accept the digest ({_short(exc)}); will retry"
        await self.store.journal.retry_later(run, f"{_stamp(self.clock())}: {reason}")
        self.stats.deliveries_failed += 1
        self._log(state, sent, "failed", time.monotonic() - started, _short(exc))
        return RunOutcome(guild_id, run.channel_id, run.run_key, "failed", sent, reason)

    async def _send(
        self, channel: discord.PartialMessageable, run: DigestRun, index: int
    ) -> discord.Message:
        """Post message `index` of a run: each attempt bounded in time, every attempt with the
        same nonce, so a post that reached Discord before its answer was lost is not duplicated."""
        kwargs = payload_kwargs(run.payloads[index])
        nonce = message_nonce(run.run_key, index)
        delivery = self.settings.delivery
        attempts = delivery.retries + 1
        for attempt in range(attempts):
            retry_after: float | None = None
            try:
                async with self.pacer.message(run.channel_id):
                    # discord.py sets no timeout of its own (aiohttp waits up to 300 s)
                    async with asyncio.timeout(delivery.request_timeout_seconds):
                        return await channel.send(nonce=nonce, **kwargs)
            except discord.HTTPException as exc:
                reason = describe_refusal(exc)
                if reason is not None:
                    raise ChannelUnusable(reason) from exc
                if exc.status == 429:
                    self.stats.rate_limited += 1
                elif exc.status < 500:
                    raise
                retry_after = retry_after_seconds(exc)
                if attempt + 1 >= attempts or (retry_after or 0.0) > MAX_RETRY_WAIT_SECONDS:
                    raise
            except TimeoutError:
                self.stats.timeouts += 1
                if attempt + 1 >= attempts:
                    raise
            except aiohttp.ClientError:
                if attempt + 1 >= attempts:
                    raise
            self.stats.retries += 1
            await self.sleep(retry_wait(attempt, self.retry_base_seconds, retry_after, self.rng))
        raise AssertionError("unreachable: the loop returns or raises")

    async def _tell_server(self, guild_id: int, reason: str) -> None:
        """Say why the digest stopped in the server's system channel, if the bot may post there."""
        guild = self.client.get_guild(guild_id)
        if guild is None or guild.system_channel is None:
            return
        channel = guild.system_channel
        perms = channel.permissions_for(guild.me)
        if not (perms.view_channel and perms.send_messages):
            return
        try:
            async with (
                self.pacer.message(channel.id),
                asyncio.timeout(self.settings.delivery.request_timeout_seconds),
            ):
                await channel.send(
                    f"News digest stopped: {reason}.",
                    allowed_mentions=discord.AllowedMentions.none(),
                )
        except (discord.HTTPException, TimeoutError, aiohttp.ClientError) as exc:
            log.info("could not tell guild %s why its digest stopped: %s", guild_id, _short(exc))

    def _log(
        self, state: GuildState, messages: int, outcome: str, seconds: float, detail: str = ""
    ) -> None:
        log.info(
            "delivery guild=%s channel=%s messages=%d outcome=%s latency_ms=%d%s",
            state.settings.guild_id,
            state.settings.channel_id,
            messages,
            outcome,
            round(seconds * 1000),
            f" detail={detail!r}" if detail else "",
        )


def _posted(run: DigestRun, now: datetime) -> str:
    """The server's last result once every message of `run` was accepted."""
    return f"{_stamp(now)}: posted {len(run.payloads)} message(s)"


def _stamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M UTC")


def _short(exc: BaseException) -> str:
    if isinstance(exc, discord.HTTPException):
        return f"HTTP {exc.status}, code {exc.code}"
    return type(exc).__name__
