"""Per-server settings: defaults, updates, schedule recomputation, claims, removal and purge."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from bot.core.server_settings import build_settings
from bot.settings import Settings
from bot.store.db import Store
from bot.store.guilds import (
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
from tests.core.test_server_settings import valid_settings

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
    assert state.settings.per_topic == defaults.settings.per_topic
    assert not state.settings.active
    assert state.next_run_at is None


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
    assert get_guild(store.conn, GUILD, defaults).settings.per_topic == defaults.settings.per_topic


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"per_topic": 11}, "per_topic must be from 1 to 10"),
        ({"min_quality": -1}, "min_quality must be from 0 to 189"),
        ({"timezone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"weekdays": frozenset()}, "weekdays must be one or more"),
    ],
)
def test_a_value_out_of_bounds_is_refused_and_nothing_changes(
    store: Store, defaults: GuildDefaults, changes: dict[str, object], message: str
) -> None:
    setup_active(store, defaults)
    before = get_guild(store.conn, GUILD, defaults)
    with pytest.raises(ValueError, match=message):
        update_settings(store.conn, GUILD, {"lookback_hours": 48, **changes}, defaults, now=NOW)
    assert get_guild(store.conn, GUILD, defaults) == before


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=valid_settings())
def test_any_valid_settings_read_back_the_same(
    store: Store, defaults: GuildDefaults, values: dict[str, object]
) -> None:
    """Every declared setting survives its column on each engine (the one codec, both ways)."""
    expected = build_settings(GUILD, values)
    assert update_settings(store.conn, GUILD, values, defaults, now=NOW).settings == expected
    assert get_guild(store.conn, GUILD, defaults).settings == expected


def test_the_configs_defaults_apply_until_a_server_sets_its_own(
    store: Store, settings: Settings
) -> None:
    config = settings.model_copy(
        update={
            "schedule": settings.schedule.model_copy(update={"time": "06:30"}),
            "digest": settings.digest.model_copy(update={"per_topic": 7}),
        }
    )
    defaults = GuildDefaults.from_settings(config)
    assert get_guild(store.conn, GUILD, defaults).settings.time == time(6, 30)
    update_settings(store.conn, GUILD, {"per_topic": 2}, defaults, now=NOW)
    assert get_guild(store.conn, GUILD, defaults).settings.per_topic == 2
    update_settings(store.conn, GUILD, {"per_topic": None}, defaults, now=NOW)  # unset
    assert get_guild(store.conn, GUILD, defaults).settings.per_topic == 7


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
