"""parse_related: another outlet's coverage, on demand."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.models import Coverage
from bot.ingest import parse_related

BLOCK = """related:
  - title: "Rival &amp; outlet covers it"
    excerpt: "Same story."
    publishedDateTime: 2026-03-04T18:45:00Z
    webUrl: "https://www.rival.example/story"
    type: article
    provider:
      name: Rival News
      domain: Rival.example
    quality: 84
  - title: "A video about it"
    publishedDateTime: 2026-03-05
    webUrl: ""
    type: video
    provider:
      name: Some Channel
      domain: youtube.com
  - excerpt: "no title: skipped"
  - just text
"""


def test_items_become_coverage_in_file_order() -> None:
    assert parse_related(BLOCK) == (
        Coverage(
            title="Rival & outlet covers it",
            url="https://www.rival.example/story",
            provider="Rival News",
            domain="rival.example",
            published=datetime(2026, 3, 4, 18, 45, tzinfo=UTC),
            quality=84,
        ),
        Coverage(
            title="A video about it",
            url=None,
            provider="Some Channel",
            domain="youtube.com",
            published=datetime(2026, 3, 5, tzinfo=UTC),
            quality=None,
        ),
    )


def test_empty_or_broken_blocks_give_nothing() -> None:
    for block in ("", "   \n", "related:\n", "related: []\n", "related:\n  - a: [\n", "nope: 1\n"):
        assert parse_related(block) == ()


def test_flow_style_and_aliases_still_read_safely() -> None:
    block = 'related: [{title: "Flow item", provider: {name: X, domain: x.example}}]\n'
    assert [c.title for c in parse_related(block)] == ["Flow item"]
