"""Article scores: quality and heat lead, then confirmed coverage and recency (each 0..1, weighted).

Pure and deterministic given the article, `now` and the weights (see docs/ranking.md for the
formula and a worked example). Nothing here knows about Discord, SQLite or files.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from bot.core.models import QUALITY_MAX, Article, ScoreBreakdown

NEUTRAL_QUALITY = 67
"""Quality assumed when upstream gave none: the median of real folders."""
HEAT_REF = 3700
"""Heat at which the heat signal saturates (the highest seen in real folders)."""
NEUTRAL_HEAT = 60
"""A typical known heat (the median of real folders is 37-107): half of an unknown heat's guess."""
COVERAGE_REF = 10
"""Number of other outlets confirmed to report the story at which the coverage signal saturates."""
HALF_LIFE_HOURS = 24.0
"""Recency halves every this many hours of age."""


class RankingWeights(BaseModel):
    """The weight of each signal (the config's `ranking:` section; unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    quality: Annotated[float, Field(ge=0)] = 1.0
    heat: Annotated[float, Field(ge=0)] = 1.0
    coverage: Annotated[float, Field(ge=0)] = 0.5
    recency: Annotated[float, Field(ge=0)] = 0.5


def _clip(value: float) -> float:
    return 0.0 if value < 0.0 else min(value, 1.0)


def effective_quality(article: Article) -> int:
    """The article's quality, or the neutral value when upstream gave none."""
    return NEUTRAL_QUALITY if article.quality is None else article.quality


def quality_signal(quality: int | None) -> float:
    """Quality on 0..1 (linear over 0-189); missing is neutral, not bad."""
    value = NEUTRAL_QUALITY if quality is None else quality
    return _clip(value / QUALITY_MAX)


def heat_signal(heat: int) -> float:
    """Known heat on 0..1, log-scaled: ln(1 + heat) / ln(1 + HEAT_REF)."""
    return _clip(math.log1p(max(heat, 0)) / math.log1p(HEAT_REF))


def coverage_signal(coverage: int) -> float:
    """Other outlets carrying the story on 0..1, log-scaled: ln(1 + c) / ln(1 + COVERAGE_REF)."""
    return _clip(math.log1p(max(coverage, 0)) / math.log1p(COVERAGE_REF))


def recency_signal(published: datetime, now: datetime) -> float:
    """0.5 ** (age in hours / HALF_LIFE_HOURS); 1.0 for anything not older than `now`."""
    age_hours = (now - published).total_seconds() / 3600.0
    return _clip(0.5 ** (max(age_hours, 0.0) / HALF_LIFE_HOURS))


def score_article(
    article: Article, *, now: datetime, weights: RankingWeights, coverage: int
) -> ScoreBreakdown:
    """Score one article at `now`.

    `coverage` is how many *other* outlets are confirmed to report the same story (merged
    articles and confirmed `related` items, see bot.core.stories; 0 = only this one). Unknown heat
    (None) is never treated as cold: it is imputed as the mean of the article's quality signal
    and the heat signal of a typical known heat (NEUTRAL_HEAT).
    """
    if now.tzinfo is None or article.published.tzinfo is None:
        raise ValueError("score_article needs timezone-aware datetimes")
    quality = quality_signal(article.quality)
    cover = coverage_signal(coverage)
    if article.heat is None:
        heat = (quality + heat_signal(NEUTRAL_HEAT)) / 2
    else:
        heat = heat_signal(article.heat)
    recency = recency_signal(article.published, now)
    parts = (
        weights.quality * quality,
        weights.heat * heat,
        weights.coverage * cover,
        weights.recency * recency,
    )
    return ScoreBreakdown(
        quality=parts[0], heat=parts[1], coverage=parts[2], recency=parts[3], total=sum(parts)
    )


def rank_key(score: ScoreBreakdown, article: Article) -> tuple[float, float, str]:
    """A total order: best score first, then newest, then by id (stable under ties)."""
    return (-score.total, -article.published.timestamp(), article.id)
