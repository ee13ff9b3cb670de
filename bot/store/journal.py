"""The journal of a digest run's life: how delivery writes and reads run state, one transaction
per transition.

A scheduled run is claimed → pending → each message sent → finished:

- `claim`: for the whole tick, each due server's next run is moved on and a claim row written
  (`guilds.claim_due`); `open_claims` finds what a crash or a shutdown left claimed, and the
  `/digest now` runs another process `request`ed of the deliverer.
- `begin`: the claim becomes a pending run with its exact message bodies and a `pending` ledger
  row per article, written before the first post; or `empty`: the claim becomes a done run with
  nothing to post, and the server's last result and `last_run_at` are recorded.
- `sent`: Discord accepted message `i`, its articles are sent; the run's last message also
  finishes the run as done and records the server's last result and `last_run_at` (`done` does
  it alone for a run whose messages were all sent by an earlier version that finished apart).
- otherwise one of: `failed` (refused for good: the run fails and releases its unsent articles,
  so a later run may post them), `failing` (the channel is unusable: the same, and the server is
  marked failing), `retry_later` (Discord is unavailable: the run stays pending, resumed with the
  same nonces), `abandon` (a pending run of a server gone or failing); or, for a claim not
  delivered, `skip`.

So a crash leaves a run in exactly one state: claimed (delivered at the next tick), pending
(resumed with the same nonces, which Discord de-duplicates), or finished. A key already recorded
is never recorded again: `begin` and `empty` return the earlier run instead (and drop the claim).

Store work of one successful single-message scheduled run (one server due at a tick, SQLite
trace of the writer connection): before the journal, 5 write transactions (claim, start run,
mark sent, finish run, record result), 25 statements and 9 calls to the writer thread; with it,
3 transactions (`claim`, `begin`, `sent`), 18 statements and 6 calls. Per server of a burst,
besides the tick's shared claim and its two reads: 4 transactions and 18 statements before,
2 transactions and 11 statements now (`posted_ids`, then `begin` and `sent`, 5 each with their
BEGIN and COMMIT). On PostgreSQL every statement is a network round trip.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime

from bot.store import guilds, ledger
from bot.store.engine import Connection
from bot.store.guilds import Claim, GuildDefaults, from_ts, to_ts, transaction
from bot.store.ledger import RUN_COLUMNS, DigestRun, RunStatus

__all__ = [
    "abandon",
    "begin",
    "claim",
    "done",
    "empty",
    "failed",
    "failing",
    "is_claimed",
    "open_claims",
    "pending",
    "posted_ids",
    "request",
    "retry_later",
    "run",
    "sent",
    "skip",
]

# -- reads ------------------------------------------------------------------------------------


def claim(
    conn: Connection,
    defaults: GuildDefaults,
    *,
    now: datetime,
    fence: Callable[[Connection], bool] | None = None,
) -> list[Claim]:
    """Claim every server whose run is due (one transaction: see `guilds.claim_due`), when
    `fence` (this process still delivers) holds."""
    return guilds.claim_due(conn, defaults, now=now, fence=fence)


def request(
    conn: Connection, run_key: str, guild_id: int, channel_id: int, *, now: datetime
) -> None:
    """Claim a `/digest now` run for the process that delivers (asked on another process): the
    deliverer's next tick finds it with the other open claims."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO digest_claims (run_key, guild_id, channel_id, scheduled_for, claimed_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_key) DO NOTHING",
            (run_key, guild_id, channel_id, to_ts(now), to_ts(now)),
        )


def is_claimed(conn: Connection, run_key: str) -> bool:
    """True while the run is claimed and not yet recorded (or skipped)."""
    row = conn.execute("SELECT 1 FROM digest_claims WHERE run_key = ?", (run_key,)).fetchone()
    return row is not None


def open_claims(conn: Connection, defaults: GuildDefaults) -> list[Claim]:
    """Claims never recorded as a run (the process died or stopped first), oldest first."""
    return guilds.open_claims(conn, defaults)


