"""Validated settings from config/newsbot.yaml and the environment.

Every key and its default is declared here once; an unknown key, a wrong type or a bad time zone
stops start-up with a `ConfigError` that names the key and the problem.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.models import WEEKDAYS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "newsbot.yaml"

_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def parse_hhmm(value: str) -> dt.time:
    """Parse `HH:MM` (24-hour clock) or raise ValueError with a readable reason."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a time of day in HH:MM form (e.g. 08:30)")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ValueError(f"{value!r} is not a time of day: hours go 00-23 and minutes 00-59")
    return dt.time(hour, minute)


def parse_weekdays(value: str) -> frozenset[int]:
    """Parse `mon-fri`, `mon,wed,fri`, `sat-sun`, `daily` into weekday numbers (0 = Monday)."""
    text = value.strip().lower()
    if text in ("", "daily", "every day", "everyday", "all"):
        return frozenset(range(7))
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


def timezone_names() -> list[str]:
    """Every IANA time zone name known here, sorted (for autocomplete)."""
    return sorted(available_timezones())


class IngestSettings(_Section):
    max_file_bytes: Annotated[int, Field(gt=0)] = 1_048_576
    rescan_seconds: Annotated[int, Field(ge=5)] = 300


class ScheduleSettings(_Section):
    time: str = "08:00"
    timezone: str = "UTC"
    weekdays: str = "mon-sun"
    catch_up_minutes: Annotated[int, Field(ge=0)] = 180

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        parse_hhmm(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: str) -> str:
        if not parse_weekdays(value):
            raise ValueError("at least one weekday is needed")
        return value

    @property
    def local_time(self) -> dt.time:
        return parse_hhmm(self.time)

    @property
    def weekday_set(self) -> frozenset[int]:
        return parse_weekdays(self.weekdays)


class DigestDefaults(_Section):
    per_topic: Annotated[int, Field(ge=1, le=10)] = 3
    min_quality: Annotated[int, Field(ge=0, le=189)] = 0
    max_per_provider: Annotated[int, Field(ge=1, le=50)] = 2
    lookback_hours: Annotated[int, Field(ge=1, le=24 * 365)] = 24


class RankingWeights(_Section):
    quality: Annotated[float, Field(ge=0)] = 1.0
    heat: Annotated[float, Field(ge=0)] = 1.0
    coverage: Annotated[float, Field(ge=0)] = 0.5
    recency: Annotated[float, Field(ge=0)] = 0.5


class DeliverySettings(_Section):
    max_requests_per_second: Annotated[int, Field(ge=1, le=49)] = 48
    retries: Annotated[int, Field(ge=0, le=10)] = 4


class RetentionSettings(_Section):
    ledger_days: Annotated[int, Field(ge=1)] = 90
    retired_article_days: Annotated[int, Field(ge=1)] = 30
    guild_grace_days: Annotated[int, Field(ge=0)] = 14


class Settings(_Section):
    """The whole configuration. Paths are absolute once loaded."""

    articles_dir: Path = PROJECT_ROOT / "seeds"
    database: Path = PROJECT_ROOT / "data" / "newsbot.sqlite3"
    ingest: IngestSettings = IngestSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    digest: DigestDefaults = DigestDefaults()
    ranking: RankingWeights = RankingWeights()
    topic_colors: dict[str, str] = Field(default_factory=dict)
    delivery: DeliverySettings = DeliverySettings()
    retention: RetentionSettings = RetentionSettings()

    @field_validator("topic_colors")
    @classmethod
    def _colours(cls, value: dict[str, str]) -> dict[str, str]:
        for topic, colour in value.items():
            if not _HEX_COLOUR.match(colour):
                raise ValueError(
                    f"colour of topic {topic!r} must look like #1A2B3C, not {colour!r}"
                )
        return value

    @property
    def index_dir(self) -> Path:
        """The search index folder, derived data kept beside the database."""
        return self.database.with_name(self.database.name + ".index")


def _describe(error: Mapping[str, Any]) -> str:
    location = ".".join(str(part) for part in error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{location}: unknown key (check its spelling; see config/newsbot.yaml)"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{location}: {message} (got {error.get('input')!r})"


def load_settings(
    config_path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the YAML config (NEWSBOT_CONFIG or the default) and apply environment overrides."""
    env = os.environ if environ is None else environ
    path = config_path or Path(env.get("NEWSBOT_CONFIG") or DEFAULT_CONFIG)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys to values")
    base = path.resolve().parent
    for key in ("articles_dir", "database"):
        if isinstance(raw.get(key), str):
            raw[key] = str((base / raw[key]).resolve())
    if env.get("NEWSBOT_ARTICLES_DIR"):
        raw["articles_dir"] = str(Path(env["NEWSBOT_ARTICLES_DIR"]).resolve())
    if env.get("NEWSBOT_DATABASE"):
        raw["database"] = str(Path(env["NEWSBOT_DATABASE"]).resolve())
    for key in ("articles_dir", "database"):
        if key in raw:
            raw[key] = Path(raw[key])
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(err) for err in exc.errors())
        raise ConfigError(f"{path}: {problems}") from exc
