"""The store for async code: nothing runs on the event loop, and reads never queue behind writes.

Writes (and reads that must see them in order, like a digest run's journal) run on one
dedicated thread that owns the store's connection, so they are serialised like a single writer.
Reads that answer users (`/digest show`, `/news search`, `/news top`, `/news why`) run on reader
threads with their own connections: SQLite readers in WAL mode, or a psycopg pool for
PostgreSQL. So a long write (a bulk re-ingest, an index sync) never delays an interaction.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from bot.core.models import Article
from bot.store import guilds, journal, ledger, source_state
from bot.store.engine import Connection, PgConnection
from bot.store.guilds import GuildDefaults, GuildState
from bot.store.source_state import SourceState, stale_sources

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

    from bot.store.db import FoundArticle, Store

_P = ParamSpec("_P")
_T = TypeVar("_T")


class AsyncStore:
    """Async facade over `Store`, the guild settings and the journal of digest runs."""

    def __init__(self, store: Store, defaults: GuildDefaults, *, readers: int = 2) -> None:
        self.store = store
        self.defaults = defaults
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsbot-store")
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="newsbot-read")
        self._reader_count = readers
        self._local = threading.local()
        self._opened: list[Store] = []  # SQLite: one reader connection per reader thread
        self._pool: ConnectionPool[Any] | None = None  # PostgreSQL: the readers' pool
        self._lock = threading.Lock()
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

    async def read(
        self, fn: Callable[Concatenate[Store, _P], _T], *args: _P.args, **kwargs: _P.kwargs
    ) -> _T:
        """Run `fn(reader, *args, **kwargs)` on a reader thread, `reader` a `Store` on its own
        connection (never the writer's): for reads only, answered while a write goes on."""
        if self._closed:
            raise RuntimeError("the store is closed")
        loop = asyncio.get_running_loop()
        call = functools.partial(self._with_reader, fn, *args, **kwargs)
        return await loop.run_in_executor(self._readers, call)

    async def why_facts(
        self,
        link: str,
        window: tuple[datetime, datetime],
        channel_id: int | None,
        neighbourhood: timedelta,
    ) -> WhyFacts | None:
        """What `/news why` reads, on a reader: the article with that link (None: not loaded),
        the window's articles, its neighbours within `neighbourhood` when it is outside the
        window, and when each article was posted to the channel."""
        return await self.read(_why_facts, link, window, channel_id, neighbourhood)

    def _with_reader(
        self, fn: Callable[Concatenate[Store, _P], _T], *args: _P.args, **kwargs: _P.kwargs
    ) -> _T:
        from bot.store.db import Store

        if isinstance(self.store.conn, PgConnection):
            with self._pg_pool().connection() as raw:
                return fn(Store(PgConnection(raw), self.store.path), *args, **kwargs)
        reader: Store | None = getattr(self._local, "store", None)
        if reader is None:
            reader = self.store.reader()
            self._local.store = reader
            with self._lock:
                self._opened.append(reader)
        return fn(reader, *args, **kwargs)

    def _pg_pool(self) -> ConnectionPool[Any]:
        with self._lock:
            if self._pool is None:
                from psycopg_pool import ConnectionPool

                self._pool = ConnectionPool(
                    str(self.store.path),
                    min_size=1,
                    max_size=self._reader_count,
                    kwargs={"autocommit": True},
                    open=True,
                    name="newsbot-read",
                )
            return self._pool

    def close(self) -> None:
        """Finish queued calls, then stop the threads and close the reader connections (the
        Store itself is closed by its owner)."""
        if not self._closed:
            self._closed = True
            self._executor.shutdown(wait=True)
            self._readers.shutdown(wait=True)
            for reader in self._opened:
                reader.close()
            if self._pool is not None:
                self._pool.close()

    # -- guild settings ---------------------------------------------------------------------

    async def guild(self, guild_id: int) -> GuildState:
        """A server's settings (on a reader: answers `/digest show` during writes)."""
        return await self.read(lambda store: guilds.get_guild(store.conn, guild_id, self.defaults))

    async def stale_sources(self) -> list[SourceState]:
        """The sources whose last refresh failed (on a reader)."""
        return await self.read(lambda store: stale_sources(store.conn))

    async def source_states(self) -> dict[str, SourceState]:
        """Every source's state, by name (on a reader)."""
        return await self.read(lambda store: source_state.all_states(store.conn))

    async def source_state(self, name: str) -> SourceState | None:
        return await self.run(source_state.get_state, self.conn, name)

    async def put_source_state(self, state: SourceState) -> None:
        await self.run(source_state.put_state, self.conn, state)

    async def files_recorded_under(self, root: str) -> int:
        """Article files the store recorded under `root` (on a reader)."""
        return await self.read(lambda store: source_state.files_recorded_under(store.conn, root))

    async def posted_at(self, channel_id: int) -> dict[str, datetime]:
        """When each article reached a channel (on a reader)."""
        return await self.read(lambda store: ledger.posted_at(store.conn, channel_id))

    async def update_guild(
        self, guild_id: int, changes: Mapping[str, Any], *, now: datetime
    ) -> GuildState:
        return await self.run(
            guilds.update_settings, self.conn, guild_id, changes, self.defaults, now=now
        )

    async def set_removed(self, guild_id: int, removed: bool, *, now: datetime) -> None:
        await self.run(guilds.set_removed, self.conn, guild_id, removed, self.defaults, now=now)

    async def mark_failing(self, guild_id: int, reason: str, *, now: datetime) -> bool:
        return await self.run(guilds.mark_failing, self.conn, guild_id, reason, now=now)

    async def guilds_using_channel(self, channel_id: int) -> list[int]:
        return await self.run(guilds.guilds_using_channel, self.conn, channel_id)

    async def get_meta(self, key: str) -> str | None:
        return await self.run(guilds.get_meta, self.conn, key)

    async def set_meta(self, key: str, value: str) -> None:
        await self.run(guilds.set_meta, self.conn, key, value)

    # -- runs -------------------------------------------------------------------------------

    @functools.cached_property
    def journal(self) -> AsyncJournal:
        """Every read and write of a digest run's life (`bot.store.journal`), on the writer
        thread, so delivery reads what it wrote in order."""
        return AsyncJournal(self)

    # -- articles ---------------------------------------------------------------------------

    async def articles_between(
        self,
        start: datetime,
        end: datetime,
        *,
        topics: Collection[str] | None = None,
        min_quality: int | None = None,
    ) -> list[Article]:
        return await self.read(
            lambda store: store.articles_between(start, end, topics=topics, min_quality=min_quality)
        )

    async def topic_counts(self) -> list[tuple[str, int]]:
        return await self.read(lambda store: store.topic_counts())

    async def newest_published(self) -> datetime | None:
        return await self.read(lambda store: store.newest_published())

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


WhyFacts = tuple["FoundArticle", list[Article], list[Article], dict[str, datetime]]


def _why_facts(
    store: Store,
    link: str,
    window: tuple[datetime, datetime],
    channel_id: int | None,
    neighbourhood: timedelta,
) -> WhyFacts | None:
    found = store.find_article(link)
    if found is None:
        return None
    start, end = window
    articles = store.articles_between(start, end)
    neighbours: list[Article] = []
    published = found.article.published
    if not start <= published < end:
        neighbours = store.articles_between(published - neighbourhood, published + neighbourhood)
    posted = ledger.posted_at(store.conn, channel_id) if channel_id is not None else {}
    return found, articles, neighbours, posted


class AsyncJournal:
    """`bot.store.journal` for async code: each call is one hop to the store's writer thread,
    and each transition one transaction there."""

    def __init__(self, store: AsyncStore) -> None:
        self._store = store

    async def claim(
        self, now: datetime, *, fence: Callable[[Connection], bool] | None = None
    ) -> list[guilds.Claim]:
        return await self._store.run(
            journal.claim, self._store.conn, self._store.defaults, now=now, fence=fence
        )

    async def request(self, run_key: str, guild_id: int, channel_id: int, *, now: datetime) -> None:
        await self._store.run(
            journal.request, self._store.conn, run_key, guild_id, channel_id, now=now
        )

    async def open_claims(self) -> list[guilds.Claim]:
        return await self._store.run(journal.open_claims, self._store.conn, self._store.defaults)

    async def pending(self) -> list[ledger.DigestRun]:
        return await self._store.run(journal.pending, self._store.conn)

    async def run(self, run_key: str) -> ledger.DigestRun | None:
        return await self._store.run(journal.run, self._store.conn, run_key)

    async def posted_ids(self, channel_id: int) -> set[str]:
        return await self._store.run(journal.posted_ids, self._store.conn, channel_id)

    async def begin(
        self, new: ledger.DigestRun, article_messages: Mapping[str, int], *, now: datetime
    ) -> ledger.DigestRun:
        return await self._store.run(
            journal.begin, self._store.conn, new, article_messages, now=now
        )

    async def empty(
        self, new: ledger.DigestRun, result: str, *, now: datetime
    ) -> ledger.DigestRun | None:
        return await self._store.run(journal.empty, self._store.conn, new, result, now=now)

    async def sent(
        self, run: ledger.DigestRun, index: int, message_id: int, *, now: datetime, result: str
    ) -> ledger.DigestRun:
        return await self._store.run(
            journal.sent, self._store.conn, run, index, message_id, now=now, result=result
        )

    async def done(self, run: ledger.DigestRun, result: str, *, now: datetime) -> ledger.DigestRun:
        return await self._store.run(journal.done, self._store.conn, run, result, now=now)

    async def failed(
        self, run: ledger.DigestRun, reason: str, *, now: datetime, result: str
    ) -> None:
        await self._store.run(journal.failed, self._store.conn, run, reason, now=now, result=result)

    async def failing(self, run: ledger.DigestRun, reason: str, *, now: datetime) -> bool:
        return await self._store.run(journal.failing, self._store.conn, run, reason, now=now)

    async def abandon(self, run: ledger.DigestRun, reason: str, *, now: datetime) -> None:
        await self._store.run(journal.abandon, self._store.conn, run, reason, now=now)

    async def retry_later(self, run: ledger.DigestRun, result: str) -> None:
        await self._store.run(journal.retry_later, self._store.conn, run, result)

    async def skip(self, claimed: guilds.Claim, result: str | None) -> None:
        await self._store.run(journal.skip, self._store.conn, claimed, result)
