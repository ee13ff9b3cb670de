"""Configuration: documented defaults load; bad values stop start-up naming the key and the problem."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.server_settings import SERVER_SETTINGS
from bot.settings import (
    ArticlesDirError,
    ConfigError,
    Settings,
    format_weekdays,
    load_settings,
    packaged_config_text,
    parse_hhmm,
    parse_shards,
    parse_weekdays,
    server_defaults,
)

CHECKOUT = Path(__file__).resolve().parent.parent
CHECKOUT_CONFIG = CHECKOUT / "config" / "newsbot.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsbot.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_loads_and_points_at_seeds() -> None:
    settings = load_settings(CHECKOUT_CONFIG, environ={})
    assert settings.articles_dir == CHECKOUT / "seeds"
    assert settings.database == CHECKOUT / "data" / "newsbot.sqlite3"
    assert settings.schedule.local_time == time(8, 0)
    assert settings.schedule.weekday_set == frozenset(range(7))
    assert settings.digest.per_topic == 3


def test_packaged_defaults_are_the_documented_example_without_checkout_paths() -> None:
    """One source of truth: the package's built-in defaults are config/newsbot.yaml, with the
    two paths that point into a source checkout left unset."""
    example = CHECKOUT_CONFIG.read_text(encoding="utf-8")
    expected = example.replace(
        "\narticles_dir: ../seeds\n", "\n# articles_dir: /srv/news/articles\n"
    ).replace(
        "\ndatabase: ../data/newsbot.sqlite3\n", "\n# database: /var/lib/newsbot/newsbot.sqlite3\n"
    )
    assert expected != example
    assert packaged_config_text() == expected


def test_outside_a_checkout_the_builtin_defaults_and_the_user_data_folder_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no config/newsbot.yaml here
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    settings = load_settings(environ={})
    assert settings.articles_dir is None
    assert settings.database == tmp_path / "xdg" / "newsbot" / "newsbot.sqlite3"
    example = load_settings(CHECKOUT_CONFIG, environ={})
    assert settings.model_dump(exclude={"articles_dir", "database"}) == example.model_dump(
        exclude={"articles_dir", "database"}
    )
    with pytest.raises(ArticlesDirError, match="no articles folder is set: set NEWSBOT_ARTICLES"):
        settings.require_articles_dir()


def test_a_checkout_config_in_the_current_folder_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "newsbot.yaml").write_text("articles_dir: ../news\n", "utf-8")
    (tmp_path / "news").mkdir()
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.articles_dir == tmp_path.resolve() / "news"
    assert settings.require_articles_dir() == tmp_path.resolve() / "news"
    other = write(tmp_path, "articles_dir: gone\n")
    chosen = load_settings(environ={"NEWSBOT_CONFIG": str(other)})  # the variable wins
    with pytest.raises(ArticlesDirError, match="gone does not exist or is not a folder"):
        chosen.require_articles_dir()


def test_settings_never_default_into_the_installed_package() -> None:
    import bot

    package = Path(bot.__file__).resolve().parent.parent
    database = Settings().database
    assert isinstance(database, Path)
    assert not database.resolve().is_relative_to(package)


def test_empty_config_gives_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""), environ={})
    assert settings.schedule.timezone == "UTC"
    assert settings.delivery.max_requests_per_second == 48


def test_without_a_config_every_server_default_is_the_declared_one(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""), environ={})
    declared = {s.name: s.default for s in SERVER_SETTINGS.values() if s.config is not None}
    assert server_defaults(settings) == declared
    assert set(declared) >= {"time", "timezone", "weekdays", "per_topic", "lookback_hours"}


def test_server_defaults_from_the_config_are_read_as_slash_commands_read_them(
    tmp_path: Path,
) -> None:
    text = "schedule:\n  time: '7:05'\n  weekdays: Saturday, sunday\ndigest:\n  min_quality: 40\n"
    settings = load_settings(write(tmp_path, text), environ={})
    assert (settings.schedule.time, settings.schedule.weekdays) == ("07:05", "sat,sun")
    defaults = server_defaults(settings)
    assert (defaults["time"], defaults["weekdays"]) == (time(7, 5), frozenset({5, 6}))
    assert defaults["min_quality"] == 40


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "articles_dir: news\ndatabase: db/x.sqlite3\n"), {})
    assert settings.articles_dir == tmp_path.resolve() / "news"
    assert settings.index_dir == tmp_path.resolve() / "db" / "x.sqlite3.index"


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    env = {"NEWSBOT_ARTICLES_DIR": str(tmp_path / "a"), "NEWSBOT_DATABASE": str(tmp_path / "d.db")}
    settings = load_settings(write(tmp_path, "articles_dir: elsewhere\n"), env)
    assert settings.articles_dir == tmp_path / "a"
    assert settings.database == tmp_path / "d.db"


def test_newsbot_config_variable_selects_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "digest:\n  per_topic: 7\n")
    assert load_settings(environ={"NEWSBOT_CONFIG": str(path)}).digest.per_topic == 7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "schedule:\n  timezone: Mars/Olympus\n",
            "schedule.timezone: 'Mars/Olympus' is not an IANA",
        ),
        ("schedule:\n  time: '25:99'\n", "schedule.time: '25:99' is not a time of day"),
        ("schedule:\n  weekdays: ','\n", "schedule.weekdays: at least one weekday is needed"),
        ("digest:\n  min_quality: 190\n", "digest.min_quality: Input should be less than or"),
        ("digest:\n  per_topic: many\n", "digest.per_topic: Input should be a valid integer"),
        (
            "digest:\n  per_topic: 11\n",
            "digest.per_topic: Input should be less than or equal to 10",
        ),
        ("digets:\n  per_topic: 2\n", "digets: unknown key"),
        ("topic_colors:\n  AI: red\n", "colour of topic 'AI' must look like #1A2B3C"),
        ("- just\n- a list\n", "the top level must be a mapping"),
        ("schedule: [unclosed\n", "not valid YAML"),
    ],
)
def test_invalid_config_names_the_key_and_the_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match=r"newsbot\.yaml") as caught:
        load_settings(write(tmp_path, text), environ={})
    assert expected in str(caught.value)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_hhmm() -> None:
    assert parse_hhmm("7:05") == time(7, 5)
    for bad in ("25:99", "noon", "12:5", "24:00", ""):
        with pytest.raises(ValueError, match="time of day"):
            parse_hhmm(bad)


@pytest.mark.parametrize(
    ("text", "days", "shown"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}, "mon-fri"),
        ("mon,wed,fri", {0, 2, 4}, "mon,wed,fri"),
        ("Saturday, sunday", {5, 6}, "sat,sun"),
        ("fri-mon", {4, 5, 6, 0}, "mon,fri,sat,sun"),
        ("daily", set(range(7)), "every day"),
    ],
)
def test_weekdays_round_trip(text: str, days: set[int], shown: str) -> None:
    assert parse_weekdays(text) == frozenset(days)
    assert format_weekdays(frozenset(days)) == shown


def test_bad_weekday_is_refused() -> None:
    with pytest.raises(ValueError, match="'funday' is not a weekday"):
        parse_weekdays("mon,funday")


@given(st.frozensets(st.integers(0, 6), min_size=1))
def test_weekdays_round_trip_through_their_display_form(days: frozenset[int]) -> None:
    # what /digest show prints is what /digest schedule accepts, and means the same days
    assert parse_weekdays(format_weekdays(days)) == days


def test_sources_local_and_git(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sources:\n"
        "  - name: ai\n    git: https://example.com/ai-news.git\n    branch: gh-pages\n"
        "    every: 30m\n    token_env: AI_TOKEN\n"
        "  - name: mine\n    path: pipeline/out\n"
        "  - name: repo-on-disk\n    git: ../mirror\n    path: news/_news\n",
    )
    settings = load_settings(path, environ={})
    ai, mine, disk = settings.all_sources  # no articles_dir set: only the listed sources
    assert (ai.kind, ai.inner_path, ai.every_seconds, ai.branch) == (
        "git",
        "_news",
        1800,
        "gh-pages",
    )
    assert (mine.kind, mine.path) == ("local", str(tmp_path / "pipeline" / "out"))
    assert disk.git == str(tmp_path.parent / "mirror")
    assert disk.inner_path == "news/_news"
    assert disk.every_seconds == 7200  # default 2 h
    assert settings.local_folders == [tmp_path / "pipeline" / "out"]
    with_folder = load_settings(path, environ={"NEWSBOT_ARTICLES_DIR": str(tmp_path)})
    assert [s.name for s in with_folder.all_sources] == ["articles", "ai", "mine", "repo-on-disk"]


def test_no_sources_means_the_articles_folder(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "articles_dir: news\n"), environ={})
    (only,) = settings.all_sources
    assert (only.name, only.kind, only.path) == ("articles", "local", str(tmp_path / "news"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- name: a\n  path: x\n- name: a\n  path: y\n", "two sources are named 'a'"),
        ("- name: articles\n  path: y\n", "two sources are named 'articles'"),
        ("- name: a\n  git: https://h/r.git\n  every: soon\n", "'soon' is not an interval"),
        ("- name: a\n  git: https://h/r.git\n  every: 10s\n", "too often"),
        ("- name: a\n", "give either git: (a repository) or path: (a folder)"),
        ("- name: a\n  path: x\n  every: 1h\n", "every applies only to a git: source"),
        ("- name: a\n  git: https://h/r.git\n  path: /abs\n", "the folder inside the repository"),
        ("- name: a b\n  path: x\n", "must be 1-64 letters"),
        ("- name: a\n  git: https://h/r.git\n  token: abc\n", "unknown key"),
        (
            "- name: a\n  git: https://h/r.git\n  token_env: A\n  token_file: f\n",
            "token_env or token_file, not both",
        ),
    ],
)
def test_bad_sources_are_refused_clearly(tmp_path: Path, text: str, message: str) -> None:
    body = "articles_dir: news\nsources:\n" + "".join(f"  {line}\n" for line in text.splitlines())
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, body), environ={})
    assert message in str(caught.value)


def test_a_credential_in_a_git_url_is_refused_without_echoing_it(tmp_path: Path) -> None:
    body = "sources:\n  - name: a\n    git: https://bot:s3cr3t-t0ken@example.com/r.git\n"
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, body), environ={})
    assert "must not carry credentials" in str(caught.value)
    assert "s3cr3t-t0ken" not in str(caught.value)


def test_a_postgresql_url_is_the_database_and_derived_data_go_to_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    url = "postgresql://newsbot@db.example:5432/news"
    config = tmp_path / "newsbot.yaml"
    config.write_text(f"database: {url}\n", encoding="utf-8")
    from_file = load_settings(config, environ={})
    from_env = load_settings(config, environ={"NEWSBOT_DATABASE": url + "2"})
    assert from_file.database == url  # a URL, not a path beside the config
    assert from_env.database == url + "2"
    data = tmp_path / "xdg" / "newsbot"
    assert from_file.index_dir == data / "newsbot.index"
    assert from_file.sources_dir == data / "sources"
    beside = load_settings(config, environ={"NEWSBOT_DATABASE": str(tmp_path / "d.db")})
    assert beside.index_dir == tmp_path / "d.db.index"


@pytest.mark.parametrize(
    ("spec", "count", "ids", "label"),
    [
        ("0-3", "8", (0, 1, 2, 3), "0-3"),
        ("0,2,5-6", 8, (0, 2, 5, 6), "0,2,5-6"),
        (" 5-6 , 0,2 ", "8", (0, 2, 5, 6), "0,2,5-6"),  # any order, spaces: one plan
        ("7", "8", (7,), "7"),
        (None, None, None, None),
        ("", "8", None, None),  # every shard of 8
    ],
)
def test_shards_are_read_and_labelled(
    spec: str | None, count: str | int | None, ids: tuple[int, ...] | None, label: str | None
) -> None:
    plan = parse_shards(spec, count)
    assert plan.ids == ids
    assert plan.label == label
    assert plan.count == (None if count is None else int(count))


@pytest.mark.parametrize(
    ("spec", "count", "message"),
    [
        ("3-1", "8", "shard range '3-1' runs backwards"),
        ("0-8", "8", "shard 8 does not exist with 8 shard(s): shards are 0 to 7"),
        ("8", "8", "shard 8 does not exist"),
        ("0-3", None, "need the total count too"),
        ("0-3", "0", "shard count must be a whole number from 1"),
        ("0-3", "eight", "shard count must be a whole number from 1"),
        ("a-b", "8", "is not a list of shards"),
        ("0,,1", "8", "is not a list of shards"),
    ],
)
def test_shards_that_make_no_sense_are_refused(spec: str, count: str | None, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_shards(spec, count)


def test_cluster_defaults_and_a_heartbeat_too_slow_for_the_lease(tmp_path: Path) -> None:
    cluster = load_settings(write(tmp_path, ""), environ={}).cluster
    assert (cluster.lease_seconds, cluster.heartbeat_seconds) == (8.0, 2.0)
    assert cluster.index_sync_seconds == 5.0
    ok = "cluster:\n  lease_seconds: 30\n  heartbeat_seconds: 15\n"
    assert load_settings(write(tmp_path, ok), environ={}).cluster.heartbeat_seconds == 15
    slow = "cluster:\n  lease_seconds: 10\n  heartbeat_seconds: 6\n"
    with pytest.raises(ConfigError, match=r"cluster\.heartbeat_seconds: .*half of") as caught:
        load_settings(write(tmp_path, slow), environ={})
    assert "lease_seconds" in str(caught.value)
