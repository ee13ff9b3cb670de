"""`newsbot preview [--topic T]… [--at ISO8601|latest] [--limit N] [--json]`: the digest that
would be posted at a moment, with a first-digest look-back window and the config's defaults."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.cli._common import err, out, read_store, unknown_topic
from bot.core.digest import build_pool, compose_digest, digest_window
from bot.core.models import Article, Digest
from bot.discord.formatting import digest_messages, local_date
from bot.ingest.related import related_items
from bot.settings import Settings
from bot.store import StoreError
from bot.store.guilds import GuildDefaults

LATEST = "latest"
# the moments a digest can be previewed at: any real article's time, with room for a year's
# look-back window and any time zone's offset on either side of Python's datetime range
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LAST = datetime(9998, 12, 31, tzinfo=UTC)


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 10:
        raise argparse.ArgumentTypeError("the limit must be between 1 and 10 stories per topic")
    return value


def _moment(text: str) -> str:
    if text.strip().lower() == LATEST:
        return LATEST
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date and time: use ISO 8601 (2023-05-10T08:00+02:00) or 'latest'"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the configured zone is at most a day away
    if not EARLIEST <= moment <= LAST:
        raise argparse.ArgumentTypeError(
            f"{text!r} is out of range: give a moment between {EARLIEST:%Y-%m-%d} and "
            f"{LAST:%Y-%m-%d}"
        )
    return text.strip()


def add_moment_argument(parser: Any) -> None:
    """`--at ISO8601|latest`, as `preview` and `why` take it."""
    parser.add_argument(
        "--at",
        type=_moment,
        metavar="ISO8601|latest",
        help="the moment of the digest (default now; 'latest' = the newest article's time; "
        "without an offset, in the configured time zone)",
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "preview",
        help="show the digest that would be posted",
        description="The digest a new server would get at a moment (default now): the stories "
        "of the look-back window, ranked, collapsed and capped with the config's defaults.",
    )
    parser.add_argument(
        "--topic", action="append", metavar="T", help="a topic (repeatable; default: every topic)"
    )
    add_moment_argument(parser)
    parser.add_argument(
        "--limit", type=_limit, metavar="N", help="stories per topic, 1-10 (default from config)"
    )
    parser.add_argument("--json", action="store_true", help="print the message payloads as JSON")
    parser.set_defaults(handler=run)


def _resolve_at(text: str | None, newest: datetime | None, timezone: str) -> datetime:
    if text is None:
        return datetime.now(UTC)
    if text == LATEST:
        # just after the newest article, so that it is inside the window [start, at)
        return (newest or datetime.now(UTC)) + timedelta(seconds=1)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment


def render_text(digest: Digest) -> list[str]:
    """A readable terminal rendering of a digest."""
    zone = ZoneInfo(digest.timezone)
    topics = ", ".join(section.topic for section in digest.sections)
    lines = [f"News digest — {local_date(digest.window_end, digest.timezone)} · {topics}"]
    lines.append(
        f"window {digest.window_start.astimezone(zone):%Y-%m-%d %H:%M} → "
        f"{digest.window_end.astimezone(zone):%Y-%m-%d %H:%M} ({digest.timezone})"
    )
    for section in digest.sections:
        lines += ["", f"## {section.topic}"]
        for number, item in enumerate(section.items, 1):
            article = item.article
            kind = "▶ " if article.kind == "video" else ""
            lines.append(f"{number:>2}. {kind}{article.title}")
            lines.append(
                f"    {article.provider.name} · {article.published.astimezone(zone):%Y-%m-%d %H:%M}"
            )
            signals = [f"score {item.score.total:.2f}"]
            if article.quality is not None:
                signals.append(f"quality {article.quality}")
            signals.append("heat unknown" if article.heat is None else f"heat {article.heat}")
            if item.coverage:
                signals.append(f"{item.coverage + 1} outlets")
            lines.append("    " + " · ".join(signals))
            if item.also_covered_by:
                lines.append("    also covered by: " + ", ".join(item.also_covered_by))
            lines.append(f"    {article.url or article.original_url or '(no link)'}")
    return lines


def run(args: argparse.Namespace, settings: Settings) -> int:
    timezone = settings.schedule.timezone
    try:
        store = read_store(settings)
    except StoreError as exc:
        err(f"newsbot preview: {exc}")
        return 1
    newest: datetime | None = None
    known: list[str] = []
    articles: list[Article] = []
    try:
        if store is not None:
            newest = store.newest_published()
            known = [topic for topic, _ in store.topic_counts()]
        at = _resolve_at(args.at, newest, timezone)
        start, end = digest_window(None, at, settings.digest.lookback_hours)
        if store is not None:
            articles = store.articles_between(start, end)
    finally:
        if store is not None:
            store.close()
    for topic in args.topic or ():
        problem = unknown_topic(topic, known)
        if problem is not None and known:
            err(f"newsbot preview: {problem}")
            return 1
    topics = tuple(args.topic or known)
    defaults = GuildDefaults.from_settings(settings).settings  # as an unconfigured server's
    guild = replace(defaults, topics=topics, per_topic=args.limit or defaults.per_topic)
    pool = build_pool(articles, now=at, weights=settings.ranking, related=related_items)
    digest = compose_digest(pool, guild, posted_ids=frozenset(), window_start=start, window_end=end)
    if digest is None:
        if newest is None:
            reason = "the store has no articles: run `newsbot ingest` first"
        else:
            where = "no articles" if not articles else "no stories for these topics"
            reason = (
                f"{where} between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC; "
                f"the newest article is from {newest:%Y-%m-%d %H:%M} UTC "
                f"(try --at latest or --at {newest:%Y-%m-%d})"
            )
        if args.json:
            out(json.dumps({"messages": []}))
            err(f"newsbot preview: {reason}")
        else:
            out(f"Nothing to post: {reason}.")
        return 0
    if args.json:
        messages = digest_messages(digest, topic_colors=settings.topic_colors)
        out(json.dumps({"messages": messages}, ensure_ascii=False))
    else:
        for line in render_text(digest):
            out(line)
    return 0