def pending(conn: Connection) -> list[DigestRun]:
    """Runs begun but not finished (a crash, a shutdown, Discord unavailable), oldest first."""
    return ledger.pending_runs(conn)


def run(conn: Connection, run_key: str) -> DigestRun | None:
    """A run as recorded now."""
    return ledger.get_run(conn, run_key)


def posted_ids(conn: Connection, channel_id: int) -> set[str]:
    """The articles a run may not post in a channel: sent there, or pending in a run."""
    return ledger.posted_ids(conn, channel_id)


# -- transitions (each one transaction) -------------------------------------------------------


def begin(
    conn: Connection, new: DigestRun, article_messages: Mapping[str, int], *, now: datetime
) -> DigestRun:
    """Record a run about to be posted, with a `pending` ledger row per article (the message
    that carries it), and delete its claim. Returns the run as recorded: `new` pending with no
    message sent, or the run recorded earlier under the same key, left as it was.

    An article already in the channel's ledger is left alone (the unique key forbids a repost).
    """
    stamp = to_ts(now)
    with transaction(conn):
        _drop_claim(conn, new.run_key)
        if not _insert_run(conn, new, "pending", None, stamp, finished=False):
            return _earlier(conn, new.run_key)
        conn.executemany(
            "INSERT INTO delivery_ledger (channel_id, article_id, run_key, message_index, status, "
            "created_at) VALUES (?, ?, ?, ?, 'pending', ?) "
            "ON CONFLICT (channel_id, article_id) DO NOTHING",
            [
                (new.channel_id, article_id, new.run_key, index, stamp)
                for article_id, index in article_messages.items()
            ],
        )
    created = from_ts(stamp) or now
    return replace(new, status="pending", messages_sent=0, result=None, created_at=created)


def empty(conn: Connection, new: DigestRun, result: str, *, now: datetime) -> DigestRun | None:
    """A run that found nothing new: recorded as done (so the same local date is not tried
    again), its claim deleted, and `result` and the end of its window stored as the server's last
    result and last run. None when so recorded; else the run recorded earlier under the same
    key, left as it was (and the server's result untouched)."""
    with transaction(conn):
        _drop_claim(conn, new.run_key)
        if not _insert_run(conn, new, "done", result, to_ts(now), finished=True):
            return _earlier(conn, new.run_key)
        guilds.record_result(conn, new.guild_id, result, last_run_at=new.window_end)
    return None


def sent(
    conn: Connection, run: DigestRun, index: int, message_id: int, *, now: datetime, result: str
) -> DigestRun:
    """Discord accepted message `index` of a pending run: its articles are sent. When it is the
    run's last message, the run is finished as done with `result`, and `result` and the end of
    its window become the server's last result and last run, in the same transaction.

    Takes the run as recorded (its message count, server and window) so nothing is read first.
    Returns the run as it is now."""
    count = index + 1
    last = count >= len(run.payloads)
    with transaction(conn):
        conn.execute(
            "UPDATE delivery_ledger SET status = 'sent', message_id = ? "
            "WHERE run_key = ? AND message_index = ?",
            (message_id, run.run_key, index),
        )
        if not last:
            conn.execute(
                "UPDATE digest_runs SET messages_sent = ? WHERE run_key = ? AND messages_sent < ?",
                (count, run.run_key, count),
            )
            return replace(run, messages_sent=max(run.messages_sent, count))
        _finish(conn, run, "done", result, now, messages_sent=count)
    return replace(run, status="done", result=result, messages_sent=count)


def done(conn: Connection, run: DigestRun, result: str, *, now: datetime) -> DigestRun:
    """Finish a pending run whose messages were all sent already (`sent` does it as the last
    message is accepted; this is for a run left between the two by an earlier version)."""
    with transaction(conn):
        _finish(conn, run, "done", result, now)
    return replace(run, status="done", result=result)


