"""`newsbot search QUERY [--topic T] [--limit N] [--json]`: search the stored articles."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli._common import err, out, read_store, unknown_topic
from bot.search.index import SearchHit, SearchIndex, search_stories
from bot.settings import Settings
from bot.store import Store, StoreError

log = logging.getLogger(__name__)


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


def _writable(folder: Path) -> bool:
    """Whether this process may create files in `folder` (or create it): tantivy needs to."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK)


@contextmanager
def _open_index(path: Path) -> Iterator[SearchIndex]:
    """The search index; where this user may not write (another owner, a read-only mount), a
    private copy of it in a temporary folder, brought up to date from the store there."""
    if _writable(path):
        index = SearchIndex.open(path)
    else:
        with tempfile.TemporaryDirectory(prefix="newsbot-index-") as scratch:
            copy = Path(scratch) / path.name
            if path.is_dir():
                shutil.copytree(path, copy)
            log.debug("search index %s is read-only here: searching a copy", path)
            index = SearchIndex.open(copy)
            try:
                yield index
            finally:
                index.close()
            return
    try:
        yield index
    finally:
        index.close()


def _search(args: argparse.Namespace, settings: Settings, store: Store) -> list[SearchHit]:
    """Bring the index up to date with the store, then search it."""
    query = " ".join(args.query)
    with _open_index(settings.index_dir) as index:
        index.sync(store)
        return search_stories(
            index, store, query, now=datetime.now(UTC), topic=args.topic, limit=args.limit
        )


def run(args: argparse.Namespace, settings: Settings) -> int:
    query = " ".join(args.query)
    try:
        store = read_store(settings)
    except StoreError as exc:
        err(f"newsbot search: {exc}")
        return 1
    hits: list[SearchHit] = []
    empty = True
    if store is not None:
        try:
            if args.topic is not None:
                problem = unknown_topic(args.topic, [t for t, _ in store.topic_counts()])
                if problem is not None:
                    err(f"newsbot search: {problem}")
                    return 1
            empty = store.article_count() == 0
            if not empty:
                hits = _search(args, settings, store)
        except OSError as exc:
            err(f"newsbot search: cannot use the search index {settings.index_dir}: {exc}")
            return 1
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
