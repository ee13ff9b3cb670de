"""Delivery of a digest burst: many servers due at the same minute, through the fake Discord.

The REAL delivery path: `NewsBot` (discord.py 2.7.1) with its scheduler, `Deliverer`, pacing and
ledger, on a real SQLite store of synthetic articles, posting to the fake Discord on 127.0.0.1
with Discord's limits enforced (global 50 requests/s sliding window, 5 messages / 5 s per
channel). Every server has its own channel, topics and settings, all due at the same minute; one
scheduler tick delivers them. The bot runs in a child process (its own interpreter, like in
production; `_fixtures.BotProcess`), the fake in this one.

Figures:
- messages/s against Discord's 50/s ceiling (target >= 40), for 300 and 1,000 servers: sustained
  (first to last accepted post) and over the whole tick (which also claims and composes);
- 429 answers (target 0), against the same burst with the bot's pacing switched off (discord.py
  alone: it meets the global limit only after a 429);
- every server got its digest exactly once (fake's records: a message in each channel, no article
  twice in a channel, no nonce posted twice);
- composition (pool + every due server's digest, with its ledger look-up) against delivery time
  (target <= 1/10);
- side figure: the ceiling of the fake + bot stack with limits and pacing off (must be > 50/s).

    python -m benchmarks.bench_delivery [--quick]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks._fixtures import (
    BENCH_NOW,
    BotProcess,
    bench_settings,
    configure_guilds,
    figure,
    fill_store,
    recent_articles,
    spec_validators,
)
from bot.core.models import Article
from bot.store.db import Store

MESSAGES = "/channels/{channel_id}/messages"
DISCORD_GLOBAL_LIMIT = 50.0


@dataclass(frozen=True, slots=True)
class Burst:
    """What one burst did, from the bot's report and the fake's records."""

    guilds: int
    messages: int
    seconds: float  # the whole scheduler tick: claim, compose, post, ledger
    posting_seconds: float  # first accepted post to last accepted post
    compose_seconds: float  # pool + every due server's digest (measured alone, before)
    status_429: int
    global_429: int  # of which the global limit (the rest: a route bucket)
    sent: int
    exactly_once: int  # servers whose channel holds their digest once, no article twice
    duplicate_posts: int
    outcomes: dict[str, int]

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


async def _burst(
    n_guilds: int,
    articles: list[Article],
    *,
    pacing: bool,
    limits: bool,
    validators: Any,
    compose_repetitions: int,
) -> Burst:
    from tests.fake_discord import FakeDiscord

    due = BENCH_NOW.replace(second=0, microsecond=0)
    configured_at = due - timedelta(hours=1)
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-delivery-") as tmp:
        database = Path(tmp) / "newsbot.sqlite3"
        fake = FakeDiscord(validators)
        fake.ratelimits.enabled = limits
        guilds = [fake.add_guild(f"Guild {n}", channels=("news",)) for n in range(n_guilds)]
        pairs = [(g.id, next(iter(g.channels))) for g in guilds]
        store = Store.open(database)
        try:
            fill_store(store, articles)
            configure_guilds(
                store, pairs, bench_settings(database), due=due, configured_at=configured_at
            )
        finally:
            store.close()
        await fake.start()
        bot: BotProcess | None = None
        try:
            bot = await BotProcess.start(
                database=database,
                api_base=fake.api_base,
                gateway_url=fake.gateway_url,
                token=fake.token,
                now=configured_at,
                pacing=pacing,
                auto_sync=False,
            )
            ids = [guild_id for guild_id, _ in pairs]
            compose_times = [
                (await bot.command("compose", guilds=ids, at=due.isoformat()))["seconds"]
                for _ in range(compose_repetitions)
            ]
            before = len(fake.requests)
            limited_before = fake.count_429
            tick = await bot.command("tick", at=due.isoformat())
            posts = [
                r
                for r in fake.requests[before:]
                if r.template == MESSAGES and r.method == "POST" and r.status == 200
            ]
            status_429 = fake.count_429 - limited_before
            limited = fake.rate_limited[-status_429:] if status_429 else []
            exactly_once, duplicates = _check_channels(fake, [c for _, c in pairs])
        finally:
            if bot is not None:
                await bot.stop()
            await fake.stop()
    span = posts[-1].at - posts[0].at if len(posts) > 1 else 0.0
    return Burst(
        guilds=n_guilds,
        messages=sum(len(fake.messages(c)) for _, c in pairs),
        seconds=float(tick["seconds"]),
        posting_seconds=span,
        compose_seconds=statistics.median(compose_times) if compose_times else 0.0,
        status_429=status_429,
        global_429=sum(1 for r in limited if _global_window_full(fake.requests, r.at)),
        sent=int(tick["sent"]),
        exactly_once=exactly_once,
        duplicate_posts=duplicates,
        outcomes=dict(tick["outcomes"]),
    )


def _global_window_full(requests: list[Any], at: float) -> bool:
    """Whether 50 counted requests fell in the second before `at` (a global 429, not a bucket)."""
    counted = [r for r in requests if at - 1.0 < r.at < at and r.status != 429]
    return len(counted) >= DISCORD_GLOBAL_LIMIT


def _check_channels(fake: Any, channels: list[int]) -> tuple[int, int]:
    """(channels holding one complete digest, duplicated posts) from the fake's own records."""
    complete = 0
    duplicates = 0
    for channel in channels:
        messages = fake.messages(channel)
        urls = [e["url"] for m in messages for e in m.get("embeds") or [] if e.get("url")]
        nonces = [m.get("nonce") for m in messages]
        dup = (len(urls) - len(set(urls))) + (len(nonces) - len(set(nonces)))
        duplicates += dup
        complete += bool(messages) and dup == 0
    return complete, duplicates


