"""Digest runs and the delivery ledger: what was posted where, so nothing is posted twice.

A run is one digest delivery to one channel (`digest_runs`: its exact message bodies and how
many Discord accepted); the ledger has a row per article posted or being posted in a channel
(`delivery_ledger`, unique per channel and article), `pending` from before the first post and
`sent` once its message was accepted. This module reads them and applies retention; every write
of a run's life (claimed, pending, each message sent, finished) is a transition of
`bot.store.journal`, one transaction each, so an article is neither lost nor duplicated.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.store.engine import Connection
from bot.store.guilds import from_ts, to_ts, transaction

RunKind = Literal["scheduled", "manual"]
RunStatus = Literal["pending", "done", "failed"]


@dataclass(frozen=True, slots=True)
class DigestRun:
    """One digest delivery to one channel."""

    run_key: str
    guild_id: int
    channel_id: int
    kind: RunKind
    status: RunStatus
    window_start: datetime
    window_end: datetime
    payloads: tuple[dict[str, Any], ...]
    messages_sent: int
    result: str | None
    created_at: datetime

    @property
    def complete(self) -> bool:
        return self.messages_sent >= len(self.payloads)


@dataclass(frozen=True, slots=True)
class PruneReport:
    ledger_rows: int
    runs: int
    articles: int
    guilds: int = 0


# the columns of a run as `DigestRun` reads them (the journal writes them in this order)
RUN_COLUMNS = (
    "run_key, guild_id, channel_id, kind, status, window_start, window_end, payloads, "
    "messages_sent, result, created_at"
)


def _when(value: int) -> datetime:
    moment = from_ts(value)
    if moment is None:
        raise ValueError("a NOT NULL time column was NULL")
    return moment


def _run(row: Sequence[Any]) -> DigestRun:
    start, end, created = _when(row[5]), _when(row[6]), _when(row[10])
    return DigestRun(
        run_key=str(row[0]),
        guild_id=int(row[1]),
        channel_id=int(row[2]),
        kind=row[3],
        status=row[4],
        window_start=start,
        window_end=end,
        payloads=tuple(json.loads(row[7])),
        messages_sent=int(row[8]),
        result=row[9],
        created_at=created,
    )


def get_run(conn: Connection, run_key: str) -> DigestRun | None:
    row = conn.execute(
        f"SELECT {RUN_COLUMNS} FROM digest_runs WHERE run_key = ?",  # noqa: S608 - constant
        (run_key,),
    ).fetchone()
    return None if row is None else _run(row)


def pending_runs(conn: Connection) -> list[DigestRun]:
    """Runs interrupted before all their messages were confirmed, oldest first."""
    rows = conn.execute(
        f"SELECT {RUN_COLUMNS} FROM digest_runs WHERE status = 'pending' "  # noqa: S608 - constant
        "ORDER BY created_at, run_key"
    ).fetchall()
    return [_run(row) for row in rows]


def posted_ids(conn: Connection, channel_id: int) -> set[str]:
    """Articles already posted (or being posted) in a channel: never to be posted there again."""
    rows = conn.execute(
        "SELECT article_id FROM delivery_ledger WHERE channel_id = ?", (channel_id,)
    ).fetchall()
    return {str(row[0]) for row in rows}


def prune(
    conn: Connection,
    *,
    now: datetime,
    ledger_days: int,
    retired_article_days: int,
) -> PruneReport:
    """Apply retention without ever allowing a repost.

    - a sent ledger row older than `ledger_days` goes once its article is no longer active
      (an article still in the store keeps its rows: they are what stops a repost);
    - a retired article goes `retired_article_days` after retirement, once no ledger row
      refers to it; finished runs go with their last ledger row. Pending rows are never pruned.
    """
    ledger_cutoff = to_ts(now - timedelta(days=ledger_days))
    retired_cutoff_us = int((now - timedelta(days=retired_article_days)).timestamp() * 1_000_000)
    with transaction(conn):
        ledger_rows = conn.execute(
            "DELETE FROM delivery_ledger WHERE status = 'sent' AND created_at < ? "
            "AND article_id NOT IN (SELECT id FROM articles WHERE retired_at_us IS NULL)",
            (ledger_cutoff,),
        ).rowcount
        runs = conn.execute(
            "DELETE FROM digest_runs WHERE status != 'pending' AND created_at < ? "
            "AND run_key NOT IN (SELECT run_key FROM delivery_ledger)",
            (ledger_cutoff,),
        ).rowcount
        articles = conn.execute(
            "DELETE FROM articles WHERE retired_at_us IS NOT NULL AND retired_at_us < ? "
            "AND id NOT IN (SELECT article_id FROM delivery_ledger)",
            (retired_cutoff_us,),
        ).rowcount
    return PruneReport(ledger_rows=ledger_rows, runs=runs, articles=articles)


def posted_at(conn: Connection, channel_id: int) -> dict[str, datetime]:
    """When each article was posted (or claimed for posting) in a channel."""
    rows = conn.execute(
        "SELECT article_id, created_at FROM delivery_ledger WHERE channel_id = ?", (channel_id,)
    ).fetchall()
    return {str(article_id): _when(created) for article_id, created in rows}
