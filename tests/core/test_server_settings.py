"""The one declaration of per-server settings: defaults, bounds, text forms, storage codec."""

from __future__ import annotations

import dataclasses
from datetime import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.models import GuildSettings
from bot.core.server_settings import (
    SERVER_SETTINGS,
    ServerSetting,
    build_settings,
    check_changes,
    decode,
    encode,
    summary,
)
from bot.settings import timezone_names

_BY_NAME: dict[str, st.SearchStrategy[Any]] = {
    "channel_id": st.none() | st.integers(1, 2**63 - 1),
    "topics": st.lists(st.text(min_size=1, max_size=40), max_size=25).map(tuple),
    "time": st.builds(time, st.integers(0, 23), st.integers(0, 59)),
    "timezone": st.sampled_from(timezone_names()),
    "weekdays": st.frozensets(st.integers(0, 6), min_size=1),
}


def valid_value(declared: ServerSetting[Any]) -> st.SearchStrategy[Any]:
    """Any value the setting accepts: within its bounds for a number."""
    if declared.low is not None and declared.high is not None:
        return st.integers(declared.low, declared.high)
    if isinstance(declared.default, bool):
        return st.booleans()
    return _BY_NAME[declared.name]


def valid_settings() -> st.SearchStrategy[dict[str, Any]]:
    """A value for every declared setting (a new setting needs a strategy here to be tested)."""
    return st.fixed_dictionaries({n: valid_value(s) for n, s in SERVER_SETTINGS.items()})


def test_the_declaration_is_exactly_the_fields_of_a_servers_settings() -> None:
    fields = [f.name for f in dataclasses.fields(GuildSettings) if f.name != "guild_id"]
    assert list(SERVER_SETTINGS) == fields
    unset = build_settings(7, {})
    assert unset.guild_id == 7
    assert not unset.active  # no channel, no topics: a new server posts nothing
    assert {n: getattr(unset, n) for n in SERVER_SETTINGS} == {
        n: s.default for n, s in SERVER_SETTINGS.items()
    }


@given(valid_settings())
def test_every_valid_value_passes_and_survives_its_column(values: dict[str, Any]) -> None:
    built = build_settings(1, values)
    stored = {name: encode(name, value) for name, value in values.items()}
    assert all(v is None or isinstance(v, int | str) for v in stored.values())  # column types
    assert dataclasses.replace(build_settings(1, {}), **decode(stored)) == built


@given(valid_settings())
def test_text_forms_read_back_what_they_show(values: dict[str, Any]) -> None:
    for name, declared in SERVER_SETTINGS.items():
        if declared.parse is not None:
            shown = declared.show(values[name])
            assert declared.from_text(shown) == values[name], name
            assert declared.canonical(shown) == shown


@pytest.mark.parametrize(
    "declared",
    [s for s in SERVER_SETTINGS.values() if s.low is not None],
    ids=lambda s: s.name,
)
def test_numbers_out_of_range_are_refused_naming_the_setting_and_its_range(
    declared: ServerSetting[Any],
) -> None:
    assert declared.low is not None
    assert declared.high is not None
    for value in (declared.low, declared.high):
        check_changes({declared.name: value})
    expected = f"{declared.name} must be from {declared.low} to {declared.high}"
    for value in (declared.low - 1, declared.high + 1):
        with pytest.raises(ValueError, match=expected):
            build_settings(1, {declared.name: value})
    with pytest.raises(ValueError, match="whole number"):
        check_changes({declared.name: True})
    assert f"({declared.low}-{declared.high})" in declared.option_description


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"colour": "red"}, "unknown server setting(s): colour"),
        ({"timezone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"weekdays": frozenset()}, "weekdays must be one or more"),
        ({"weekdays": frozenset({7})}, "weekdays must be one or more"),
    ],
)
def test_bad_values_are_refused_clearly(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_changes(changes)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("time", "25:99", "is not a time of day"),
        ("timezone", "Mars/Olympus", "is not an IANA time zone"),
        ("weekdays", "mon,funday", "'funday' is not a weekday"),
        ("weekdays", ",", "at least one weekday is needed"),
    ],
)
def test_bad_text_is_refused_with_the_reason(name: str, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SERVER_SETTINGS[name].from_text(text)


def test_the_summary_names_each_digest_option_with_its_value() -> None:
    settings = build_settings(1, {"per_topic": 5, "silent": True})
    assert summary(settings) == (
        "per_topic 5 · min_quality 0 · max_per_provider 2 · lookback_hours 24 · silent on"
    )
