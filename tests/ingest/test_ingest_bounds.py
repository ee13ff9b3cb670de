"""Numbers no real feed produces reject their file, naming the field; on both parser paths
(the fast reader and libyaml) the parser never raises and never lets through a value the store
cannot hold."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.models import QUALITY_MAX
from bot.ingest import ParsedFile, Rejection, parse_bytes, parse_related
from bot.ingest.bounds import (
    HEAT_MAX,
    PIXELS_MAX,
    PUBLISHED_MAX,
    PUBLISHED_MIN,
    SQLITE_INT_MAX,
    SQLITE_INT_MIN,
)
from bot.store import Store

# field -> (its line in TEMPLATE, how that line starts)
FIELDS = {
    "title": "title: ",
    "excerpt": "excerpt: ",
    "publishedDateTime": "publishedDateTime: ",
    "webUrl": "webUrl: ",
    "type": "type: ",
    "category": "category: ",
    "quality": "quality: ",
    "heat": "heat: ",
    "published": "published: ",
    "removed": "removed: ",
    "featuredContent": "featuredContent: ",
    "provider.name": "  name: ",
    "provider.domain": "  domain: ",
    "topics[0]": "  - AI",
    "images[0].width": "    width: ",
    "images[0].height": "    height: ",
    "related[0].title": "  - title: ",
    "related[0].quality": "    quality: ",
    "related[0].publishedDateTime": "    publishedDateTime: ",
}

TEMPLATE = """---
category: news
title: "Rockets land again"
excerpt: "The booster came back."
publishedDateTime: 2026-03-02T09:30:00Z
originalUrl: "https://news.example.com/rockets"
webUrl: "https://news.example.com/rockets"
type: video
quality: 91
heat: 240
published: true
removed: false
featuredContent: "<iframe src=\\"https://www.youtube.com/embed/AbCdEfGhIjK\\"></iframe>"
provider:
  name: Example News
  domain: example.com
topics:
  - AI
images:
  - url: "https://img.example.com/a.jpg"
    width: 1280
    height: 720
related:
  - title: "Rockets land, again"
    webUrl: "https://other.example.org/rockets"
    quality: 50
    publishedDateTime: 2026-03-02T10:00:00Z
    provider:
      name: Other
      domain: other.example.org