def failed(conn: Connection, run: DigestRun, reason: str, *, now: datetime, result: str) -> None:
    """Discord refused a message for good: the run fails with `reason`, its unsent articles are
    released (a later run may post them), and `result` becomes the server's last result."""
    with transaction(conn):
        _finish(conn, run, "failed", reason, now)
        guilds.record_result(conn, run.guild_id, result)


def failing(conn: Connection, run: DigestRun, reason: str, *, now: datetime) -> bool:
    """The channel cannot be used: the run fails (its unsent articles released) and the server's
    digest stops with `reason` (`guilds.mark_failing`). True if the server was not failing yet."""
    with transaction(conn):
        _finish(conn, run, "failed", reason, now)
        return guilds.mark_failing(conn, run.guild_id, reason, now=now)


def abandon(conn: Connection, run: DigestRun, reason: str, *, now: datetime) -> None:
    """A pending run not to be resumed (its server is gone or failing): it fails with `reason`
    and releases its unsent articles; the server's result is left as it is."""
    with transaction(conn):
        _finish(conn, run, "failed", reason, now)


def retry_later(conn: Connection, run: DigestRun, result: str) -> None:
    """Discord did not accept a message in time: the run stays pending (the next tick resumes it
    with the same nonces) and `result` becomes the server's last result."""
    with transaction(conn):
        guilds.record_result(conn, run.guild_id, result)


def skip(conn: Connection, claimed: Claim, result: str | None) -> None:
    """A claim that will not be delivered: dropped, with `result` (if any) as the server's last
    result."""
    with transaction(conn):
        _drop_claim(conn, claimed.run_key)
        if result is not None:
            guilds.record_result(conn, claimed.state.settings.guild_id, result)


# -- the statements ---------------------------------------------------------------------------


def _drop_claim(conn: Connection, run_key: str) -> None:
    conn.execute("DELETE FROM digest_claims WHERE run_key = ?", (run_key,))


def _insert_run(
    conn: Connection,
    new: DigestRun,
    status: RunStatus,
    result: str | None,
    stamp: int,
    *,
    finished: bool,
) -> bool:
    """Write a run row; False (nothing written) when its key was recorded before."""
    cursor = conn.execute(
        f"INSERT INTO digest_runs ({RUN_COLUMNS}, finished_at) "  # noqa: S608 - names are constants of the ledger; values are bound parameters
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT (run_key) DO NOTHING",
        (
            new.run_key,
            new.guild_id,
            new.channel_id,
            new.kind,
            status,
            to_ts(new.window_start),
            to_ts(new.window_end),
            json.dumps(list(new.payloads), ensure_ascii=False),
            result,
            stamp,
            stamp if finished else None,
        ),
    )
    return cursor.rowcount > 0


def _earlier(conn: Connection, run_key: str) -> DigestRun:
    found = ledger.get_run(conn, run_key)
    if found is None:
        raise RuntimeError(f"run {run_key} conflicted with a row that is not there")
    return found


def _finish(
    conn: Connection,
    run: DigestRun,
    status: RunStatus,
    result: str,
    now: datetime,
    *,
    messages_sent: int | None = None,
) -> None:
    """Close a run; a failed run releases its unsent articles so a later run may post them."""
    count = run.messages_sent if messages_sent is None else messages_sent
    conn.execute(
        "UPDATE digest_runs SET status = ?, result = ?, finished_at = ?, "
        "messages_sent = CASE WHEN messages_sent < ? THEN ? ELSE messages_sent END "
        "WHERE run_key = ?",
        (status, result, to_ts(now), count, count, run.run_key),
    )
    if status == "failed":
        conn.execute(
            "DELETE FROM delivery_ledger WHERE run_key = ? AND status = 'pending'", (run.run_key,)
        )
    if status == "done":  # the server's digest is up to the end of this run's window
        guilds.record_result(conn, run.guild_id, result, last_run_at=run.window_end)
