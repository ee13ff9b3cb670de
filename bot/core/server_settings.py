"""Every per-server setting, declared once.

`SERVER_SETTINGS` lists each field of `GuildSettings` with its type, its bounds, its default (and
the config key that supplies it), the description shown on its slash-command option, its text
form (what the config file and `/digest` accept) and how it is stored in its database column.
Everything else is derived from this list: the config file's bounds (`bot.settings`), a server's
defaults and the column mapping of the store (`bot.store.guilds`), and the `/digest` options,
their ranges and their checks (`bot.discord.cogs.digest`).

Pure: the standard library only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any, Generic, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.models import QUALITY_MAX, WEEKDAYS, GuildSettings

T = TypeVar("T")

_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EVERY_DAY: frozenset[int] = frozenset(range(7))


# -- text forms ---------------------------------------------------------------------------------


def parse_hhmm(value: str) -> time:
    """Parse `HH:MM` (24-hour clock) or raise ValueError with a readable reason."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a time of day in HH:MM form (e.g. 08:30)")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ValueError(f"{value!r} is not a time of day: hours go 00-23 and minutes 00-59")
    return time(hour, minute)


def parse_weekdays(value: str) -> frozenset[int]:
    """Parse `mon-fri`, `mon,wed,fri`, `sat-sun`, `daily` into weekday numbers (0 = Monday)."""
    text = value.strip().lower()
    if text in ("", "daily", "every day", "everyday", "all"):
        return EVERY_DAY
    days: set[int] = set()
    for part in re.split(r"[,\s]+", text):
        if not part:
            continue
        if "-" in part:
            start, _, end = part.partition("-")
            a, b = _weekday_index(start), _weekday_index(end)
            span = range(a, b + 1) if a <= b else [*range(a, 7), *range(b + 1)]
            days.update(span)
        else:
            days.add(_weekday_index(part))
    return frozenset(days)


def _weekday_index(name: str) -> int:
    word = name.strip()
    for index, full in enumerate(_FULL_WEEKDAYS):
        if len(word) >= 2 and full.startswith(word):
            return index
    raise ValueError(f"{name!r} is not a weekday: use mon, tue, wed, thu, fri, sat, sun")


def format_weekdays(days: frozenset[int]) -> str:
    """The inverse of `parse_weekdays`, for display: `every day`, `mon-fri`, `mon,wed,fri`."""
    if len(days) == 7:
        return "every day"
    ordered = sorted(days)
    if ordered and ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{WEEKDAYS[ordered[0]]}-{WEEKDAYS[ordered[-1]]}"
    return ",".join(WEEKDAYS[d] for d in ordered)


