"""Plain values shared by every layer: articles, server settings, digests.

Nothing here knows about Discord, SQLite or files. Every value is a frozen dataclass;
datetimes are always timezone-aware (UTC for article times).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Literal

ArticleKind = Literal["article", "video"]

QUALITY_MAX = 189
"""Upstream quality runs 0-189 (not 0-100): the one place that says so."""


@dataclass(frozen=True, slots=True)
class Image:
    """One picture of an article (already checked to be a usable http(s) URL)."""

    url: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Provider:
    """The outlet that published an article."""

    name: str
    domain: str
    icon_url: str | None = None


@dataclass(frozen=True, slots=True)
class Coverage:
    """One item of an article's `related` list (other coverage, same story only if confirmed)."""

    title: str
    url: str | None
    provider: str
    domain: str
    published: datetime | None
    quality: int | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """One cleaned news item, as stored and ranked.

    `id` is stable across upstream rewrites and copies (derived from the canonical URL).
    `heat` is None when upstream said -1 or nothing: unknown, not cold.
    `trending` mirrors upstream's `published` flag; it never makes an article ineligible.
    `related_yaml` is the raw `related` block; `bot.ingest.related.parse_related` turns it into
    `Coverage` values on demand (parsing it is the expensive part of ingest).
    `story_id` names the story the article belongs to (`bot.core.stories`, stored at ingest; None
    when not yet grouped); `coverage` holds its `related` items confirmed to be the same story.
    """

    id: str
    title: str
    excerpt: str
    url: str
    published: datetime
    kind: ArticleKind
    provider: Provider
    topics: tuple[str, ...]
    quality: int | None = None
    heat: int | None = None
    trending: bool = False
    images: tuple[Image, ...] = ()
    original_url: str | None = None
    video_url: str | None = None
    related_count: int = 0
    related_yaml: str = field(default="", repr=False, compare=False)
    story_id: str | None = field(default=None, compare=False)
    coverage: tuple[Coverage, ...] = field(default=(), repr=False, compare=False)


WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """A server's digest configuration. Each field's default, bounds, text form and column are
    declared in `bot.core.server_settings` (the config file may override the defaults)."""

    guild_id: int
    channel_id: int | None
    topics: tuple[str, ...]
    time: time
    timezone: str
    weekdays: frozenset[int]  # 0 = Monday … 6 = Sunday
    per_topic: int
    min_quality: int
    max_per_provider: int
    lookback_hours: int
    silent: bool = False
    paused: bool = False

    @property
    def active(self) -> bool:
        """A digest runs once the server has a channel and at least one topic, and is not paused."""
        return self.channel_id is not None and bool(self.topics) and not self.paused


@dataclass(frozen=True, slots=True)
class ScoreBreakdown:
    """The signals that ranked an article, each already weighted; `total` is their sum."""

    quality: float
    heat: float
    coverage: float
    recency: float
    total: float


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One story in a digest: the chosen article plus the other outlets that carried it."""

    article: Article
    score: ScoreBreakdown
    also_covered_by: tuple[str, ...] = ()
    coverage: int = 0  # how many other outlets carry the story (shown as "N outlets")


@dataclass(frozen=True, slots=True)
class DigestSection:
    topic: str
    items: tuple[DigestItem, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    """What one server gets at one moment: sections per topic, best first, never empty."""

    window_start: datetime
    window_end: datetime
    timezone: str
    sections: tuple[DigestSection, ...]

    @property
    def articles(self) -> tuple[Article, ...]:
        return tuple(item.article for section in self.sections for item in section.items)
