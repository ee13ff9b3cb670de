"""`newsbot topics [--json]`: the topics in the store with their article counts."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.cli._common import err, out, read_store
from bot.settings import Settings
from bot.store import StoreError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "topics",
        help="list the topics in the store with their article counts",
        description="The topics of the active articles in the store, most articles first.",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        store = read_store(settings)
    except StoreError as exc:
        err(f"newsbot topics: {exc}")
        return 1
    counts: list[tuple[str, int]] = []
    if store is not None:
        try:
            counts = store.topic_counts()
        finally:
            store.close()
    if args.json:
        topics = [{"name": name, "articles": n} for name, n in counts]
        out(json.dumps({"topics": topics}, ensure_ascii=False))
        return 0
    if not counts:
        out("no topics: the store is empty (run `newsbot ingest` first)")
        return 0
    width = max(len(str(n)) for _, n in counts)
    for name, n in counts:
        out(f"{n:>{width}}  {name}")
    return 0
