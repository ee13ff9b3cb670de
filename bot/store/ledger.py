"""Digest runs and the delivery ledger: what was posted where, so nothing is posted twice.

A scheduled run starts as a claim (`guilds.claim_due`). It is then written with its exact message
bodies and a `pending` ledger row per article before the first post, in the transaction that deletes
its claim; each message is marked sent after Discord accepted it. A crash before that leaves the
claim, a crash after it leaves the run pending: both are delivered at the next tick, the pending run
with the same nonces (Discord returns the first message instead of posting again), so an article is
neither lost nor duplicated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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


_RUN_COLUMNS = (
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
        f"SELECT {_RUN_COLUMNS} FROM digest_runs WHERE run_key = ?",  # noqa: S608 - constant
        (run_key,),
    ).fetchone()
    return None if row is None else _run(row)


def pending_runs(conn: Connection) -> list[DigestRun]:
    """Runs interrupted before all their messages were confirmed, oldest first."""
    rows = conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM digest_runs WHERE status = 'pending' "  # noqa: S608 - constant
        "ORDER BY created_at, run_key"
    ).fetchall()
    return [_run(row) for row in rows]


def posted_ids(conn: Connection, channel_id: int) -> set[str]:
    """Articles already posted (or being posted) in a channel: never to be posted there again."""
    rows = conn.execute(
        "SELECT article_id FROM delivery_ledger WHERE channel_id = ?", (channel_id,)
    ).fetchall()
    return {str(row[0]) for row in rows}


def start_run(
    conn: Connection,
    run: DigestRun,
    article_messages: Mapping[str, int],
    *,
    now: datetime,
) -> DigestRun:
    """Record a new run with its messages and a pending ledger row per article (one transaction).

    An article already in the channel's ledger is left alone (the unique key forbids a repost).
    The run's claim, if any, is deleted in the same transaction: the pending run replaces it.
    """
    stamp = to_ts(now)
    with transaction(conn):
        conn.execute(
            f"INSERT INTO digest_runs ({_RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608 - names are constants of this module; values are bound parameters
            (
                run.run_key,
                run.guild_id,
                run.channel_id,
                run.kind,
                run.status,
                to_ts(run.window_start),
                to_ts(run.window_end),
                json.dumps(list(run.payloads), ensure_ascii=False),
                run.messages_sent,
                run.result,
                stamp,
            ),
        )
        conn.executemany(
            "INSERT INTO delivery_ledger (channel_id, article_id, run_key, message_index, status, "
            "created_at) VALUES (?, ?, ?, ?, 'pending', ?) "
            "ON CONFLICT (channel_id, article_id) DO NOTHING",
            [
                (run.channel_id, article_id, run.run_key, index, stamp)
                for article_id, index in article_messages.items()
            ],
        )
        conn.execute("DELETE FROM digest_claims WHERE run_key = ?", (run.run_key,))
    stored = get_run(conn, run.run_key)
    if stored is None:
        raise RuntimeError(f"run {run.run_key} vanished right after it was written")
    return stored


def mark_message_sent(conn: Connection, run_key: str, index: int, message_id: int) -> None:
    """Discord accepted message `index` of a run: its articles are sent."""
    with transaction(conn):
        conn.execute(
            "UPDATE delivery_ledger SET status = 'sent', message_id = ? "
            "WHERE run_key = ? AND message_index = ?",
            (message_id, run_key, index),
        )
        conn.execute(
            "UPDATE digest_runs SET messages_sent = ? WHERE run_key = ? AND messages_sent < ?",
            (index + 1, run_key, index + 1),
        )


def finish_run(
    conn: Connection,
    run_key: str,
    status: RunStatus,
    result: str,
    *,
    now: datetime,
) -> None:
    """Close a run. A failed run releases its unsent articles so a later run may post them."""
    with transaction(conn):
        conn.execute(
            "UPDATE digest_runs SET status = ?, result = ?, finished_at = ? WHERE run_key = ?",
            (status, result, to_ts(now), run_key),
        )
        if status == "failed":
            conn.execute(
                "DELETE FROM delivery_ledger WHERE run_key = ? AND status = 'pending'", (run_key,)
            )


def record_empty_run(conn: Connection, run: DigestRun, result: str, *, now: datetime) -> None:
    """A run that found nothing new: remembered so the same local date is not tried again.

    Its claim, if any, is deleted in the same transaction."""
    with transaction(conn):
        conn.execute(
            f"INSERT INTO digest_runs ({_RUN_COLUMNS}, finished_at) "  # noqa: S608 - constant
            "VALUES (?, ?, ?, ?, 'done', ?, ?, '[]', 0, ?, ?, ?) "
            "ON CONFLICT (run_key) DO NOTHING",
            (
                run.run_key,
                run.guild_id,
                run.channel_id,
                run.kind,
                to_ts(run.window_start),
                to_ts(run.window_end),
                result,
                to_ts(now),
                to_ts(now),
            ),
        )
        conn.execute("DELETE FROM digest_claims WHERE run_key = ?", (run.run_key,))


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
