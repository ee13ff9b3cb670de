"""`/news why` as one embed: within every Discord limit, never pinging, whatever the article says."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.core.why import CoverageLink, StoryMember
from bot.discord.formatting import FIELD_VALUE_MAX, embed_length, why_message
from tests.core.test_why import four_ai_stories, why
from tests.golden.articles import guild, make_article

NASTY = "@everyone **bold** <@123> ||spoiler|| " + "x" * 400


def message(explanation: Any, *, server_digest: bool) -> dict[str, Any]:
    settings = guild(topics=(NASTY, "AI"))
    payload: dict[str, Any] = why_message(
        explanation, settings=settings, server_digest=server_digest
    )
    return payload


def test_a_huge_story_stays_within_every_limit() -> None:
    articles = four_ai_stories()
    article = replace(articles[3], title=NASTY)
    explanation = why(article, [*articles[:3], article])
    members = tuple(
        StoryMember(f"id{n}", NASTY, f"https://e.com/{n}?q=(x)", NASTY, article.published)
        for n in range(60)
    )
    coverage = tuple(CoverageLink(f"https://c{n}.com/a b", NASTY, NASTY) for n in range(60))
    explanation = replace(explanation, members=members, coverage=coverage, reason=NASTY * 20)
    payload = message(explanation, server_digest=True)
    assert payload["allowed_mentions"] == {"parse": []}
    [embed] = payload["embeds"]
    assert len(embed["title"]) <= 256
    assert len(embed["description"]) <= 4096
    assert embed_length(embed) <= 6000
    assert len(embed["fields"]) <= 25
    for field in embed["fields"]:
        assert len(field["value"]) <= FIELD_VALUE_MAX
        assert "@everyone" not in field["value"]
        assert "<@123>" not in field["value"]
    assert "@everyone" not in embed["description"]
    assert "@everyone" not in embed["title"]
    assert "more" in embed["fields"][1]["value"]  # the story is cut with "… and N more"
    assert "This server's digest" in embed["fields"][-1]["value"]


def test_members_see_a_default_digest_and_the_verdict_colour() -> None:
    articles = four_ai_stories()
    included = message(why(articles[0], articles), server_digest=False)["embeds"][0]
    excluded = message(why(articles[3], articles), server_digest=False)["embeds"][0]
    assert included["description"].startswith("✅ **In the digest**")
    assert excluded["description"].startswith("❌ **Not in the digest**")
    assert included["color"] != excluded["color"]
    assert "A default digest" in included["fields"][-1]["value"]
    assert included["url"] == articles[0].url


def test_an_old_article_still_renders() -> None:
    old = make_article("Old news", hours_ago=24 * 30)
    payload = message(why(old, four_ai_stories(), neighbours=[]), server_digest=False)
    assert "Outside the window" in payload["embeds"][0]["description"]
    assert payload["embeds"][0]["timestamp"].startswith(f"{old.published:%Y-%m-%d}")
