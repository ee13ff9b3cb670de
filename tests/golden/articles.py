"""Test articles: a small factory and the fixed set behind the golden payloads.

Import as `from tests.golden.articles import make_article, golden_articles, GOLDEN_NOW`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from bot.core.models import Article, ArticleKind, GuildSettings, Image, Provider

GOLDEN_NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def make_article(
    title: str = "A story",
    *,
    url: str | None = None,
    hours_ago: float = 1.0,
    now: datetime = GOLDEN_NOW,
    provider: str = "Example News",
    domain: str | None = None,
    topics: tuple[str, ...] = ("AI",),
    quality: int | None = 80,
    heat: int | None = 100,
    related_count: int = 0,
    related_yaml: str = "",
    kind: ArticleKind = "article",
    excerpt: str = "An excerpt.",
    images: tuple[Image, ...] = (),
    **extra: Any,
) -> Article:
    """An Article with sensible defaults; id derived from the URL like the real one."""
    domain = domain or provider.lower().replace(" ", "") + ".com"
    slug = "-".join(title.lower().split())[:60] or "untitled"
    url = url or f"https://{domain}/{slug}"
    return Article(
        id=hashlib.sha256(url.encode()).hexdigest()[:16],
        title=title,
        excerpt=excerpt,
        url=url,
        published=now - timedelta(hours=hours_ago),
        kind=kind,
        provider=Provider(provider, domain, extra.pop("icon_url", None)),
        topics=topics,
        quality=quality,
        heat=heat,
        related_count=related_count,
        related_yaml=related_yaml,
        images=images,
        **extra,
    )


def related_block(*items: tuple[str, str, str]) -> str:
    """A `related` YAML block from (title, url, provider) triples, as found in real files."""
    lines = ["related:"]
    for title, url, provider in items:
        domain = url.split("/")[2]
        lines += [
            f'  - title: "{title}"',
            '    excerpt: "Same story."',
            "    publishedDateTime: 2026-11-26T05:00:00Z",
            f'    webUrl: "{url}"',
            "    type: article",
            "    provider:",
            f"      name: {provider}",
            f"      domain: {domain}",
            "    quality: 40",
        ]
    return "\n".join(lines) + "\n"


def golden_articles() -> list[Article]:
    """The fixed inputs of the golden payloads (a realistic morning, in two topics)."""
    return [
        make_article(
            "Sweden's data watchdog slaps police for unlawful use of Clearview AI",
            url="https://techcrunch.com/2021/02/12/swedens-data-watchdog-slaps-police/",
            provider="TechCrunch",
            domain="techcrunch.com",
            icon_url="https://example.github.io/assets/images/organizations/techcrunch.com-50x50.jpg",
            excerpt="Sweden's data protection authority, the IMY, has fined the local police "
            "authority €250,000 ($300k+) for unlawful use of the controversial facial "
            "recognition software, Clearview AI, in breach of the country's Criminal Data Act.",
            quality=87,
            heat=97,
            hours_ago=2,
            related_count=12,
            related_yaml=related_block(
                (
                    "IMY fines police for using Clearview AI",
                    "https://www.telecompaper.com/news/imy-fines-police-clearview",
                    "Telecompaper",
                ),
                (
                    "Police fined over Clearview",
                    "https://news.example.net/clearview",
                    "Example Net",
                ),
            ),
            images=(
                Image(
                    "https://techcrunch.com/wp-content/uploads/2019/11/Getty.jpg?w=1024", 1024, 576
                ),
            ),
        ),
        make_article(
            "IMY fines police for using Clearview AI for facial recognition",
            url="https://www.telecompaper.com/news/imy-fines-police-clearview",
            provider="Telecompaper",
            domain="telecompaper.com",
            quality=19,
            heat=None,
            hours_ago=3,
        ),
        make_article(
            "IMY fines police for using Clearview AI for facial recognition!",
            url="https://www.example.org/imy-fines-police-clearview-copy",
            provider="Example Wire",
            domain="example.org",
            quality=10,
            heat=None,
            hours_ago=2.5,
        ),
        make_article(
            "OpenAI ships a *new* model_with __markdown__ ~~chaos~~ | and @everyone",
            provider="The Verge",
            domain="theverge.com",
            excerpt="Line one with `code` and > quote\n# heading-like line and <@123> mention",
            quality=120,
            heat=None,
            hours_ago=5,
            images=(Image("http://cdn.theverge.com/img/a photo é.jpg", 800, 450),),
        ),
        make_article(
            "Diablo 4 season 12 trailer",
            kind="video",
            url="https://www.youtube.com/watch?v=abc123",
            video_url="https://www.youtube.com/embed/abc123",
            provider="YouTube",
            domain="youtube.com",
            topics=("Diablo 4",),
            quality=60,
            heat=1500,
            hours_ago=1,
            images=(Image("https://www.youtube.com/img/desktop/supported_browsers/dinosaur.png"),),
        ),
        make_article(
            "Diablo 4 patch 3.2 brings sweeping class changes for the Druid",
            provider="Wowhead",
            domain="wowhead.com",
            topics=("Diablo 4", "Druid"),
            quality=None,
            heat=300,
            hours_ago=20,
            excerpt="",
        ),
    ]


def guild(
    topics: Sequence[str] = ("AI",),
    *,
    per_topic: int = 3,
    min_quality: int = 0,
    max_per_provider: int = 2,
    timezone: str = "UTC",
) -> GuildSettings:
    """A server's digest settings for tests: channel set, every day at 08:00, a day's look-back."""
    return GuildSettings(
        guild_id=1,
        channel_id=2,
        topics=tuple(topics),
        time=time(8, 0),
        timezone=timezone,
        weekdays=frozenset(range(7)),
        per_topic=per_topic,
        min_quality=min_quality,
        max_per_provider=max_per_provider,
        lookback_hours=24,
    )