secured: "x"
---
"""


def with_value(field: str, scalar: str, *, slow: bool = False) -> bytes:
    """TEMPLATE with `field` set to the YAML scalar text; `slow` adds a comment, which the
    fast reader leaves to libyaml."""
    prefix = FIELDS[field]
    lines = TEMPLATE.splitlines()
    if field.startswith("related"):
        start = next(n for n, line in enumerate(lines) if line == "related:")
    elif field.startswith("images"):
        start = next(n for n, line in enumerate(lines) if line == "images:")
    elif field.startswith("provider"):
        start = next(n for n, line in enumerate(lines) if line == "provider:")
    else:
        start = 0
    at = next(n for n in range(start, len(lines)) if lines[n].startswith(prefix))
    lines[at] = prefix.replace("AI", "") + scalar
    if slow:
        lines.insert(1, "# a comment: read by libyaml")
    return ("\n".join(lines) + "\n").encode("utf-8")


def yaml_scalar(value: object) -> str:
    """How YAML writes a value on one line."""
    dumped = yaml.safe_dump([value], default_flow_style=True, width=10**9, allow_unicode=True)
    return dumped.strip()[1:-1]


def check(result: ParsedFile | Rejection, store: Store) -> None:
    """The property: a Rejection with a reason of its own, or an article the store holds."""
    if isinstance(result, Rejection):
        assert result.error
        assert not result.error.startswith("could not parse"), result.error  # no parser bug
        return
    article = result.article
    assert article.quality is None or 0 <= article.quality <= QUALITY_MAX
    assert article.heat is None or 0 <= article.heat <= HEAT_MAX
    for image in article.images:
        for side in (image.width, image.height):
            assert side is None or 1 <= side <= PIXELS_MAX
    assert PUBLISHED_MIN <= article.published < PUBLISHED_MAX
    assert SQLITE_INT_MIN <= article.related_count <= SQLITE_INT_MAX
    for coverage in parse_related(article.related_yaml):
        assert coverage.quality is None or 0 <= coverage.quality <= QUALITY_MAX
        assert coverage.published is None or PUBLISHED_MIN <= coverage.published < PUBLISHED_MAX
    with store.transaction():  # storing it never raises
        store.put_article(article, source_path=result.path, source_digest=result.digest)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """One store per engine for the module (the property test stores hundreds of articles)."""
    with contextlib.ExitStack() as stack:
        database: Path | str = tmp_path_factory.mktemp("bounds") / "newsbot.sqlite3"
        if request.param == "postgresql":
            from tests.pg import fresh_database

            database = stack.enter_context(fresh_database())
        opened = stack.enter_context(Store.open(database))
        yield opened


@pytest.mark.parametrize("slow", [False, True], ids=["fast", "libyaml"])
@pytest.mark.parametrize(
    ("field", "scalar", "reason"),
    [
        ("heat", "123456789012345678901234567890", "heat is out of range: a number beyond 64 bits"),
        ("heat", "9223372036854775808", "heat is out of range"),
        ("heat", "2000000", "heat is out of range: 2000000 (expected 0 to 1,000,000"),
        ("heat", "-2", "heat is out of range: -2"),
        ("heat", ".nan", "heat must be a whole number, got nan"),
        ("quality", "1.0e+308", "quality is out of range: 1e+308 (expected 0 to 189"),
        ("quality", ".inf", "quality must be a whole number, got inf"),
        ("quality", "-.inf", "quality must be a whole number, got -inf"),
        ("quality", "190", "quality is out of range: 190"),
        ("quality", "1" * 5000, "quality is out of range: a number of more than 4,300 digits"),
        ("quality", "0x" + "f" * 5000, "quality is out of range: a number beyond 64 bits"),
        ("images[0].width", "99999999999999999999", "images[0].width is out of range"),
        ("images[0].height", ".inf", "images[0].height is out of range: inf"),
        ("images[0].width", "9" * 4400, "images[0].width is out of range"),
        ("publishedDateTime", "0001-01-01T00:00:00+01:00", "publishedDateTime is out of range"),
        ("publishedDateTime", "9999-12-31", "publishedDateTime is out of range"),
        ("publishedDateTime", "1066-10-14", "publishedDateTime is out of range"),
        ("publishedDateTime", "2026-13-45T00:00:00Z", "publishedDateTime cannot be read"),
        ("title", "0x" + "f" * 5000, "title must be text, got a number beyond 64 bits"),
        ("title", ".nan", "title must be text, got the number nan"),
    ],
)
def test_a_number_no_feed_produces_rejects_the_file_naming_the_field(
    field: str, scalar: str, reason: str, slow: bool, store: Store
) -> None:
    result = parse_bytes(with_value(field, scalar, slow=slow), "odd.md")
    assert isinstance(result, Rejection), result
    assert reason in result.error
    check(result, store)


@pytest.mark.parametrize("slow", [False, True], ids=["fast", "libyaml"])
@pytest.mark.parametrize(
    ("field", "scalar", "expected"),
    [
        ("heat", "-1", None),  # upstream's unknown
        ("heat", "1_000", 1000),
        ("heat", "1000000", HEAT_MAX),
        ("quality", "189", 189),
        ("quality", "90.0", 90),
        ("quality", "0", 0),
        ("quality", "~", None),
    ],
)
def test_values_within_the_scales_are_kept(
    field: str, scalar: str, expected: int | None, slow: bool
) -> None:
    result = parse_bytes(with_value(field, scalar, slow=slow), "ok.md")
    assert isinstance(result, ParsedFile), result
    assert getattr(result.article, field) == expected


def test_out_of_range_coverage_numbers_are_unknown_not_fatal() -> None:
    text = with_value("related[0].quality", "1.0e+308")
    text = text.replace(b"    publishedDateTime: 2026", b"    publishedDateTime: 1026")
    result = parse_bytes(text, "r.md")
    assert isinstance(result, ParsedFile), result
    (coverage,) = parse_related(result.article.related_yaml)
    assert (coverage.quality, coverage.published) == (None, None)


# Property: any YAML scalar in any field gives an article the store can hold, or a rejection.
_zones = st.sampled_from([None, UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12))])
_values = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, 10**30, -1, 0, 189, 190, 10**6 + 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, math.inf, -math.inf, math.nan, 90.0, 90.5, 5e-324]),
    st.text(max_size=40),
    st.booleans(),
    st.none(),
    st.dates(),
    st.datetimes(timezones=_zones),
    st.sampled_from(
        [
            date(1, 1, 1),
            date(9999, 12, 31),
            datetime(9999, 12, 31, 23, 59, tzinfo=timezone(-timedelta(hours=5))),
            datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
        ]
    ),
)
_raw = st.sampled_from(
    [
        "0x7fffffffffffffffff",
        "0o777777777777777777777777",
        "0b" + "1" * 80,
        "1_000_000_000_000_000_000_000",
        "190:20:30:40:50:60",
        "1e308",
        "1.0e+308",
        "-.inf",
        ".NaN",
        "~",
        "yes",
        "2026-13-45",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-05:00",
        "1" * 5000,
        "0x" + "f" * 5000,
        '"\\e[31mred\\e[0m"',
        "'<b>bold</b>'",
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(sorted(FIELDS)),
    scalar=st.one_of(_values.map(yaml_scalar), _raw),
    slow=st.booleans(),
)
def test_any_scalar_in_any_field_gives_a_storable_article_or_a_rejection(
    field: str, scalar: str, slow: bool, store: Store
) -> None:
    result = parse_bytes(with_value(field, scalar, slow=slow), "any.md")
    check(result, store)


def test_the_cli_check_reports_an_out_of_range_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "ok.md").write_bytes(with_value("heat", "12"))
    bad = articles / "bad.md"
    bad.write_bytes(with_value("heat", "123456789012345678901234567890"))
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "none.yaml"))
    (tmp_path / "none.yaml").write_text("{}\n", encoding="utf-8")
    monkeypatch.setenv("NEWSBOT_ARTICLES_DIR", str(articles))
    # `newsbot check` reads files only, never the store: one engine says it all
    monkeypatch.setenv("NEWSBOT_DATABASE", str(tmp_path / "db.sqlite3"))
    assert main(["check"]) == 1
    assert f"problem: {bad}: heat is out of range" in capsys.readouterr().out
