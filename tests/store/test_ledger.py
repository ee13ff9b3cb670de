"""The delivery ledger: an article reserved once per channel, pruning that never allows a repost,\nand the stable identities (run keys, nonces) a resumed run relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.discord.delivery import message_nonce, scheduled_run_key
from bot.store.db import Store
from bot.store.journal import begin, sent
from bot.store.ledger import DigestRun, posted_ids, prune
from tests.discord.bot_helpers import make_article, put_articles

NOW = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)


def new_run(key: str = "s:1:2:2025-03-10", payloads: int = 2) -> DigestRun:
    return DigestRun(
        run_key=key,
        guild_id=1,
        channel_id=2,
        kind="scheduled",
        status="pending",
        window_start=NOW - timedelta(days=1),
        window_end=NOW,
        payloads=tuple({"content": f"message {i}"} for i in range(payloads)),
        messages_sent=0,
        result=None,
        created_at=NOW,
    )


def test_an_article_is_never_reserved_twice_in_a_channel(store: Store) -> None:
    begin(store.conn, new_run("r1"), {"a": 0}, now=NOW)
    begin(store.conn, new_run("r2"), {"a": 0, "c": 0}, now=NOW)
    rows = store.conn.execute(
        "SELECT article_id, run_key FROM delivery_ledger ORDER BY article_id"
    ).fetchall()
    assert rows == [("a", "r1"), ("c", "r2")]


def test_pruning_keeps_rows_that_still_prevent_a_repost(store: Store) -> None:
    live, retired = make_article(1), make_article(2)
    put_articles(store, [live, retired])
    run = begin(store.conn, new_run(payloads=1), {live.id: 0, retired.id: 0}, now=NOW)
    sent(store.conn, run, 0, 1, now=NOW, result="ok")
    with store.transaction():
        store.retire_article(retired.id, NOW)
    later = NOW + timedelta(days=100)
    report = prune(store.conn, now=later, ledger_days=90, retired_article_days=30)
    assert report.ledger_rows == 1  # only the retired article's row
    assert posted_ids(store.conn, 2) == {live.id}
    # the retired article outlived its retention and nothing refers to it any more
    assert report.articles == 1
    assert store.article_state(retired.id)[0] == "absent"
    assert store.article_state(live.id)[0] == "active"


def test_retired_article_is_kept_while_a_ledger_row_refers_to_it(store: Store) -> None:
    retired = make_article(3)
    put_articles(store, [retired])
    run = begin(store.conn, new_run(), {retired.id: 0}, now=NOW)
    sent(store.conn, run, 0, 1, now=NOW, result="unused")
    with store.transaction():
        store.retire_article(retired.id, NOW)
    report = prune(
        store.conn, now=NOW + timedelta(days=40), ledger_days=90, retired_article_days=30
    )
    assert report.articles == 0
    assert store.article_state(retired.id)[0] == "retired"


def test_run_keys_and_nonces_are_stable_and_short() -> None:
    late_evening = datetime(2025, 3, 10, 23, 30, tzinfo=UTC)
    assert scheduled_run_key(1, 2, late_evening, "Europe/Paris") == "s:1:2:2025-03-11"
    assert scheduled_run_key(1, 2, late_evening, "UTC") == "s:1:2:2025-03-10"
    nonces = {message_nonce("s:1:2:2025-03-10", i) for i in range(10)}
    assert len(nonces) == 10
    assert all(len(n) == 25 for n in nonces)
    assert message_nonce("k", 0) == message_nonce("k", 0)
    # the nonces of runs recorded by earlier versions: a resumed run must send these exactly
    assert message_nonce("s:1:2:2025-03-10", 0) == "PS7RAGKFLMR63SFU7PGKZRFKP"
    assert message_nonce("m:1:2:0123abcd", 3) == "2AIS7JLD77XLXGNVTOSLOAVXH"