def _rate_rows(burst: Burst, *, judge: bool) -> list[dict[str, Any]]:
    """Sustained rate (first to last accepted post; the target) and the whole tick's rate."""
    sustained = (burst.messages - 1) / burst.posting_seconds if burst.posting_seconds else 0.0
    return [
        figure(
            f"messages/s sustained, {burst.guilds:,} servers due at once (paced)",
            sustained,
            "msg/s",
            baseline="Discord's global limit",
            baseline_value=DISCORD_GLOBAL_LIMIT,
            ratio=sustained / DISCORD_GLOBAL_LIMIT,
            target=">= 40 msg/s",
            met=sustained >= 40 if judge else None,
            notes=(
                f"{burst.messages:,} messages, first to last accepted post "
                f"{burst.posting_seconds:.1f} s; outcomes {burst.outcomes}"
            ),
        ),
        figure(
            f"messages/s whole tick, {burst.guilds:,} servers (paced)",
            burst.rate,
            "msg/s",
            baseline="Discord's global limit",
            baseline_value=DISCORD_GLOBAL_LIMIT,
            ratio=burst.rate / DISCORD_GLOBAL_LIMIT,
            notes=(
                f"{burst.messages:,} messages in {burst.seconds:.1f} s: claim, pool, compose, "
                "post and ledger, from the tick's start to its end"
            ),
        ),
    ]


def run(quick: bool) -> list[dict[str, Any]]:
    sizes = (20,) if quick else (300, 1000)
    side = 10 if quick else 300
    articles = recent_articles(400 if quick else 3000)
    validators = None if quick else spec_validators()  # quick: spare the spec's compile

    async def measure() -> tuple[list[Burst], Burst, Burst]:
        paced = [
            await _burst(
                n, articles, pacing=True, limits=True, validators=validators,
                compose_repetitions=1 if quick else 3,
            )
            for n in sizes
        ]  # fmt: skip
        unpaced = await _burst(
            side, articles, pacing=False, limits=True, validators=validators,
            compose_repetitions=0,
        )  # fmt: skip
        ceiling = await _burst(
            side, articles, pacing=False, limits=False, validators=validators,
            compose_repetitions=0,
        )  # fmt: skip
        return paced, unpaced, ceiling

    paced, unpaced, ceiling = asyncio.run(measure())
    judge = not quick
    validated = "bodies validated against Discord's OpenAPI" if validators else "no validation"
    rows = [row for burst in paced for row in _rate_rows(burst, judge=judge)]
    rows.append(
        figure(
            f"429 answers, paced ({' + '.join(f'{b.guilds:,}' for b in paced)} servers)",
            sum(b.status_429 for b in paced),
            "429s",
            baseline=f"pacing off (discord.py alone), {unpaced.guilds:,} servers",
            baseline_value=unpaced.status_429,
            ratio=None,
            target="0",
            met=all(b.status_429 == 0 for b in paced) if judge else None,
            notes=(
                f"{sum(b.global_429 for b in paced)} of them global; "
                "without pacing: "
                f"{unpaced.rate:.1f} msg/s, {unpaced.status_429} x 429, "
                f"outcomes {unpaced.outcomes}"
            ),
        )
    )
    for burst in paced:
        rows.append(
            figure(
                f"servers with their digest exactly once, {burst.guilds:,} servers",
                burst.exactly_once,
                "servers",
                baseline="servers due",
                baseline_value=burst.guilds,
                ratio=burst.exactly_once / burst.guilds,
                target="all, no duplicate",
                met=burst.exactly_once == burst.guilds and burst.duplicate_posts == 0,
                notes=f"{burst.duplicate_posts} duplicate article or nonce posts in any channel",
            )
        )
    for burst in paced:
        share = burst.compose_seconds / burst.seconds if burst.seconds else 0.0
        rows.append(
            figure(
                f"compose / deliver time, {burst.guilds:,} servers",
                share,
                "ratio",
                baseline="delivery (whole tick)",
                baseline_value=burst.seconds,
                ratio=None,
                target="<= 0.1",
                met=share <= 0.1 if judge else None,
                notes=(
                    f"compose {burst.compose_seconds * 1000:.0f} ms (pool + {burst.guilds:,} "
                    f"digests incl. ledger look-ups, median of reps) vs tick {burst.seconds:.1f} s"
                ),
            )
        )
    rows.append(
        figure(
            f"messages/s, pacing off (discord.py alone), {unpaced.guilds:,} servers",
            unpaced.rate,
            "msg/s",
            baseline="Discord's global limit",
            baseline_value=DISCORD_GLOBAL_LIMIT,
            ratio=unpaced.rate / DISCORD_GLOBAL_LIMIT,
            notes=(
                f"{unpaced.status_429} x 429 ({unpaced.global_429} global); "
                f"outcomes {unpaced.outcomes}"
            ),
        )
    )
    rows.append(
        figure(
            f"stack ceiling, limits + pacing off, {ceiling.guilds:,} servers",
            ceiling.rate,
            "msg/s",
            baseline="Discord's global limit",
            baseline_value=DISCORD_GLOBAL_LIMIT,
            ratio=ceiling.rate / DISCORD_GLOBAL_LIMIT,
            target="> 50 msg/s (fake not the bottleneck)",
            met=ceiling.rate > DISCORD_GLOBAL_LIMIT if judge else None,
            notes=(
                f"bot in its own process, {validated}; posting span "
                f"{ceiling.posting_seconds:.1f} s for {ceiling.messages:,} messages"
            ),
        )
    )
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