def check_timezone(name: str) -> str:
    """Return `name` if it is an IANA time zone this machine knows, else raise ValueError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Paris, UTC)") from exc
    return name


def _schedule_days(value: str) -> frozenset[int]:
    days = parse_weekdays(value)
    if not days:
        raise ValueError("at least one weekday is needed")
    return days


def _check_zone(name: str) -> None:
    check_timezone(name)


def _check_days(days: frozenset[int]) -> None:
    if not days or not days <= EVERY_DAY:
        raise ValueError(f"weekdays must be one or more of 0-6 (Monday-Sunday), not {set(days)}")


# -- the declaration ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSetting(Generic[T]):
    """One per-server setting. `name` is its `GuildSettings` field, its database column and its
    slash-command option; `config` the config key (`section.key`) that overrides `default`."""

    name: str
    description: str  # on the slash-command option (a numeric range is added by the option)
    default: T
    to_db: Callable[[T], object]
    from_db: Callable[[Any], T | None]  # None: nothing usable stored, the default applies
    parse: Callable[[str], T] | None = None  # the text form, or ValueError with the reason
    show: Callable[[T], str] = str
    low: int | None = None  # whole numbers: the accepted range, both ends included
    high: int | None = None
    validate: Callable[[Any], None] | None = None  # a rule for values not given as text
    config: str | None = None

    @property
    def option_description(self) -> str:
        """The slash-command option's description (with the range, for a number)."""
        if self.low is None or self.high is None:
            return self.description
        return f"{self.description} ({self.low}-{self.high})"

    def check(self, value: object) -> None:
        """Raise ValueError, naming the setting and what it accepts, for a value out of bounds."""
        if self.low is not None and self.high is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{self.name} must be a whole number, not {value!r}")
            if not self.low <= value <= self.high:
                raise ValueError(
                    f"{self.name} must be from {self.low} to {self.high} (got {value})"
                )
        if self.validate is not None:
            self.validate(value)

    def from_config(self, value: object) -> T:
        """A config file's value (text for the text forms, else already typed) as a value."""
        if self.parse is not None and isinstance(value, str):
            return self.parse(value)
        self.check(value)
        return cast("T", value)  # the config model gave it its type; check() its bounds

    def from_text(self, text: str) -> T:
        """The value `text` spells (config file, slash command), or ValueError with the reason."""
        if self.parse is None:
            raise ValueError(f"{self.name} has no text form")
        return self.parse(text)

    def canonical(self, text: str) -> str:
        """`text` in the form it is shown (`8:00` → `08:00`); ValueError when it does not parse."""
        return self.show(self.from_text(text))

    @property
    def config_default(self) -> object:
        """The default as the config file spells it (its text form, when it has one)."""
        return self.show(self.default) if self.parse is not None else self.default


def _topics_from_db(value: Any) -> tuple[str, ...]:
    return tuple(str(topic) for topic in json.loads(value))


def _weekdays_from_db(value: Any) -> frozenset[int] | None:
    return frozenset(int(day) for day in str(value).split(",") if day) or None


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def _int(value: Any) -> int:
    return int(value)


def _bool(value: Any) -> bool:
    return bool(value)


CHANNEL_ID: ServerSetting[int | None] = ServerSetting(
    name="channel_id",
    description="a text or announcement channel the bot may post in",
    default=None,
    to_db=lambda value: value,
    from_db=lambda value: int(value),
)
TOPICS: ServerSetting[tuple[str, ...]] = ServerSetting(
    name="topics",
    description="the topics of the digest",
    default=(),
    to_db=lambda value: json.dumps(list(value), ensure_ascii=False),
    from_db=_topics_from_db,
    show=", ".join,
)
TIME: ServerSetting[time] = ServerSetting(
    name="time",
    description="HH:MM, 24-hour clock, e.g. 08:30",
    default=time(8, 0),
    to_db=lambda value: value.strftime("%H:%M"),
    from_db=lambda value: parse_hhmm(str(value)),
    parse=parse_hhmm,
    show=lambda value: value.strftime("%H:%M"),
    config="schedule.time",
)
TIMEZONE: ServerSetting[str] = ServerSetting(
    name="timezone",
    description="IANA time zone, e.g. Europe/Paris",
    default="UTC",
    to_db=str,
    from_db=lambda value: str(value) or None,
    parse=lambda value: check_timezone(value.strip()),
    validate=_check_zone,
    config="schedule.timezone",
)
WEEKDAYS_SETTING: ServerSetting[frozenset[int]] = ServerSetting(
    name="weekdays",
    description="mon-fri, mon,wed,fri … (default every day)",
    default=EVERY_DAY,
    to_db=lambda value: ",".join(str(day) for day in sorted(value)),
    from_db=_weekdays_from_db,
    parse=_schedule_days,
    show=format_weekdays,
    validate=_check_days,
    config="schedule.weekdays",
)
PER_TOPIC: ServerSetting[int] = ServerSetting(
    name="per_topic",
    description="stories per topic",
    default=3,
    to_db=int,
    from_db=_int,
    low=1,
    high=10,
    config="digest.per_topic",
)
MIN_QUALITY: ServerSetting[int] = ServerSetting(
    name="min_quality",
    description="skip articles below this quality",
    default=0,
    to_db=int,
    from_db=_int,
    low=0,
    high=QUALITY_MAX,
    config="digest.min_quality",
)
MAX_PER_PROVIDER: ServerSetting[int] = ServerSetting(
    name="max_per_provider",
    description="at most this many stories from one outlet",
    default=2,
    to_db=int,
    from_db=_int,
    low=1,
    high=50,
    config="digest.max_per_provider",
)
LOOKBACK_HOURS: ServerSetting[int] = ServerSetting(
    name="lookback_hours",
    description="window of the first digest, in hours",
    default=24,
    to_db=int,
    from_db=_int,
    low=1,
    high=24 * 365,
    config="digest.lookback_hours",
)
SILENT: ServerSetting[bool] = ServerSetting(
    name="silent",
    description="post without notifications",
    default=False,
    to_db=int,
    from_db=_bool,
    show=_on_off,
)
PAUSED: ServerSetting[bool] = ServerSetting(
    name="paused",
    description="the digest is paused (/digest pause, /digest resume)",
    default=False,
    to_db=int,
    from_db=_bool,
    show=_on_off,
)

