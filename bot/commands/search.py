"""`newsbot search QUERY [--topic T] [--limit N] [--json]`: search the stored articles."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from bot.commands._common import err, out
from bot.search import SearchHit, SearchIndex, search_stories
from bot.settings import Settings
from bot.store import Store, StoreError


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError("the limit must be between 1 and 100")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "search",
        help="search the stored articles",
        description="Full-text search over titles, excerpts, outlets and topics; the best "
        "matches first (relevance blended with quality and recency).",
    )
    parser.add_argument("query", nargs="+", metavar="QUERY", help="words to look for")
    parser.add_argument("--topic", metavar="T", help="only articles of this topic")
    parser.add_argument("--limit", type=_limit, default=10, metavar="N", help="1-100 (default 10)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def hit_json(hit: SearchHit) -> dict[str, Any]:
    """One result in the documented `--json` shape."""
    article = hit.article
    return {
        "id": article.id,
        "title": article.title,
        "url": article.url,
        "topics": list(article.topics),
        "published": article.published.isoformat(),
        "quality": article.quality,
        "heat": article.heat,
        "score": hit.score,
        "also": list(hit.also),
    }


def run(args: argparse.Namespace, settings: Settings) -> int:
    query = " ".join(args.query)
    try:
        store = Store.open(settings.database)
    except StoreError as exc:
        err(f"newsbot search: {exc}")
        return 1
    try:
        index = SearchIndex.open(settings.index_dir)
        try:
            index.sync(store)
            hits = search_stories(
                index, store, query, now=datetime.now(UTC), topic=args.topic, limit=args.limit
            )
        finally:
            index.close()
        empty = store.article_count() == 0
    finally:
        store.close()
    if args.json:
        out(json.dumps({"results": [hit_json(h) for h in hits]}, ensure_ascii=False))
        return 0
    if not hits:
        hint = " (the store is empty: run `newsbot ingest` first)" if empty else ""
        out(f"no articles match {query!r}{hint}")
        return 0
    for number, hit in enumerate(hits, 1):
        article = hit.article
        out(
            f"{number:>2}. {article.title} - {article.provider.name}, "
            f"{article.published:%Y-%m-%d} (score {hit.score:.3f})"
        )
        if hit.also:
            out(f"    also: {', '.join(hit.also)}")
        out(f"    {article.url}")
    return 0
