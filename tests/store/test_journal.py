"""A digest run's journal: each step one transaction, and what a crash between two steps leaves."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.store import journal
from bot.store.db import Store
from bot.store.engine import Connection, Cursor, PgConnection
from bot.store.guilds import GuildDefaults, get_guild, update_settings
from bot.store.ledger import DigestRun

NOW = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)  # a Monday; the digest is at 08:00 UTC
DUE = datetime(2025, 3, 10, 8, 0, 5, tzinfo=UTC)
GUILD, CHANNEL = 111, 222


def configure(store: Store, defaults: GuildDefaults, guild: int = GUILD) -> None:
    update_settings(
        store.conn, guild, {"channel_id": CHANNEL, "topics": ("AI",)}, defaults, now=NOW
    )


def new_run(key: str, messages: int = 2, guild: int = GUILD) -> DigestRun:
    return DigestRun(
        run_key=key,
        guild_id=guild,
        channel_id=CHANNEL,
        kind="scheduled",
        status="pending",
        window_start=DUE - timedelta(days=1),
        window_end=DUE,
        payloads=tuple({"content": f"message {i}"} for i in range(messages)),
        messages_sent=0,
        result=None,
        created_at=DUE,
    )


def reopen(store: Store) -> Store:
    """The same database, as a new process after a crash sees it."""
    return Store.open(store.path)


class _CountingPg(PgConnection):
    def __init__(self, conn: PgConnection, statements: list[str]) -> None:
        super().__init__(conn.raw)
        self.statements = statements

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        self.statements.append(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor:
        rows = list(parameters)
        if len(rows) != 1:  # one row goes through `execute`
            self.statements.append(sql)
        return super().executemany(sql, rows)


@contextmanager
def counting(store: Store) -> Iterator[tuple[Connection, list[str]]]:
    """The store's connection, recording every statement sent through it (either engine)."""
    statements: list[str] = []
    conn = store.conn
    if isinstance(conn, sqlite3.Connection):
        conn.set_trace_callback(statements.append)
        try:
            yield conn, statements
        finally:
            conn.set_trace_callback(None)
    else:
        assert isinstance(conn, PgConnection)
        yield _CountingPg(conn, statements), statements


def transactions(statements: list[str]) -> int:
    return sum(statement.startswith("BEGIN") for statement in statements)


def test_a_claim_left_open_is_found_and_begin_replaces_it(
    store: Store, defaults: GuildDefaults
) -> None:
    configure(store, defaults)
    (claim,) = journal.claim(store.conn, defaults, now=DUE)
    # the process dies here, before its run was recorded
    with reopen(store) as restarted:
        (left,) = journal.open_claims(restarted.conn, defaults)
        assert (left.run_key, left.channel_id) == (claim.run_key, CHANNEL)
        assert journal.claim(restarted.conn, defaults, now=DUE) == []  # not claimed twice
        run = journal.begin(restarted.conn, new_run(claim.run_key), {"a": 0, "b": 1}, now=DUE)
        assert run.status == "pending"
        assert journal.open_claims(restarted.conn, defaults) == []
        assert journal.pending(restarted.conn) == [run]
        assert journal.posted_ids(restarted.conn, CHANNEL) == {"a", "b"}  # reserved before posting


def test_a_pending_run_is_resumed_with_the_same_messages(
    store: Store, defaults: GuildDefaults
) -> None:
    configure(store, defaults)
    (claim,) = journal.claim(store.conn, defaults, now=DUE)
    run = journal.begin(store.conn, new_run(claim.run_key), {"a": 0, "b": 1}, now=DUE)
    journal.sent(store.conn, run, 0, 555, now=DUE, result="posted 2")
    # the process dies before the second message
    with reopen(store) as restarted:
        (resumed,) = journal.pending(restarted.conn)
        assert resumed.messages_sent == 1
        assert resumed.payloads == run.payloads  # the same bodies, so the same nonces
        assert journal.open_claims(restarted.conn, defaults) == []
        finished = journal.sent(restarted.conn, resumed, 1, 556, now=DUE, result="posted 2")
        assert finished.status == "done"
        assert journal.pending(restarted.conn) == []
        assert journal.run(restarted.conn, run.run_key) == replace(
            run, status="done", messages_sent=2, result="posted 2"
        )


