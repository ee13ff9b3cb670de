"""Per-server settings: defaults, updates, schedule recomputation, claims, removal and purge."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.store.db import Store
from bot.store.guilds import (
    SETTING_FIELDS,
    GuildDefaults,
    claim_due,
    get_guild,
    mark_failing,
    open_claims,
    purge_removed,
    set_removed,
    update_settings,
)
from bot.store.journal import begin
from bot.store.ledger import DigestRun, pending_runs

NOW = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)  # a Monday
GUILD = 111


def setup_active(store: Store, defaults: GuildDefaults, **extra: object) -> None:
    update_settings(
        store.conn, GUILD, {"channel_id": 222, "topics": ("AI",), **extra}, defaults, now=NOW
    )


def test_unknown_guild_reads_the_config_defaults(store: Store, defaults: GuildDefaults) -> None:
    state = get_guild(store.conn, GUILD, defaults)
    assert state.settings.time == time(8, 0)
    assert state.settings.timezone == "UTC"
    assert state.settings.weekdays == frozenset(range(7))
    assert state.settings.per_topic == defaults.per_topic
    assert not state.settings.active
    assert state.next_run_at is None


def test_every_guild_setting_is_declared_once() -> None:
    assert set(SETTING_FIELDS) == {
        "channel_id", "topics", "time", "timezone", "weekdays", "per_topic", "min_quality",
        "max_per_provider", "lookback_hours", "silent", "paused",
    }  # fmt: skip


def test_settings_persist_and_the_next_run_follows_them(
    store: Store, defaults: GuildDefaults
) -> None:
    setup_active(store, defaults)
    state = get_guild(store.conn, GUILD, defaults)
    assert state.settings.active
    assert state.next_run_at == datetime(2025, 3, 10, 8, 0, tzinfo=UTC)

    changed = update_settings(
        store.conn,
        GUILD,
        {"time": time(9, 30), "timezone": "Europe/Paris", "per_topic": 5},
        defaults,
        now=NOW,
    )
    assert changed.next_run_at == datetime(2025, 3, 10, 8, 30, tzinfo=UTC)  # 09:30 CET
    reread = get_guild(store.conn, GUILD, defaults)
    assert reread.settings.per_topic == 5
    assert reread.next_run_at == changed.next_run_at


def test_unknown_setting_is_refused_and_nothing_changes(
    store: Store, defaults: GuildDefaults
) -> None:
    setup_active(store, defaults)
    with pytest.raises(ValueError, match="colour"):
        update_settings(store.conn, GUILD, {"colour": "red", "per_topic": 9}, defaults, now=NOW)
    assert get_guild(store.conn, GUILD, defaults).settings.per_topic == defaults.per_topic


def test_pause_stops_the_schedule_and_resume_restores_it(
    store: Store, defaults: GuildDefaults
) -> None:
    setup_active(store, defaults)
    paused = update_settings(store.conn, GUILD, {"paused": True}, defaults, now=NOW)
    assert paused.next_run_at is None
    assert claim_due(store.conn, defaults, now=NOW + timedelta(days=2)) == []
    resumed = update_settings(store.conn, GUILD, {"paused": False}, defaults, now=NOW)
    assert resumed.next_run_at is not None


def test_claim_stores_the_next_run_before_returning(store: Store, defaults: GuildDefaults) -> None:
    setup_active(store, defaults)
    due_at = datetime(2025, 3, 10, 8, 0, 5, tzinfo=UTC)
    claimed = claim_due(store.conn, defaults, now=due_at)
    assert [(c.state.settings.guild_id, c.scheduled_for, c.run_key) for c in claimed] == [
        (GUILD, datetime(2025, 3, 10, 8, 0, tzinfo=UTC), "s:111:222:2025-03-10")
    ]
    assert get_guild(store.conn, GUILD, defaults).next_run_at == datetime(
        2025, 3, 11, 8, 0, tzinfo=UTC
    )
    assert claim_due(store.conn, defaults, now=due_at) == []


def test_a_claim_outlives_a_crash_until_its_run_is_recorded(
    store: Store, defaults: GuildDefaults
) -> None:
    """The claim and the record a restart recovers from are one transaction (issue 11)."""
    setup_active(store, defaults)
    due_at = datetime(2025, 3, 10, 8, 0, 5, tzinfo=UTC)
    (claim,) = claim_due(store.conn, defaults, now=due_at)
    # the process dies here, before a run (or its pending ledger rows) was written;
    # a new process opens the same database file
    with Store.open(store.path) as reopened:
        (left,) = open_claims(reopened.conn, defaults)
        assert (left.run_key, left.channel_id, left.scheduled_for) == (
            claim.run_key, 222, datetime(2025, 3, 10, 8, 0, tzinfo=UTC),
        )  # fmt: skip
        assert left.state.settings.guild_id == GUILD
        assert claim_due(reopened.conn, defaults, now=due_at) == []  # not claimed a second time
        run = DigestRun(
            run_key=claim.run_key, guild_id=GUILD, channel_id=222, kind="scheduled",
            status="pending", window_start=NOW, window_end=due_at, payloads=({"content": "x"},),
            messages_sent=0, result=None, created_at=due_at,
        )  # fmt: skip
        begin(reopened.conn, run, {"a": 0}, now=due_at)  # the pending run replaces the claim
        assert open_claims(reopened.conn, defaults) == []
        assert [r.run_key for r in pending_runs(reopened.conn)] == [claim.run_key]


def test_failing_guild_is_not_claimed_until_its_settings_change(
    store: Store, defaults: GuildDefaults
) -> None:
    setup_active(store, defaults)
    assert mark_failing(store.conn, GUILD, "channel gone", now=NOW)
    assert not mark_failing(store.conn, GUILD, "channel gone", now=NOW)  # already failing
    state = get_guild(store.conn, GUILD, defaults)
    assert state.failing_reason == "channel gone"
    assert claim_due(store.conn, defaults, now=NOW + timedelta(days=2)) == []
    fixed = update_settings(store.conn, GUILD, {"channel_id": 333}, defaults, now=NOW)
    assert fixed.failing_reason is None
    assert fixed.next_run_at is not None


def test_removed_guild_stops_at_once_and_is_purged_after_the_grace(
    store: Store, defaults: GuildDefaults
) -> None:
    setup_active(store, defaults)
    set_removed(store.conn, GUILD, True, defaults, now=NOW)
    assert get_guild(store.conn, GUILD, defaults).next_run_at is None
    assert purge_removed(store.conn, now=NOW + timedelta(days=13), grace_days=14) == 0
    assert get_guild(store.conn, GUILD, defaults).settings.channel_id == 222
    assert purge_removed(store.conn, now=NOW + timedelta(days=15), grace_days=14) == 1
    assert get_guild(store.conn, GUILD, defaults).settings.channel_id is None


def test_rejoining_guild_gets_its_schedule_back(store: Store, defaults: GuildDefaults) -> None:
    setup_active(store, defaults)
    set_removed(store.conn, GUILD, True, defaults, now=NOW)
    set_removed(store.conn, GUILD, False, defaults, now=NOW)
    assert get_guild(store.conn, GUILD, defaults).next_run_at is not None
