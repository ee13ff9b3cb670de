"""`newsbot why URL [--at ISO8601|latest] [--topic T]… [--json]`: why an article is, or is not,
in the digest `newsbot preview` shows at that moment (same window, topics and defaults)."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.cli._common import err, out
from bot.cli.preview import _resolve_at, add_moment_argument
from bot.core.digest import digest_window
from bot.core.urls import canonical_url, safe_url
from bot.core.why import Explanation, Retirement, explain, to_json, unknown_json
from bot.ingest.related import related_items
from bot.settings import Settings
from bot.store import Store, StoreError
from bot.store.guilds import GuildDefaults

NEIGHBOURHOOD = timedelta(days=3)
"""Articles this close to an out-of-window article are read to show its story."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "why",
        help="explain an article's place in the digest",
        description="Why an article is, or is not, in the digest `newsbot preview` shows at a "
        "moment: its score per signal, its story (merged copies and the other outlets), and "
        "the verdict: included (topic and rank) or the exact reason it is left out.",
    )
    parser.add_argument("url", metavar="URL", help="the article's link (as shown in a digest)")
    add_moment_argument(parser)
    parser.add_argument(
        "--topic",
        action="append",
        metavar="T",
        help="a topic of the digest (repeatable; default: every topic, as `newsbot preview`)",
    )
    parser.add_argument("--json", action="store_true", help="print the explanation as JSON")
    parser.set_defaults(handler=run)


def render_text(explanation: Explanation, timezone: str) -> list[str]:
    """A few readable lines."""
    zone = ZoneInfo(timezone)
    article, score = explanation.article, explanation.score

    def when(moment: datetime) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"

    lines = [
        f"{article.title} — {article.provider.name}, {when(article.published)}",
        f"{explanation.verdict.upper()}: {explanation.reason}",
        f"score {score.total:.2f} = quality {score.quality:.2f} + heat {score.heat:.2f} "
        f"+ coverage {score.coverage:.2f} + recency {score.recency:.2f}"
        + (" (its story's best copy)" if explanation.shown_as is not None else ""),
    ]
    if len(explanation.members) > 1:
        lines.append(f"story: {len(explanation.members)} copies")
        for member in explanation.members:
            mark = "*" if member.id == article.id else "-"
            lines.append(f"  {mark} {member.provider}: {member.title} ({when(member.published)})")
            lines.append(f"    {member.url}")
    else:
        lines.append("story: this article only")
    if explanation.coverage:
        lines.append("also covered by:")
        for item in explanation.coverage:
            lines.append(f"  - {item.provider}" + (f": {item.url}" if item.url else ""))
    lines.append(
        f"window {when(explanation.window_start)} → {when(explanation.window_end)} ({timezone})"
    )
    return lines


def _not_found(args: argparse.Namespace, reason: str) -> int:
    if args.json:
        out(json.dumps(unknown_json(reason), ensure_ascii=False))
    err(f"newsbot why: {reason}")
    return 1


def run(args: argparse.Namespace, settings: Settings) -> int:
    timezone = settings.schedule.timezone
    link = args.url.strip()
    if safe_url(link) is None:
        return _not_found(
            args,
            f"{link[:200]!r} is not a link: pass an article's http(s) URL "
            '(find one with `newsbot search "words"`)',
        )
    try:
        store = Store.open(settings.database)
    except StoreError as exc:
        err(f"newsbot why: {exc}")
        return 1
    try:
        found = store.find_article(link)
        if found is None:
            return _not_found(
                args,
                f"no article with the link {canonical_url(link)[:300]} in the store "
                f'({store.article_count()} articles); find it with `newsbot search "words"` '
                "or load its folder with `newsbot ingest`",
            )
        newest = store.newest_published()
        known = [topic for topic, _ in store.topic_counts()]
        at = _resolve_at(args.at, newest, timezone)
        start, end = digest_window(None, at, settings.digest.lookback_hours)
        articles = store.articles_between(start, end)
        published = found.article.published
        neighbours: list[Any] = []
        if not start <= published < end:
            neighbours = store.articles_between(
                published - NEIGHBOURHOOD, published + NEIGHBOURHOOD
            )
    finally:
        store.close()
    folded = {t.casefold() for t in known}
    for topic in args.topic or ():
        if topic.strip().casefold() not in folded:
            err(f"newsbot why: no article has the topic {topic!r} (see `newsbot check`)")
    defaults = GuildDefaults.from_settings(settings).settings  # as an unconfigured server's
    guild = replace(defaults, topics=tuple(args.topic or known))
    explanation = explain(
        found.article,
        articles=articles,
        settings=guild,
        now=at,
        window=(start, end),
        weights=settings.ranking,
        retired=None if found.retired_at is None else Retirement(found.retired_at, found.removed),
        neighbours=neighbours,
        related=related_items,
    )
    if args.json:
        out(json.dumps(to_json(explanation), ensure_ascii=False))
    else:
        for line in render_text(explanation, timezone):
            out(line)
    return 0
