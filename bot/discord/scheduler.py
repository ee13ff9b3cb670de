"""The bot's background work: one ticker that runs due digests, re-ingest, pruning.

One APScheduler 3 `AsyncIOScheduler` job (the ticker) claims due servers from the store, whose
next run is stored before anything is delivered; runs are keyed by (guild, channel, local date),
so a repeated autumn hour or a restart never posts twice. A run missed while the bot was down is
caught up within `schedule.catch_up_minutes`, otherwise skipped to its next occurrence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.schedule import next_run_after
from bot.discord.delivery import Deliverer, DueRun, RunOutcome, scheduled_run_key
from bot.store.async_store import AsyncStore
from bot.store.guilds import GuildState

__all__ = ["BotScheduler", "TickReport", "next_run_after", "plan_due"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Job = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class TickReport:
    due: int
    skipped: int
    outcomes: tuple[RunOutcome, ...]


def plan_due(
    claimed: list[tuple[GuildState, datetime]], *, now: datetime, catch_up_minutes: int
) -> tuple[list[DueRun], list[tuple[GuildState, datetime]]]:
    """Split claimed servers into runs to deliver now and runs missed beyond the catch-up grace."""
    grace = timedelta(minutes=catch_up_minutes)
    due: list[DueRun] = []
    missed: list[tuple[GuildState, datetime]] = []
    for state, scheduled_for in claimed:
        channel_id = state.settings.channel_id
        if channel_id is None or now - scheduled_for > grace:
            missed.append((state, scheduled_for))
            continue
        key = scheduled_run_key(
            state.settings.guild_id, channel_id, scheduled_for, state.settings.timezone
        )
        due.append(DueRun(state, key, "scheduled"))
    return due, missed


class BotScheduler:
    """Owns the APScheduler instance and every periodic job of the bot."""

    def __init__(
        self,
        store: AsyncStore,
        deliverer: Deliverer,
        *,
        clock: Clock,
        catch_up_minutes: int,
        tick_seconds: float = 30.0,
        rescan_seconds: float | None = None,
        rescan: Job | None = None,
        prune_seconds: float = 6 * 3600,
        prune: Job | None = None,
    ) -> None:
        self.store = store
        self.deliverer = deliverer
        self.clock = clock
        self.catch_up_minutes = catch_up_minutes
        self.tick_seconds = tick_seconds
        self.rescan_seconds = rescan_seconds
        self.rescan = rescan
        self.prune_seconds = prune_seconds
        self.prune = prune
        self._scheduler: AsyncIOScheduler | None = None
        self._tick_lock = asyncio.Lock()
        self._accepting = True

    @property
    def running(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running)

    def start(self) -> None:
        """Start the jobs on the running loop; the first tick runs at once (start-up catch-up)."""
        if self._scheduler is not None:
            return
        scheduler = AsyncIOScheduler(
            event_loop=asyncio.get_running_loop(),
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        first = datetime.now(UTC)  # APScheduler runs on wall time; business time is self.clock
        scheduler.add_job(
            self.tick, "interval", seconds=self.tick_seconds, id="ticker", next_run_time=first
        )
        if self.rescan is not None and self.rescan_seconds:
            scheduler.add_job(
                self._safe(self.rescan, "re-ingest"),
                "interval",
                seconds=self.rescan_seconds,
                id="rescan",
            )
        if self.prune is not None:
            scheduler.add_job(
                self._safe(self.prune, "pruning"),
                "interval",
                seconds=self.prune_seconds,
                id="prune",
                next_run_time=first + timedelta(minutes=1),
            )
        scheduler.start()
        self._scheduler = scheduler

    def pause(self) -> None:
        """Stop taking new work (shutdown begins); a tick already running finishes its posts."""
        self._accepting = False
        if self.running and self._scheduler is not None:
            self._scheduler.pause()

    async def drain(self, grace_seconds: float) -> bool:
        """Wait up to `grace_seconds` for a running tick to finish; False if it did not."""
        try:
            async with asyncio.timeout(grace_seconds):
                async with self._tick_lock:
                    return True
        except TimeoutError:
            log.warning("shutdown: in-flight digests left pending; they resume at the next start")
            return False

    def shutdown(self) -> None:
        """Stop every job. Safe to call twice, and when the scheduler never started."""
        self._accepting = False
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)

    async def tick(self) -> TickReport:
        """Resume interrupted runs, then claim and deliver every due server."""
        if not self._accepting:
            return TickReport(0, 0, ())
        async with self._tick_lock:
            try:
                return await self._tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler tick failed")
                return TickReport(0, 0, ())

    async def _tick(self) -> TickReport:
        resumed = await self.deliverer.resume_pending()
        now = self.clock()
        claimed = await self.store.claim_due(now)
        due, missed = plan_due(claimed, now=now, catch_up_minutes=self.catch_up_minutes)
        for state, scheduled_for in missed:
            log.info(
                "guild %s: run of %s missed beyond the catch-up grace; next at %s",
                state.settings.guild_id,
                scheduled_for.isoformat(),
                state.next_run_at.isoformat() if state.next_run_at else "never",
            )
            await self.store.record_result(
                state.settings.guild_id,
                f"skipped the run of {scheduled_for:%Y-%m-%d %H:%M} UTC (the bot was offline)",
            )
        outcomes = await self.deliverer.deliver_due(due)
        if due or resumed:
            stats = self.deliverer.stats
            log.info(
                "tick due=%d skipped=%d resumed=%d deliveries_ok=%d deliveries_failed=%d "
                "rate_limited=%d failing_guilds=%d",
                len(due),
                len(missed),
                len(resumed),
                stats.deliveries_ok,
                stats.deliveries_failed,
                stats.rate_limited,
                len(stats.failing_guilds),
            )
        return TickReport(len(due), len(missed), tuple(resumed + outcomes))

    def _safe(self, job: Job, name: str) -> Job:
        async def run() -> None:
            if not self._accepting:
                return
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background %s failed", name)

        return run
