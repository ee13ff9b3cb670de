"""Same-story grouping at ingest (`bot.store.stories`): story ids for 100k stored articles.

Figures:
- cold: every article of a store of N generated articles (full: 100,000 over 3 years, Zipf
  words like `bench_search`, with a share of syndicated copies) gets its story id, against
  reading the same articles back from the store (the floor any grouping pays);
- incremental: a batch of 200 new articles of the last day (half of them copies of the others)
  grouped against the stored ones, against the cold run.

    python -m benchmarks.bench_grouping [--quick] [--count N]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.bench_search import NOW, make_articles
from bot.core.models import Article, Provider
from bot.store import Store
from bot.store.db import NewArticle
from bot.store.stories import group_stories


def _with_copies(articles: list[Article], share: float, seed: int) -> list[Article]:
    """Add syndicated copies (same title and excerpt, another outlet, hours later)."""
    rng = random.Random(seed)
    copies = []
    for n, article in enumerate(rng.sample(articles, int(len(articles) * share))):
        copies.append(
            replace(
                article,
                id=f"copy{n:07d}",
                url=f"https://copies.example/{n}",
                provider=Provider(f"Copy outlet {n % 50}", f"copy{n % 50}.example"),
                published=article.published + timedelta(hours=rng.uniform(0, 30)),
            )
        )
    return articles + copies


def _store(folder: Path, articles: list[Article]) -> Store:
    store = Store.open(folder / "db.sqlite3")
    with store.transaction():
        store.insert_new_articles([NewArticle(a, None, None, None, None) for a in articles])
    return store


def run(quick: bool, count: int | None = None) -> list[dict[str, Any]]:
    """The figures; `count` stored articles (default 100,000, quick 3,000)."""
    count = count or (3_000 if quick else 100_000)
    articles = _with_copies(make_articles(int(count * 0.9), seed=21), 0.1 / 0.9, seed=22)
    # an ingest run's new articles: published in the last day, half of them copies
    rng = random.Random(25)
    fresh = [
        replace(a, published=NOW - timedelta(hours=rng.uniform(0, 24)))
        for a in make_articles(100, seed=23)
    ]
    batch = _with_copies(fresh, 1.0, seed=24)
    batch = [replace(a, id=f"new-{a.id}", url=f"{a.url}?new") for a in batch]
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-grouping-") as tmp:
        store = _store(Path(tmp), articles)
        start = time.perf_counter()
        read = store.articles_between(NOW - timedelta(days=3650), NOW + timedelta(days=1))
        read_seconds = time.perf_counter() - start
        start = time.perf_counter()
        cold = group_stories(store)
        cold_seconds = time.perf_counter() - start
        stories = store.conn.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone()[0]
        with store.transaction():
            store.insert_new_articles([NewArticle(a, None, None, None, None) for a in batch])
        start = time.perf_counter()
        warm = group_stories(store)
        warm_seconds = time.perf_counter() - start
        store.close()
    return [
        {
            "name": f"group {cold.grouped:,} articles (cold ingest)",
            "value": cold_seconds,
            "unit": "s",
            "baseline": "read them from the store",
            "baseline_value": read_seconds,
            "ratio": cold_seconds / read_seconds if read_seconds else None,
            "target": None,
            "met": None,
            "notes": f"{len(read):,} articles over 3 years -> {stories:,} stories",
        },
        {
            "name": f"group {warm.grouped} new articles (incremental)",
            "value": warm_seconds * 1000,
            "unit": "ms",
            "baseline": "the cold run",
            "baseline_value": cold_seconds * 1000,
            "ratio": cold_seconds / warm_seconds if warm_seconds else None,
            "target": None,
            "met": None,
            "notes": "published in the last day; half of them copies",
        },
    ]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    count = int(args[args.index("--count") + 1]) if "--count" in args else None
    for row in run("--quick" in args, count):
        print(f"{row['name']}: {row['value']:.4g} {row['unit']} (baseline {row['baseline_value']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