def test_the_last_message_finishes_the_run_and_the_servers_result_in_one_step(
    store: Store, defaults: GuildDefaults
) -> None:
    configure(store, defaults)
    (claim,) = journal.claim(store.conn, defaults, now=DUE)
    run = journal.begin(store.conn, new_run(claim.run_key, messages=1), {"a": 0}, now=DUE)
    with counting(store) as (conn, statements):
        journal.sent(conn, run, 0, 555, now=DUE, result="2025-03-10 08:00 UTC: posted 1")
    assert transactions(statements) == 1
    assert journal.pending(store.conn) == []
    recorded = journal.run(store.conn, run.run_key)
    assert recorded is not None
    assert (recorded.status, recorded.messages_sent) == ("done", 1)
    state = get_guild(store.conn, GUILD, defaults)
    assert state.last_result == "2025-03-10 08:00 UTC: posted 1"
    assert state.last_run_at == DUE  # the next window starts there


def test_a_single_message_scheduled_run_takes_three_transactions(
    store: Store, defaults: GuildDefaults
) -> None:
    """claim (the tick's), begin, sent: the figures of the journal's docstring."""
    configure(store, defaults)
    with counting(store) as (conn, claiming):
        (claim,) = journal.claim(conn, defaults, now=DUE)  # once a tick, for every due server
    with counting(store) as (conn, delivering):
        journal.posted_ids(conn, CHANNEL)  # what the digest may not repeat
        run = journal.begin(conn, new_run(claim.run_key, messages=1), {"a": 0}, now=DUE)
        journal.sent(conn, run, 0, 555, now=DUE, result="posted")
    assert transactions(claiming) + transactions(delivering) == 3
    assert len(delivering) == 11  # posted_ids 1, begin 5 (with BEGIN, COMMIT), sent 5
    assert get_guild(store.conn, GUILD, defaults).last_result == "posted"


def test_a_failed_run_releases_its_unsent_articles_for_a_later_run(
    store: Store, defaults: GuildDefaults
) -> None:
    configure(store, defaults)
    run = journal.begin(store.conn, new_run("s:1"), {"a": 0, "b": 1}, now=DUE)
    run = journal.sent(store.conn, run, 0, 555, now=DUE, result="unused")
    journal.failed(store.conn, run, "HTTP 400", now=DUE, result="refused: HTTP 400")
    assert journal.posted_ids(store.conn, CHANNEL) == {"a"}  # b was never posted
    assert get_guild(store.conn, GUILD, defaults).last_result == "refused: HTTP 400"
    recorded = journal.run(store.conn, run.run_key)
    assert recorded is not None
    assert (recorded.status, recorded.messages_sent, recorded.result) == ("failed", 1, "HTTP 400")
    later = journal.begin(store.conn, new_run("s:2", messages=1), {"a": 0, "b": 0}, now=DUE)
    rows = store.conn.execute(
        "SELECT article_id, run_key FROM delivery_ledger ORDER BY article_id"
    ).fetchall()
    assert rows == [("a", "s:1"), ("b", later.run_key)]  # b is posted by the later run; a is not


def test_an_unusable_channel_fails_the_run_and_stops_the_server(
    store: Store, defaults: GuildDefaults
) -> None:
    configure(store, defaults)
    run = journal.begin(store.conn, new_run("s:1"), {"a": 0, "b": 1}, now=DUE)
    assert journal.failing(store.conn, run, "channel gone", now=DUE)
    assert journal.posted_ids(store.conn, CHANNEL) == set()
    assert journal.pending(store.conn) == []
    state = get_guild(store.conn, GUILD, defaults)
    assert state.failing_reason == "channel gone"
    assert state.next_run_at is None
    again = journal.begin(store.conn, new_run("m:2"), {"c": 0}, now=DUE)
    assert not journal.failing(store.conn, again, "channel gone", now=DUE)  # already failing


