"""The store for async code: every call runs on one dedicated thread, never on the event loop.

One worker thread owns every use of the SQLite connection, so calls are
serialised like a single writer and the loop never blocks on disk.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from bot.core.models import Article
from bot.store import guilds, ledger
from bot.store.engine import Connection
from bot.store.guilds import GuildDefaults, GuildState

if TYPE_CHECKING:
    from bot.store.db import Store

_P = ParamSpec("_P")
_T = TypeVar("_T")


class AsyncStore:
    """Async facade over `Store`, the guild settings and the ledger."""

    def __init__(
        self,
        store: Store,
        defaults: GuildDefaults,
    ) -> None:
        self.store = store
        self.defaults = defaults
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsbot-store")
        self._closed = False

    @property
    def conn(self) -> Connection:
        return self.store.conn

    async def run(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run `fn(*args, **kwargs)` on the store thread and wait for it without blocking the loop."""
        if self._closed:
            raise RuntimeError("the store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Finish queued calls, then stop the thread (the Store itself is closed by its owner)."""
        if not self._closed:
            self._closed = True
            self._executor.shutdown(wait=True)

    # -- guild settings ---------------------------------------------------------------------

    async def guild(self, guild_id: int) -> GuildState:
        return await self.run(guilds.get_guild, self.conn, guild_id, self.defaults)

    async def update_guild(
        self, guild_id: int, changes: Mapping[str, Any], *, now: datetime
    ) -> GuildState:
        return await self.run(
            guilds.update_settings, self.conn, guild_id, changes, self.defaults, now=now
        )

    async def claim_due(self, now: datetime) -> list[guilds.Claim]:
        return await self.run(guilds.claim_due, self.conn, self.defaults, now=now)

    async def open_claims(self) -> list[guilds.Claim]:
        return await self.run(guilds.open_claims, self.conn, self.defaults)

    async def drop_claim(self, run_key: str) -> None:
        await self.run(guilds.drop_claim, self.conn, run_key)

    async def set_removed(self, guild_id: int, removed: bool, *, now: datetime) -> None:
        await self.run(guilds.set_removed, self.conn, guild_id, removed, self.defaults, now=now)

    async def mark_failing(self, guild_id: int, reason: str, *, now: datetime) -> bool:
        return await self.run(guilds.mark_failing, self.conn, guild_id, reason, now=now)

    async def record_result(
        self, guild_id: int, result: str, *, last_run_at: datetime | None = None
    ) -> None:
        await self.run(guilds.record_result, self.conn, guild_id, result, last_run_at=last_run_at)

    async def guilds_using_channel(self, channel_id: int) -> list[int]:
        return await self.run(guilds.guilds_using_channel, self.conn, channel_id)

    async def get_meta(self, key: str) -> str | None:
        return await self.run(guilds.get_meta, self.conn, key)

    async def set_meta(self, key: str, value: str) -> None:
        await self.run(guilds.set_meta, self.conn, key, value)

    # -- ledger -----------------------------------------------------------------------------

    async def posted_ids(self, channel_id: int) -> set[str]:
        return await self.run(ledger.posted_ids, self.conn, channel_id)

    async def get_run(self, run_key: str) -> ledger.DigestRun | None:
        return await self.run(ledger.get_run, self.conn, run_key)

    async def pending_runs(self) -> list[ledger.DigestRun]:
        return await self.run(ledger.pending_runs, self.conn)

    async def start_run(
        self, run: ledger.DigestRun, article_messages: Mapping[str, int], *, now: datetime
    ) -> ledger.DigestRun:
        return await self.run(ledger.start_run, self.conn, run, article_messages, now=now)

    async def record_empty_run(self, run: ledger.DigestRun, result: str, *, now: datetime) -> None:
        await self.run(ledger.record_empty_run, self.conn, run, result, now=now)

    async def mark_message_sent(self, run_key: str, index: int, message_id: int) -> None:
        await self.run(ledger.mark_message_sent, self.conn, run_key, index, message_id)

    async def finish_run(
        self, run_key: str, status: ledger.RunStatus, result: str, *, now: datetime
    ) -> None:
        await self.run(ledger.finish_run, self.conn, run_key, status, result, now=now)

    # -- articles ---------------------------------------------------------------------------

    async def articles_between(
        self,
        start: datetime,
        end: datetime,
        *,
        topics: Collection[str] | None = None,
        min_quality: int | None = None,
    ) -> list[Article]:
        return await self.run(
            self.store.articles_between, start, end, topics=topics, min_quality=min_quality
        )

    async def topic_counts(self) -> list[tuple[str, int]]:
        return await self.run(self.store.topic_counts)

    async def newest_published(self) -> datetime | None:
        return await self.run(self.store.newest_published)

    # -- retention --------------------------------------------------------------------------

    async def prune(
        self,
        *,
        now: datetime,
        ledger_days: int,
        retired_article_days: int,
        guild_grace_days: int,
    ) -> ledger.PruneReport:
        """Ledger, retired articles and settings of servers gone past their grace period."""

        def work() -> ledger.PruneReport:
            report = ledger.prune(
                self.conn,
                now=now,
                ledger_days=ledger_days,
                retired_article_days=retired_article_days,
            )
            gone = guilds.purge_removed(self.conn, now=now, grace_days=guild_grace_days)
            return ledger.PruneReport(report.ledger_rows, report.runs, report.articles, gone)

        return await self.run(work)
