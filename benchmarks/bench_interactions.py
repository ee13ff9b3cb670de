"""Interaction latency of `/news search` under load, over 100k articles.

A real `NewsBot` runs in a child process (its own interpreter, like in production) on a store
and tantivy index of synthetic articles (bench_search's Zipf articles); the fake Discord runs in
this process and sends `/news search` interactions at a fixed rate (open loop: a slow answer does
not slow the arrivals). The fake records when each answer arrived:
- acknowledgement: the interaction callback (the bot defers first);
- results: the follow-up carrying the results page.
Queries are 1-3 words mixing the most common words with rarer ones, some with a topic or a day
window (bench_search's query mix).

Figures: p50/p99 of both at 20 interactions/s (target: results p99 <= 300 ms), each against the
same at 1/s (unloaded).

    python -m benchmarks.bench_interactions [--quick]
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._fixtures import (
    BENCH_NOW,
    BotProcess,
    figure,
    percentile,
    search_database,
    spec_validators,
)
from benchmarks.bench_search import make_queries

READERS = 20


@dataclass(frozen=True, slots=True)
class Load:
    """Latencies (ms) of one load level."""

    rate: float
    sent: int
    acks: list[float]
    results: list[float]
    missing: int
    seconds: float

    def p(self, which: str, q: float) -> float:
        return percentile(self.acks if which == "ack" else self.results, q)


async def answer_times(
    handle: Any, within: float, *, followup: bool = True
) -> tuple[float | None, float | None]:
    """(ack ms, results ms) of one interaction, None when it did not come within `within`; with
    `followup=False` (a command answered in its callback) only the acknowledgement is awaited."""
    with contextlib.suppress(TimeoutError):
        if followup:
            await handle.followup(within=within)
        else:
            await handle.response(within=within)
    ack = next((e.at for e in handle.events if e.kind == "callback"), None)
    done = next((e.at for e in handle.events if e.kind == "followup"), None)
    return (
        None if ack is None else (ack - handle.created) * 1000,
        None if done is None else (done - handle.created) * 1000,
    )


async def _load(
    fake: Any,
    guild: Any,
    channel: Any,
    readers: list[Any],
    queries: list[tuple[str, str | None, int | None]],
    *,
    rate: float,
    count: int,
) -> Load:
    loop = asyncio.get_running_loop()
    start = loop.time()
    waiting: list[asyncio.Task[tuple[float | None, float | None]]] = []
    for n in range(count):
        delay = start + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        query, topic, days = queries[n % len(queries)]
        options: dict[str, Any] = {"query": query}
        if topic:
            options["topic"] = topic
        if days:
            options["days"] = days
        handle = await fake.invoke(
            guild, channel, readers[n % len(readers)], ["news", "search"], options
        )
        waiting.append(asyncio.create_task(answer_times(handle, 15.0)))
    answers = await asyncio.gather(*waiting)
    seconds = loop.time() - start
    acks = [a for a, _ in answers if a is not None]
    results = [r for _, r in answers if r is not None]
    return Load(rate, count, acks, results, count - len(results), seconds)


async def _measure(quick: bool) -> tuple[Load, Load, dict[str, Any]]:
    from tests.fake_discord import FakeDiscord

    count = 3_000 if quick else 100_000
    loaded_seconds, unloaded_seconds = (1.5, 2) if quick else (20, 20)
    queries = make_queries(400)
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-interactions-") as tmp:
        database = search_database(Path(tmp) / "data", count)
        fake = FakeDiscord(None if quick else spec_validators())  # quick: no spec compile
        guild = fake.add_guild("Readers", channels=("general",))
        channel = next(iter(guild.channels.values()))
        readers = [fake.add_member(guild, f"reader{n}") for n in range(READERS)]
        await fake.start()
        bot: BotProcess | None = None
        try:
            bot = await BotProcess.start(
                database=database,
                api_base=fake.api_base,
                gateway_url=fake.gateway_url,
                token=fake.token,
                now=BENCH_NOW,
            )
            await fake.wait_until(lambda: bool(fake.commands()), within=30)
            await _load(fake, guild, channel, readers, queries[-10:], rate=5, count=10)  # warm
            unloaded = await _load(
                fake, guild, channel, readers, queries, rate=1, count=int(unloaded_seconds)
            )
            loaded = await _load(
                fake, guild, channel, readers, queries, rate=20, count=int(20 * loaded_seconds)
            )
            info = {
                "articles": bot.ready.get("articles"),
                "late_acks": len(fake.late_acks),
                "errors": len(fake.errors),
                "validated": fake.validators is not None,
            }
        finally:
            if bot is not None:
                await bot.stop()
            await fake.stop()
    return unloaded, loaded, info


def run(quick: bool) -> list[dict[str, Any]]:
    unloaded, loaded, info = asyncio.run(_measure(quick))
    judge = not quick
    size = (
        f"{info['articles']:,} articles; {loaded.sent} searches at {loaded.rate:g}/s "
        f"({loaded.missing} unanswered), {unloaded.sent} at {unloaded.rate:g}/s; "
        f"late acks {info['late_acks']}; bot in its own process"
    )
    rows = []
    for which, label in (("results", "results"), ("ack", "acknowledgement")):
        for q in (99, 50):
            value = loaded.p(which, q)
            base = unloaded.p(which, q)
            target = "<= 300 ms" if which == "results" and q == 99 else None
            met = None
            if target and judge:
                met = value <= 300 and loaded.missing == 0
            rows.append(
                figure(
                    f"/news search {label} p{q} at 20/s",
                    value,
                    "ms",
                    baseline=f"same at 1/s (unloaded) p{q}",
                    baseline_value=base,
                    ratio=value / base if base else None,
                    target=target,
                    met=met,
                    notes=size if q == 99 and which == "results" else "",
                )
            )
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