def test_an_empty_run_is_done_and_the_window_moves_on(
    store: Store, defaults: GuildDefaults
) -> None:
    configure(store, defaults)
    (claim,) = journal.claim(store.conn, defaults, now=DUE)
    assert journal.empty(store.conn, new_run(claim.run_key, 0), "nothing new", now=DUE) is None
    assert journal.open_claims(store.conn, defaults) == []
    assert journal.pending(store.conn) == []
    state = get_guild(store.conn, GUILD, defaults)
    assert (state.last_result, state.last_run_at) == ("nothing new", DUE)


def test_a_key_recorded_before_is_never_recorded_again(
    store: Store, defaults: GuildDefaults
) -> None:
    """Claimed again the same local date (e.g. the time was moved later): the claim is spent,
    the earlier run is returned as it was, and nothing else changes."""
    configure(store, defaults)
    first = journal.begin(store.conn, new_run("s:1"), {"a": 0}, now=DUE)
    first = journal.sent(store.conn, first, 0, 1, now=DUE, result="unused")
    journal.sent(store.conn, first, 1, 2, now=DUE, result="posted 2")
    store.conn.execute(
        "INSERT INTO digest_claims (run_key, guild_id, channel_id, scheduled_for, claimed_at) "
        "VALUES ('s:1', ?, ?, 0, 0)",
        (GUILD, CHANNEL),
    )
    earlier = journal.begin(store.conn, new_run("s:1"), {"z": 0}, now=DUE)
    assert (earlier.status, earlier.messages_sent) == ("done", 2)
    assert journal.open_claims(store.conn, defaults) == []
    assert journal.posted_ids(store.conn, CHANNEL) == {"a"}
    assert journal.empty(store.conn, new_run("s:1"), "nothing new", now=DUE) == earlier
    assert get_guild(store.conn, GUILD, defaults).last_result == "posted 2"


def test_retry_later_keeps_the_run_pending_and_says_so(
    store: Store, defaults: GuildDefaults
) -> None:
    configure(store, defaults)
    run = journal.begin(store.conn, new_run("s:1"), {"a": 0}, now=DUE)
    journal.retry_later(store.conn, run, "Discord did not accept the digest; will retry")
    assert journal.pending(store.conn) == [run]
    assert journal.posted_ids(store.conn, CHANNEL) == {"a"}
    assert "will retry" in (get_guild(store.conn, GUILD, defaults).last_result or "")


def test_an_abandoned_run_releases_its_articles_and_leaves_the_result(
    store: Store, defaults: GuildDefaults
) -> None:
    configure(store, defaults)
    run = journal.begin(store.conn, new_run("s:1"), {"a": 0}, now=DUE)
    journal.abandon(store.conn, run, "abandoned: server gone or failing", now=DUE)
    assert journal.pending(store.conn) == []
    assert journal.posted_ids(store.conn, CHANNEL) == set()
    assert get_guild(store.conn, GUILD, defaults).last_result is None


def test_a_skipped_claim_is_dropped_with_its_reason(store: Store, defaults: GuildDefaults) -> None:
    configure(store, defaults)
    configure(store, defaults, guild=GUILD + 1)
    late, changed = journal.claim(store.conn, defaults, now=DUE)
    journal.skip(store.conn, late, "skipped the run (the bot was offline)")
    journal.skip(store.conn, changed, None)
    assert journal.open_claims(store.conn, defaults) == []
    assert journal.pending(store.conn) == []
    assert get_guild(store.conn, GUILD, defaults).last_result == (
        "skipped the run (the bot was offline)"
    )
    assert get_guild(store.conn, GUILD + 1, defaults).last_result is None
