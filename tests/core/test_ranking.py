"""Ranking: what a reader notices about the order of stories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.ranking import (
    HALF_LIFE_HOURS,
    NEUTRAL_HEAT,
    RankingWeights,
    coverage_signal,
    heat_signal,
    quality_signal,
    rank_key,
    recency_signal,
    score_article,
)
from tests.golden.articles import GOLDEN_NOW, make_article

WEIGHTS = RankingWeights()


def score(coverage: int = 0, **kw: Any) -> float:
    article = make_article(**kw)
    return score_article(article, now=GOLDEN_NOW, weights=WEIGHTS, coverage=coverage).total


def test_unknown_heat_is_not_treated_as_cold() -> None:
    unknown = score(heat=None, quality=120)
    cold = score(heat=0, quality=120)
    assert unknown > cold
    # a high-quality article of unknown heat still beats a mediocre one with some heat
    assert score(heat=None, quality=150) > score(heat=20, quality=40)


def test_unknown_heat_is_imputed_from_quality_and_a_typical_heat() -> None:
    article = make_article(heat=None, quality=189)
    result = score_article(article, now=GOLDEN_NOW, weights=WEIGHTS, coverage=0)
    expected = (1.0 + heat_signal(NEUTRAL_HEAT)) / 2
    assert result.heat == pytest.approx(WEIGHTS.heat * expected)
    # no coverage does not make an unknown heat cold
    assert result.heat > WEIGHTS.heat * heat_signal(NEUTRAL_HEAT)


def test_quality_and_heat_lead_coverage_and_recency() -> None:
    """ "Top articles by heat and quality": a strong, hot story beats a weak, uncovered fresh
    one, and a few confirmed outlets do not lift a weak article over a strong one."""
    assert score(quality=150, heat=2000, hours_ago=20) > score(quality=40, heat=10, hours_ago=1)
    assert score(quality=150, heat=900, coverage=0) > score(quality=50, heat=30, coverage=3)


def test_more_coverage_ranks_higher() -> None:
    assert score(coverage=12) > score(coverage=3) > score(coverage=0)


def test_newer_ranks_higher_and_halves_per_half_life() -> None:
    assert score(hours_ago=1) > score(hours_ago=30)
    published = GOLDEN_NOW - timedelta(hours=HALF_LIFE_HOURS)
    assert recency_signal(published, GOLDEN_NOW) == pytest.approx(0.5)
    assert recency_signal(GOLDEN_NOW + timedelta(hours=3), GOLDEN_NOW) == 1.0


def test_missing_quality_is_neutral_not_zero() -> None:
    assert score(quality=None) > score(quality=10)
    assert score(quality=None) < score(quality=150)


def test_signals_are_normalised_to_unit_range() -> None:
    assert quality_signal(0) == 0.0
    assert quality_signal(189) == 1.0
    assert quality_signal(500) == 1.0
    assert heat_signal(-1) == 0.0
    assert heat_signal(1_000_000) == 1.0
    assert coverage_signal(179) == 1.0


@given(
    quality=st.one_of(st.none(), st.integers(-10, 400)),
    heat=st.one_of(st.none(), st.integers(-5, 100_000)),
    coverage=st.integers(0, 1000),
    hours=st.floats(-48, 24 * 400, allow_nan=False),
)
def test_score_is_bounded_by_the_weights(
    quality: int | None, heat: int | None, coverage: int, hours: float
) -> None:
    article = make_article(quality=quality, heat=heat, hours_ago=hours)
    result = score_article(article, now=GOLDEN_NOW, weights=WEIGHTS, coverage=coverage)
    total_weight = WEIGHTS.quality + WEIGHTS.heat + WEIGHTS.coverage + WEIGHTS.recency
    assert 0.0 <= result.total <= total_weight + 1e-9
    parts = result.quality + result.heat + result.coverage + result.recency
    assert result.total == pytest.approx(parts)


def test_order_is_total_and_deterministic_under_ties() -> None:
    same = [make_article(f"Story {n}", url=f"https://x.com/{n}", hours_ago=2) for n in range(6)]
    scored = [(score_article(a, now=GOLDEN_NOW, weights=WEIGHTS, coverage=0), a) for a in same]
    orders = {
        tuple(a.id for _, a in sorted(perm, key=lambda p: rank_key(p[0], p[1])))
        for perm in (scored, scored[::-1], scored[2:] + scored[:2])
    }
    assert len(orders) == 1
    assert list(next(iter(orders))) == sorted(a.id for a in same)


def test_naive_now_is_refused_with_a_clear_error() -> None:
    naive = datetime(2026, 11, 26, 8, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="timezone-aware"):
        score_article(make_article(), now=naive, weights=WEIGHTS, coverage=0)


def test_weights_change_the_order() -> None:
    hot = make_article("Hot", heat=3000, quality=30)
    good = make_article("Good", heat=5, quality=180)
    heat_only = RankingWeights(quality=0, heat=1, coverage=0, recency=0)
    quality_only = RankingWeights(quality=1, heat=0, coverage=0, recency=0)
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

    def best(weights: RankingWeights) -> str:
        return max(
            (hot, good),
            key=lambda a: score_article(a, now=now, weights=weights, coverage=0).total,
        ).title

    assert best(heat_only) == "Hot"
    assert best(quality_only) == "Good"
