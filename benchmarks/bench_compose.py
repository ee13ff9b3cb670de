"""Digest composition for many servers from one shared candidate pool.

Figures:
- compose for N servers (full: 10,000) from one pool, against building a pool per server (the
  naive way, measured on a few servers and scaled to N); target: N servers well under 2 s;
- building the pool once (grouping by the stored story ids, coverage, scoring) for two days of
  generated articles with real-sized `related` lists, parsed by the real parser.

    python -m benchmarks.bench_compose [--quick]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

from benchmarks.articles_gen import generate_folder
from bot.core.digest import build_pool, compose_digest, digest_window
from bot.core.models import Article, GuildSettings
from bot.core.ranking import RankingWeights
from bot.core.stories import group_articles
from bot.ingest import ParsedFile, parse_file
from bot.ingest.related import related_items

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
TOPICS = ("AI", "Diablo 4", "Power Apps", "Space", "Cybersecurity", "Electric Vehicles", "Druid")


def _articles(count: int, seed: int) -> list[Article]:
    """`count` generated articles, parsed for real, spread over the last 48 hours."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-compose-") as folder:
        paths = generate_folder(Path(folder), count, seed=seed)
        parsed = [parse_file(p) for p in paths]
    return [
        replace(p.article, published=NOW - timedelta(minutes=rng.uniform(0, 48 * 60)))
        for p in parsed
        if isinstance(p, ParsedFile) and not p.removed
    ]


def _servers(
    count: int, ids: list[str], seed: int
) -> list[tuple[GuildSettings, frozenset[str], datetime | None]]:
    rng = random.Random(seed)
    servers = []
    for n in range(count):
        settings = GuildSettings(
            guild_id=n,
            channel_id=n,
            topics=tuple(rng.sample(TOPICS, rng.randint(1, 4))),
            time=clock(8, 0),
            timezone="UTC",
            weekdays=frozenset(range(7)),
            per_topic=rng.choice((3, 3, 5, 10)),
            min_quality=rng.choice((0, 0, 40, 80)),
            max_per_provider=rng.choice((1, 2, 2, 3)),
            lookback_hours=24,
        )
        posted = frozenset(rng.sample(ids, min(len(ids), rng.randint(0, 40))))
        last = NOW - timedelta(hours=rng.uniform(6, 48)) if rng.random() < 0.8 else None
        servers.append((settings, posted, last))
    return servers


def _figure(name: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": name,
        "value": value,
        "unit": unit,
        "baseline": None,
        "baseline_value": None,
        "ratio": None,
        "target": None,
        "met": None,
        "notes": "",
    }
    row.update(extra)
    return row


def run(quick: bool) -> list[dict[str, Any]]:
    n_articles, n_servers, n_naive = (200, 500, 3) if quick else (2000, 10_000, 5)
    weights = RankingWeights()
    articles = _articles(n_articles, seed=11)
    # as read from the store: story ids were assigned at ingest (bot.store.stories)
    story_ids = group_articles(articles)
    articles = [replace(a, story_id=story_ids[a.id]) for a in articles]
    ids = [a.id for a in articles]
    servers = _servers(n_servers, ids, seed=12)

    pool_times = []
    for _ in range(1 if quick else 3):
        start = time.perf_counter()
        pool = build_pool(articles, now=NOW, weights=weights, related=related_items)
        pool_times.append(time.perf_counter() - start)
    pool_seconds = statistics.median(pool_times)

    start = time.perf_counter()
    digests = 0
    for settings, posted, last in servers:
        window_start, window_end = digest_window(last, NOW, settings.lookback_hours)
        digest = compose_digest(
            pool, settings, posted_ids=posted, window_start=window_start, window_end=window_end
        )
        digests += digest is not None
    compose_seconds = time.perf_counter() - start

    start = time.perf_counter()
    for settings, posted, last in servers[:n_naive]:
        window_start, window_end = digest_window(last, NOW, settings.lookback_hours)
        own = build_pool(
            [a for a in articles if window_start <= a.published < window_end],
            now=NOW,
            weights=weights,
        )
        compose_digest(
            own, settings, posted_ids=posted, window_start=window_start, window_end=window_end
        )
    naive_seconds = (time.perf_counter() - start) / n_naive * n_servers

    return [
        _figure(
            f"compose {n_servers:,} servers (shared pool)",
            compose_seconds,
            "s",
            baseline="a pool per server (scaled)",
            baseline_value=naive_seconds,
            ratio=naive_seconds / compose_seconds if compose_seconds else None,
            target="< 2 s for 10,000 servers",
            met=None if quick else compose_seconds < 2.0,
            notes=f"{len(pool)} stories from {len(articles)} articles; {digests} non-empty",
        ),
        _figure(
            "per-server compose",
            compose_seconds / n_servers * 1e6,
            "µs",
            notes="mean over all servers",
        ),
        _figure(
            f"build pool ({len(articles):,} articles, 48 h)",
            pool_seconds,
            "s",
            notes="stories by stored story id + scoring; once per window",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    for row in run("--quick" in args):
        print(
            f"{row['name']}: {row['value']:.4g} {row['unit']}  (baseline {row['baseline_value']})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