SERVER_SETTINGS: Mapping[str, ServerSetting[Any]] = {
    declared.name: declared
    for declared in (
        CHANNEL_ID,
        TOPICS,
        TIME,
        TIMEZONE,
        WEEKDAYS_SETTING,
        PER_TOPIC,
        MIN_QUALITY,
        MAX_PER_PROVIDER,
        LOOKBACK_HOURS,
        SILENT,
        PAUSED,
    )
}
"""Every per-server setting by name, in column order."""

DIGEST_OPTIONS: tuple[ServerSetting[Any], ...] = (
    PER_TOPIC,
    MIN_QUALITY,
    MAX_PER_PROVIDER,
    LOOKBACK_HOURS,
    SILENT,
)
"""The options of `/digest settings`, in the order they are offered and shown."""


# -- deriving values ----------------------------------------------------------------------------


def setting(name: str) -> ServerSetting[Any]:
    """The declaration of one setting, or ValueError naming the unknown key."""
    try:
        return SERVER_SETTINGS[name]
    except KeyError:
        raise ValueError(f"unknown server setting: {name}") from None


def check_changes(changes: Mapping[str, object]) -> None:
    """Refuse unknown keys and values out of bounds (ValueError); None resets to the default."""
    unknown = sorted(set(changes) - set(SERVER_SETTINGS))
    if unknown:
        raise ValueError(f"unknown server setting(s): {', '.join(unknown)}")
    for name, value in changes.items():
        if value is not None:
            SERVER_SETTINGS[name].check(value)


def build_settings(guild_id: int, values: Mapping[str, object] | None = None) -> GuildSettings:
    """A server's settings: `values` where given (checked; None or left out: the declared
    default)."""
    given = dict(values or {})
    check_changes(given)
    merged: dict[str, Any] = {
        name: declared.default if given.get(name) is None else given[name]
        for name, declared in SERVER_SETTINGS.items()
    }
    return GuildSettings(guild_id=guild_id, **merged)


def encode(name: str, value: object) -> object:
    """A setting's value as stored in its column (None stays NULL: the default applies)."""
    return None if value is None else setting(name).to_db(value)


def decode(row: Mapping[str, object]) -> dict[str, Any]:
    """The settings a stored row holds (by column name), leaving out the unset ones."""
    read: dict[str, Any] = {}
    for name, declared in SERVER_SETTINGS.items():
        raw = row.get(name)
        value = None if raw is None else declared.from_db(raw)
        if value is not None:
            read[name] = value
    return read


def summary(settings: GuildSettings, shown: tuple[ServerSetting[Any], ...] = DIGEST_OPTIONS) -> str:
    """`per_topic 3 · min_quality 0 · …`: the named settings and their values, one line."""
    return " · ".join(f"{s.name} {s.show(getattr(settings, s.name))}" for s in shown)
