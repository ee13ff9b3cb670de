"""Golden payloads: a fixed set of articles at a fixed clock, ranked, composed and formatted.

A change in ranking, collapse or formatting shows up as a diff of tests/golden/*.json, to be
reviewed by eye. Regenerate with `NEWSBOT_UPDATE_GOLDEN=1 pytest tests/discord/test_formatting_golden.py`.
"""

from __future__ import annotations

import json
import os
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.digest import build_pool, compose_digest
from bot.core.models import GuildSettings
from bot.core.ranking import RankingWeights
from bot.discord.formatting import digest_messages, search_page, top_page
from bot.ingest.related import related_items
from bot.search.index import SearchHit
from tests.discord_limits import validate_message_body
from tests.golden.articles import GOLDEN_NOW, golden_articles

GOLDEN_DIR = Path(__file__).parents[1] / "golden"
UPDATE = os.environ.get("NEWSBOT_UPDATE_GOLDEN", "") not in ("", "0")
SETTINGS = GuildSettings(
    guild_id=1,
    channel_id=2,
    topics=("AI", "Diablo 4", "Druid"),
    time=time(8, 0),
    timezone="Europe/Paris",
    weekdays=frozenset(range(7)),
    per_topic=3,
    min_quality=0,
    max_per_provider=2,
    lookback_hours=24,
)
COLOURS = {"AI": "#5865F2", "Diablo 4": "#B22222"}


def payloads() -> dict[str, Any]:
    pool = build_pool(
        golden_articles(), now=GOLDEN_NOW, weights=RankingWeights(), related=related_items
    )
    digest = compose_digest(
        pool,
        SETTINGS,
        posted_ids=frozenset(),
        window_start=GOLDEN_NOW - timedelta(hours=24),
        window_end=GOLDEN_NOW,
    )
    assert digest is not None
    items = [item for section in digest.sections for item in section.items]
    hits = [SearchHit(item.article, item.score.total) for item in items]
    return {
        "digest": digest_messages(digest, topic_colors=COLOURS),
        "digest_silent": digest_messages(digest, topic_colors=COLOURS, silent=True)[0]["flags"],
        "search_page": search_page(hits, query="clearview *police*", page=1, pages=2, total=7),
        "top_page": top_page(items, topic="AI", page=1, pages=1),
    }


@pytest.mark.parametrize("name", ["digest", "digest_silent", "search_page", "top_page"])
def test_matches_golden(name: str) -> None:
    path = GOLDEN_DIR / f"{name}.json"
    actual = payloads()[name]
    if UPDATE:
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with NEWSBOT_UPDATE_GOLDEN=1"
    assert actual == json.loads(path.read_text(encoding="utf-8"))


def test_golden_payloads_are_valid_for_discord(discord_spec: dict[str, Any]) -> None:
    result = payloads()
    for body in [*result["digest"], result["search_page"], result["top_page"]]:
        assert validate_message_body(body, discord_spec) == []
