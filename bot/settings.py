"""Validated settings from the YAML config and the environment.

Every key and its default is declared here once; an unknown key, a wrong type or a bad time zone
stops start-up with a `ConfigError` that names the key and the problem. The keys that set a
server's defaults (`schedule.time`, `digest.per_topic`, …) take their default, bounds and text
form from the declaration of per-server settings, `bot.core.server_settings`.

Which config file: `NEWSBOT_CONFIG`, else `config/newsbot.yaml` in the current directory (a source
checkout), else the built-in defaults packaged as `bot/default_config.yaml`. Nothing depends on
where the package is installed: without a config the database goes to the per-user data folder.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import available_timezones

import platformdirs
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.core.ranking import RankingWeights
from bot.core.server_settings import SERVER_SETTINGS, ServerSetting
from bot.core.server_settings import check_timezone as check_timezone  # re-exported (pre-schema)
from bot.core.server_settings import format_weekdays as format_weekdays  # re-exported
from bot.core.server_settings import parse_hhmm as parse_hhmm  # re-exported
from bot.core.server_settings import parse_weekdays as parse_weekdays  # re-exported

CHECKOUT_CONFIG = Path("config") / "newsbot.yaml"  # relative to the current directory
PACKAGED_CONFIG = "default_config.yaml"  # package data of `bot`: the built-in defaults

ARTICLES_SOURCE = "articles"  # the name of the source made of `articles_dir`
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


class ArticlesDirError(ConfigError):
    """No articles folder is set, or the one set is not a folder (`missing` tells which)."""

    def __init__(self, message: str, *, missing: bool) -> None:
        super().__init__(message)
        self.missing = missing


def packaged_config_text() -> str:
    """The built-in defaults: the documented example config shipped inside the package."""
    return resources.files("bot").joinpath(PACKAGED_CONFIG).read_text(encoding="utf-8")


_DATABASE_URL = re.compile(r"^postgres(ql)?://", re.IGNORECASE)


def is_database_url(value: object) -> bool:
    """True when a `database` setting names a PostgreSQL server (`postgresql://...`)."""
    return isinstance(value, str) and bool(_DATABASE_URL.match(value))


@dataclass(frozen=True, slots=True)
class ShardPlan:
    """The gateway shards one `newsbot run` owns: `ids` out of `count` (None: let Discord say
    how many, and own them all)."""

    ids: tuple[int, ...] | None = None
    count: int | None = None

    @property
    def label(self) -> str | None:
        """The shards as `newsbot status` shows them (`0-3`, `0,2,5`), None for all."""
        if self.ids is None:
            return None
        parts: list[str] = []
        run: list[int] = []
        for shard in (*self.ids, -2):  # a sentinel closes the last run
            if run and shard == run[-1] + 1:
                run.append(shard)
                continue
            if run:
                parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
            run = [shard]
        return ",".join(parts)


_SHARD_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")
MAX_SHARDS = 4096


def parse_shards(spec: str | None, count: str | int | None) -> ShardPlan:
    """`--shards 0-3 --shard-count 8` (or NEWSBOT_SHARDS / NEWSBOT_SHARD_COUNT) as a plan;
    ConfigError with the reason when they do not make sense."""
    total: int | None = None
    if count is not None and str(count).strip():
        text = str(count).strip()
        if not text.isdigit() or not 1 <= int(text) <= MAX_SHARDS:
            raise ConfigError(
                f"shard count must be a whole number from 1 to {MAX_SHARDS}, not {text!r}"
            )
        total = int(text)
    if spec is None or not spec.strip():
        return ShardPlan(None, total)
    if total is None:
        raise ConfigError(
            f"shards {spec.strip()!r} need the total count too: --shard-count / NEWSBOT_SHARD_COUNT"
        )
    ids: set[int] = set()
    for part in spec.split(","):
        match = _SHARD_RANGE.match(part)
        if match is None:
            raise ConfigError(f"{spec.strip()!r} is not a list of shards: use e.g. 0-3 or 0,2,5")
        first = int(match[1])
        last = int(match[2]) if match[2] is not None else first
        if last < first:
            raise ConfigError(f"shard range {part.strip()!r} runs backwards")
        if last >= total:
            raise ConfigError(
                f"shard {last} does not exist with {total} shard(s): shards are 0 to {total - 1}"
            )
        ids.update(range(first, last + 1))
    return ShardPlan(tuple(sorted(ids)), total)


def package_version() -> str:
    """The installed newsbot's version ("unknown" in a checkout that was never installed)."""
    try:
        return metadata.version("newsbot")
    except metadata.PackageNotFoundError:
        return "unknown"


