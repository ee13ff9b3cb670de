"""The bot's background work: one ticker that runs due digests, re-ingest, pruning.

One APScheduler 3 `AsyncIOScheduler` job (the ticker) claims due servers through the runs'
journal (`AsyncStore.journal`, see `bot.store.journal`): each server's next run and a claim row
are stored in one transaction before anything is delivered, and runs are keyed by (guild, channel,
local date), so a repeated autumn hour or a restart never posts twice. Each tick first finishes
what an earlier process left: pending runs (same nonces) and claims never started (a crash, or a
shutdown whose drain time ran out). A run missed while the bot was down is caught up within
`schedule.catch_up_minutes`, otherwise skipped to its next occurrence (the claim dropped and the
reason recorded in one step).

With several processes, every job first asks `delivers()` (this process holds the deliverer
lease, `bot.discord.membership`): only the deliverer ticks, re-ingests and prunes, and its claims
are fenced by the lease in their own transaction; the others run `follow` (their index sync).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.schedule import next_run_after
from bot.discord.delivery import Deliverer, DueRun, RunOutcome
from bot.store.async_store import AsyncStore
from bot.store.engine import Connection
from bot.store.guilds import Claim, is_manual

__all__ = ["BotScheduler", "Skipped", "TickReport", "next_run_after", "plan_due"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Job = Callable[[], Awaitable[object]]
Fence = Callable[[Connection], bool]


@dataclass(frozen=True, slots=True)
class TickReport:
    due: int
    skipped: int
    outcomes: tuple[RunOutcome, ...]


@dataclass(frozen=True, slots=True)
class Skipped:
    """A claim that will not be delivered, and why."""

    claim: Claim
    reason: Literal["late", "changed"]  # beyond the catch-up grace / the server's digest changed


def plan_due(
    claims: list[Claim], *, now: datetime, catch_up_minutes: int
) -> tuple[list[DueRun], list[Skipped]]:
    """Split claims into runs to deliver now and runs skipped: missed beyond the catch-up grace,
    or claimed by an earlier process for a server whose digest has since stopped or moved to
    another channel. A run claimed twice (an earlier claim and this tick's) is delivered once.
    A `/digest now` another process asked for is delivered like any claim, as a manual run (it
    needs a channel and a server in good health, not an active schedule)."""
    grace = timedelta(minutes=catch_up_minutes)
    due: list[DueRun] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for claim in claims:
        if claim.run_key in seen:
            continue
        seen.add(claim.run_key)
        state = claim.state
        manual = is_manual(claim.run_key)
        healthy = state.removed_at is None and state.failing_reason is None
        usable = healthy if manual else state.scheduled
        if not usable or state.settings.channel_id != claim.channel_id:
            skipped.append(Skipped(claim, "changed"))
        elif now - claim.scheduled_for > grace:
            skipped.append(Skipped(claim, "late"))
        else:
            due.append(DueRun(state, claim.run_key, "manual" if manual else "scheduled"))
    return due, skipped


class BotScheduler:
    """Owns the APScheduler instance and every periodic job of the bot."""

    def __init__(
        self,
        store: AsyncStore,
        deliverer: Deliverer,
        *,
        clock: Clock,
        catch_up_minutes: int,
        tick_seconds: float = 5.0,
        rescan_seconds: float | None = None,
        rescan: Job | None = None,
        prune_seconds: float = 6 * 3600,
        prune: Job | None = None,
        delivers: Callable[[], bool] | None = None,
        fence: Fence | None = None,
        follow_seconds: float | None = None,
        follow: Job | None = None,
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
        # several processes: only the one that `delivers()` runs ticks, re-ingest and pruning
        # (its claims `fence`d by the lease); the others run `follow` (syncing their index)
        self.delivers = delivers or (lambda: True)
        self.fence = fence
        self.follow_seconds = follow_seconds
        self.follow = follow
        self._scheduler: AsyncIOScheduler | None = None
        self._tick_lock = asyncio.Lock()
        self._running_tick: asyncio.Task[object] | None = None
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
        scheduler.add_job(  # a second instance returns at once while a long tick runs
            self.tick,
            "interval",
            seconds=self.tick_seconds,
            id="ticker",
            next_run_time=first,
            max_instances=2,
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
        if self.follow is not None and self.follow_seconds:
            scheduler.add_job(
                self._safe(self.follow, "index sync", when_delivering=False),
                "interval",
                seconds=self.follow_seconds,
                id="follow",
            )
        scheduler.start()
        self._scheduler = scheduler

    def pause(self) -> None:
        """Stop taking new work (shutdown begins); a tick already running finishes its posts."""
        self._accepting = False
        if self.running and self._scheduler is not None:
            self._scheduler.pause()

    async def drain(self, grace_seconds: float) -> bool:
        """Wait up to `grace_seconds` for a running tick to finish; False if it did not, after
        stopping it (what it had not finished stays pending or claimed in the store)."""
        try:
            async with asyncio.timeout(grace_seconds):
                async with self._tick_lock:
                    return True
        except TimeoutError:
            log.warning(
                "shutdown: digests in flight or queued were left pending or claimed; "
                "they are delivered at the next start"
            )
            running = self._running_tick
            if running is not None and not running.done():
                running.cancel()
                await asyncio.wait({running}, timeout=grace_seconds + 1.0)
            return False

    def shutdown(self) -> None:
        """Stop every job. Safe to call twice, and when the scheduler never started."""
        self._accepting = False
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)

    def _shutting_down(self) -> bool:
        return not self._accepting

    async def tick(self) -> TickReport:
        """Resume interrupted runs, then claim and deliver every due server."""
        if not self._accepting or not self.delivers() or self._tick_lock.locked():
            return TickReport(0, 0, ())  # a tick under way takes whatever is due meanwhile next
        async with self._tick_lock:
            self._running_tick = asyncio.current_task()
            try:
                return await self._tick()
            except asyncio.CancelledError:
                if not self._shutting_down():
                    raise
                return TickReport(0, 0, ())  # stopped by shutdown: an expected end, not an error
            except Exception:
                log.exception("scheduler tick failed")
                return TickReport(0, 0, ())
            finally:
                self._running_tick = None

    async def _tick(self) -> TickReport:
        resumed = await self.deliverer.resume_pending()
        journal = self.store.journal
        left = await journal.open_claims()  # claimed earlier, never started (crash, shutdown)
        now = self.clock()
        claimed = await journal.claim(now, fence=self.fence)
        due, skipped = plan_due([*left, *claimed], now=now, catch_up_minutes=self.catch_up_minutes)
        for skip in skipped:
            await self._skip(skip)
        outcomes = await self.deliverer.deliver_due(due)
        if due or resumed or skipped:
            stats = self.deliverer.stats
            log.info(
                "tick due=%d skipped=%d resumed=%d recovered=%d deliveries_ok=%d "
                "deliveries_failed=%d rate_limited=%d timeouts=%d failing_guilds=%d",
                len(due),
                len(skipped),
                len(resumed),
                len({c.run_key for c in left} & {run.run_key for run in due}),
                stats.deliveries_ok,
                stats.deliveries_failed,
                stats.rate_limited,
                stats.timeouts,
                len(stats.failing_guilds),
            )
        # per-channel pacing history is kept only for channels posted to in the last seconds
        self.deliverer.pacer.channels.forget_idle()
        return TickReport(len(due), len(skipped), tuple(resumed + outcomes))

    async def _skip(self, skip: Skipped) -> None:
        claim = skip.claim
        guild_id = claim.state.settings.guild_id
        if skip.reason == "changed":
            await self.store.journal.skip(claim, None)
            log.info(
                "guild %s: claimed run %s dropped: its digest changed", guild_id, claim.run_key
            )
            return
        await self.store.journal.skip(
            claim,
            f"skipped the run of {claim.scheduled_for:%Y-%m-%d %H:%M} UTC (the bot was offline)",
        )
        upcoming = claim.state.next_run_at
        log.info(
            "guild %s: run of %s missed beyond the catch-up grace; next at %s",
            guild_id,
            claim.scheduled_for.isoformat(),
            upcoming.isoformat() if upcoming else "never",
        )

    def _safe(self, job: Job, name: str, *, when_delivering: bool = True) -> Job:
        async def run() -> None:
            if not self._accepting or self.delivers() != when_delivering:
                return
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background %s failed", name)

        return run