def default_database() -> Path:
    """`newsbot.sqlite3` in the per-user data folder (`$XDG_DATA_HOME/newsbot`, by default
    `~/.local/share/newsbot` on Linux), never inside the installed package."""
    return platformdirs.user_data_path("newsbot", appauthor=False) / "newsbot.sqlite3"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


@functools.cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA time zone name known here, sorted (for autocomplete): read from disk once."""
    return tuple(sorted(available_timezones()))


class IngestSettings(_Section):
    max_file_bytes: Annotated[int, Field(gt=0)] = 1_048_576
    rescan_seconds: Annotated[int, Field(ge=5)] = 300


# The config keys that set a per-server default (`schedule.time`, `digest.per_topic`, …) take their
# default, bounds and text form from the one declaration of server settings, `SERVER_SETTINGS`.
_SERVER_DEFAULTS: dict[str, ServerSetting[Any]] = {
    s.config: s for s in SERVER_SETTINGS.values() if s.config is not None
}


def _server_default(key: str) -> Any:
    """The field of config key `key` (`section.key`): its default and bounds as declared."""
    declared = _SERVER_DEFAULTS[key]
    return Field(default=declared.config_default, ge=declared.low, le=declared.high)


class ScheduleSettings(_Section):
    time: str = _server_default("schedule.time")
    timezone: str = _server_default("schedule.timezone")
    weekdays: str = _server_default("schedule.weekdays")
    catch_up_minutes: Annotated[int, Field(ge=0)] = 180

    @field_validator("time", "timezone", "weekdays")
    @classmethod
    def _text_form(cls, value: str, info: ValidationInfo) -> str:
        """Parsed as `/digest schedule` parses it (ValueError names the problem), kept as shown."""
        declared = _SERVER_DEFAULTS[f"schedule.{info.field_name}"]
        return declared.canonical(value)

    @property
    def local_time(self) -> dt.time:
        return parse_hhmm(self.time)

    @property
    def weekday_set(self) -> frozenset[int]:
        return parse_weekdays(self.weekdays)


class DigestDefaults(_Section):
    per_topic: int = _server_default("digest.per_topic")
    min_quality: int = _server_default("digest.min_quality")
    max_per_provider: int = _server_default("digest.max_per_provider")
    lookback_hours: int = _server_default("digest.lookback_hours")


def server_defaults(settings: Settings) -> dict[str, Any]:
    """The per-server defaults this config sets, by setting name, as typed values."""
    found: dict[str, Any] = {}
    for key, declared in _SERVER_DEFAULTS.items():
        section, _, name = key.partition(".")
        found[declared.name] = declared.from_config(getattr(getattr(settings, section), name))
    return found


class DeliverySettings(_Section):
    max_requests_per_second: Annotated[int, Field(ge=1, le=49)] = 48
    retries: Annotated[int, Field(ge=0, le=10)] = 4
    request_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 15.0


class RetentionSettings(_Section):
    ledger_days: Annotated[int, Field(ge=1)] = 90
    retired_article_days: Annotated[int, Field(ge=1)] = 30
    guild_grace_days: Annotated[int, Field(ge=0)] = 14


class StartupSettings(_Section):
    connect_attempts: Annotated[int, Field(ge=1, le=100)] = 5
    retry_seconds: Annotated[float, Field(gt=0, le=600)] = 4.0


class ClusterSettings(_Section):
    """Several `newsbot run` processes on one database (docs/operating.md, "Several processes")."""

    # a deliverer that stops renewing its lease is replaced after this long
    lease_seconds: Annotated[float, Field(ge=3, le=300)] = 8.0
    # how often each process renews its heartbeat and the lease (or tries to take it over)
    heartbeat_seconds: Annotated[float, Field(gt=0, le=60)] = 2.0
    # how often a process that does not deliver brings its search index up to date
    index_sync_seconds: Annotated[float, Field(gt=0, le=3600)] = 5.0

    @field_validator("heartbeat_seconds")
    @classmethod
    def _renew_in_time(cls, value: float, info: ValidationInfo) -> float:
        # a field check (not the model's), so the error names `cluster.heartbeat_seconds`
        lease = info.data.get("lease_seconds")  # absent when itself invalid: reported already
        if lease is not None and value * 2 > lease:
            raise ValueError(
                f"must be at most half of cluster.lease_seconds ({lease:g}), or a live "
                "deliverer could lose its lease between two renewals"
            )
        return value


_INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_INTERVAL_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_REFRESH_SECONDS = 60


def parse_interval(value: str) -> int:
    """`30m`, `2h`, `1d`, `90s` as seconds (at least a minute), or ValueError with the reason."""
    match = _INTERVAL.match(value)
    if not match:
        raise ValueError(
            f"{value!r} is not an interval: use a number and s, m, h or d (e.g. 30m, 2h)"
        )
    seconds = int(match[1]) * _INTERVAL_SECONDS[match[2]]
    if seconds < MIN_REFRESH_SECONDS:
        raise ValueError(f"{value!r} is too often: refresh at most once a minute")
    return seconds


class SourceSettings(_Section):
    """One place articles come from: a local folder (`path`) or a Git repository (`git`).

    For a Git source `path` is the folder inside the repository (default `_news`) and `every`
    how often it is fetched; its token, if any, comes from `token_env` or `token_file`.
    """

    name: str
    path: str | None = None
    git: str | None = None
    branch: str | None = None
    every: str | None = None
    token_env: str | None = None
    token_file: str | None = None
    token_user: str = "x-access-token"  # noqa: S105 - the user name sent with a token, not a secret

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SOURCE_NAME.match(value):
            raise ValueError(
                f"source name {value!r} must be 1-64 letters, digits, '.', '_' or '-' "
                "(it names a folder)"
            )
        return value

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | None) -> str | None:
        if value is not None:
            parse_interval(value)
        return value

    @model_validator(mode="after")
    def _kind(self) -> SourceSettings:
        where = f"source {self.name!r}"
        if self.git is None:
            if self.path is None:
                raise ValueError(f"{where}: give either git: (a repository) or path: (a folder)")
            extras = [k for k in ("branch", "every", "token_env", "token_file") if getattr(self, k)]
            if extras:
                verb = "applies" if len(extras) == 1 else "apply"
                raise ValueError(
                    f"{where}: {', '.join(extras)} {verb} only to a git: source (a local "
                    "folder is re-scanned every ingest.rescan_seconds)"
                )
            return self
        if not self.git.strip():
            raise ValueError(f"{where}: git: is empty")
        if re.match(r"^[a-z][a-z0-9+.-]*://[^/@]*@", self.git, re.IGNORECASE):
            raise ValueError(
                f"{where}: the git URL must not carry credentials; put the token in an "
                "environment variable (token_env:) or a file (token_file:)"
            )
        if self.token_env and self.token_file:
            raise ValueError(f"{where}: give token_env or token_file, not both")
        inner = self.path if self.path is not None else "_news"
        parts = Path(inner).parts
        if Path(inner).is_absolute() or ".." in parts or inner.startswith("-"):
            raise ValueError(
                f"{where}: with git:, path: is the folder inside the repository (relative, e.g. "
                f"_news), not {inner!r}; a local folder is a separate source with path: only"
            )
        return self

    @property
    def kind(self) -> str:
        return "local" if self.git is None else "git"

    @property
    def inner_path(self) -> str:
        """The folder inside the repository, without leading/trailing slashes ('' = root)."""
        return (self.path if self.path is not None else "_news").strip("/").removeprefix("./")

    @property
    def every_seconds(self) -> int:
        return parse_interval(self.every or "2h")


class Settings(_Section):
    """The whole configuration. Paths are absolute once loaded."""

    articles_dir: Path | None = None
    # a SQLite file (the default), or a PostgreSQL URL (`postgresql://user@host:5432/db`)
    database: Path | str = Field(default_factory=default_database)
    ingest: IngestSettings = IngestSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    digest: DigestDefaults = DigestDefaults()
    ranking: RankingWeights = RankingWeights()
    topic_colors: dict[str, str] = Field(default_factory=dict)
    delivery: DeliverySettings = DeliverySettings()
    retention: RetentionSettings = RetentionSettings()
    startup: StartupSettings = StartupSettings()
    cluster: ClusterSettings = ClusterSettings()
    # Where articles come from besides `articles_dir` (which, when set or when no sources are
    # listed, is one local source named "articles").
    sources: tuple[SourceSettings, ...] = ()

    @field_validator("topic_colors")
    @classmethod
    def _colours(cls, value: dict[str, str]) -> dict[str, str]:
        for topic, colour in value.items():
            if not _HEX_COLOUR.match(colour):
                raise ValueError(
                    f"colour of topic {topic!r} must look like #1A2B3C, not {colour!r}"
                )
        return value

    @field_validator("database")
    @classmethod
    def _database(cls, value: Path | str) -> Path | str:
        if isinstance(value, str) and not is_database_url(value):
            return Path(value)
        return value

    @model_validator(mode="after")
    def _unique_sources(self) -> Settings:
        seen: set[str] = set()
        for source in self.all_sources:
            if source.name in seen:
                raise ValueError(f"two sources are named {source.name!r}: names must be unique")
            seen.add(source.name)
        return self

    @property
    def all_sources(self) -> tuple[SourceSettings, ...]:
        """Every source: the articles folder first (when one is set), then the listed sources."""
        if self.articles_dir is None:
            return self.sources
        folder = SourceSettings(name=ARTICLES_SOURCE, path=str(self.articles_dir))
        return (folder, *self.sources)

    @property
    def local_folders(self) -> list[Path]:
        """The folders of the local sources (what a re-scan reads)."""
        return [Path(s.path) for s in self.all_sources if s.git is None and s.path is not None]

    @property
    def data_dir(self) -> Path:
        """The folder of this machine's data: beside a SQLite database, or the per-user data
        folder when the database is a PostgreSQL server."""
        if isinstance(self.database, Path):
            return self.database.parent
        return default_database().parent

    @property
    def sources_dir(self) -> Path:
        """Where Git sources are checked out: the data folder, beside the database."""
        return self.data_dir / "sources"

    @property
    def index_dir(self) -> Path:
        """The search index folder, derived data kept beside the database (for a PostgreSQL
        database, `newsbot.index` in the data folder: each machine keeps its own)."""
        if isinstance(self.database, Path):
            return self.database.with_name(self.database.name + ".index")
        return self.data_dir / "newsbot.index"

    def require_articles_dir(self) -> Path:
        """The articles folder, or an `ArticlesDirError` saying it is not set or not there."""
        if self.articles_dir is None:
            raise ArticlesDirError(
                "no articles folder is set: set NEWSBOT_ARTICLES_DIR or `articles_dir` in the "
                "config (NEWSBOT_CONFIG)",
                missing=False,
            )
        if not self.articles_dir.is_dir():
            raise ArticlesDirError(
                f"the articles folder {self.articles_dir} does not exist or is not a folder",
                missing=True,
            )
        return self.articles_dir


def _describe(error: Mapping[str, Any]) -> str:
    location = ".".join(str(part) for part in error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{location}: unknown key (check its spelling; every key is in the README and bot/default_config.yaml)"
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, dict | list | tuple) or location.startswith("sources"):
        # whole sections are too long to echo, and a source entry may hold a credential
        return f"{location}: {message}"
    return f"{location}: {message} (got {value!r})"


def _resolve_source_paths(raw: dict[str, Any], base: Path) -> None:
    """Local source folders (and token files, and local repository paths) relative to the
    config file's folder; a `sources` list becomes a tuple (strict validation)."""
    sources = raw.get("sources")
    if not isinstance(sources, list):
        return
    for entry in sources:
        if not isinstance(entry, dict):
            continue
        if entry.get("git") is None and isinstance(entry.get("path"), str):
            entry["path"] = str((base / entry["path"]).resolve())
        if isinstance(entry.get("token_file"), str):
            entry["token_file"] = str((base / entry["token_file"]).resolve())
        git = entry.get("git")
        if isinstance(git, str) and not re.match(r"^[a-z][a-z0-9+.-]*://|^[^/:]+@[^:]+:", git):
            entry["git"] = str((base / git).resolve())  # a local repository path
    raw["sources"] = tuple(sources)


def load_settings(
    config_path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the YAML config (see the module's docstring for which) and apply the environment."""
    env = os.environ if environ is None else environ
    path: Path | None = config_path
    if path is None and env.get("NEWSBOT_CONFIG"):
        path = Path(env["NEWSBOT_CONFIG"])
    if path is None and CHECKOUT_CONFIG.is_file():
        path = CHECKOUT_CONFIG
    if path is None:
        name, base, text = (
            f"built-in defaults ({PACKAGED_CONFIG})",
            Path.cwd(),
            packaged_config_text(),
        )
    else:
        name, base = str(path), path.resolve().parent
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: the top level must be a mapping of keys to values")
    for key in ("articles_dir", "database"):
        if isinstance(raw.get(key), str) and not is_database_url(raw[key]):
            raw[key] = str((base / raw[key]).resolve())
    if env.get("NEWSBOT_ARTICLES_DIR"):
        raw["articles_dir"] = str(Path(env["NEWSBOT_ARTICLES_DIR"]).resolve())
    if env.get("NEWSBOT_DATABASE"):
        given = env["NEWSBOT_DATABASE"]
        raw["database"] = given if is_database_url(given) else str(Path(given).resolve())
    for key in ("articles_dir", "database"):
        if isinstance(raw.get(key), str) and not is_database_url(raw[key]):
            raw[key] = Path(raw[key])
    _resolve_source_paths(raw, base)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(err) for err in exc.errors())
        raise ConfigError(f"{name}: {problems}") from exc
