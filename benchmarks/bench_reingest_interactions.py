"""Interaction latency at 20/s while the bot re-ingests 10,000 changed files, on each engine.

For SQLite (a fresh file) and PostgreSQL (a fresh schema on `NEWSBOT_BENCH_PG`, the database
`test` by default): a folder of generated articles (benchmarks/articles_gen) is ingested with
its search index, then a real `NewsBot` runs in a child process on that store (as in
bench_interactions) with the folder as its articles folder. The fake Discord in this process
sends interactions at 20/s (open loop), three `/news search` for one `/digest show`:
- baseline: the same load, nothing else running (same run, same bot);
- during the re-ingest: every file of the folder is given a new title, then the bot re-scans
  its folder as its scheduler does (`rescan_articles`: the ingest on its own thread and
  connection, parsing in worker processes, then the search index catching up), and the load
  goes on until that re-scan has finished.

Figures, per engine: `/news search` results p50/p99 and acknowledgement p99, `/digest show`
p50/p99, each beside the baseline; and the re-scan's seconds. Without a PostgreSQL server its
rows are left out with a note.

    python -m benchmarks.bench_reingest_interactions [--quick]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._fixtures import BotProcess, bench_settings, figure, percentile
from benchmarks._reingest import changed_folder, generate_folder
from benchmarks.bench_interactions import answer_times
from benchmarks.bench_store import _pg_schema
from bot.search.index import SearchIndex
from bot.store.db import Store
from bot.store.ingest import ingest_folders

RATE = 20.0
SHOW_EVERY = 4  # one interaction in four is /digest show, the others /news search
READERS = 20
#: the bot's business time: after every generated article (they fall in 2026)
NOW = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
DEADLINE_MS = 3000.0  # Discord's: an interaction not acknowledged by then has failed


@dataclass(frozen=True, slots=True)
class Phase:
    """Latencies (ms) of one phase of the load."""

    search_acks: list[float]
    search_results: list[float]
    shows: list[float]
    sent: int
    missing: int
    seconds: float


@contextlib.contextmanager
def _data_home(path: Path) -> Iterator[None]:
    """XDG_DATA_HOME set to `path` (where a PostgreSQL installation keeps its search index)."""
    before = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("XDG_DATA_HOME", None)
        else:
            os.environ["XDG_DATA_HOME"] = before


def _queries(folder: Path, count: int, seed: int = 17) -> list[str]:
    """1-2 words from the titles of the folder's articles (queries that find something)."""
    rng = random.Random(seed)
    words: list[str] = []
    for path in sorted(folder.glob("*.md"))[:400]:
        head = path.read_text(encoding="utf-8")[:400]
        match = re.search(r'\ntitle: "([^"]*)"', head)
        if match:
            words += [w.lower() for w in re.findall(r"[A-Za-z]{4,}", match[1])]
    if not words:
        return ["update"]
    return [" ".join(rng.sample(words, rng.choice((1, 1, 2)))) for _ in range(count)]


async def _answer(handle: Any, show: bool) -> tuple[bool, float | None, float | None]:
    """(show?, ack ms, results ms) of one interaction; None when it did not come in time."""
    ack, done = await answer_times(handle, 15.0, followup=not show)
    return show, ack, done


async def _load(
    fake: Any,
    guild: Any,
    channel: Any,
    readers: list[Any],
    admin: Any,
    queries: list[str],
    *,
    count: int | None = None,
    until: asyncio.Future[Any] | None = None,
) -> Phase:
    """Interactions at RATE/s: `count` of them, or until `until` is done."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    waiting: list[asyncio.Task[tuple[bool, float | None, float | None]]] = []
    n = 0
    while (count is None or n < count) and (until is None or not until.done()):
        delay = start + n / RATE - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
            if until is not None and until.done():
                break
        show = n % SHOW_EVERY == SHOW_EVERY - 1
        if show:
            handle = await fake.invoke(guild, channel, admin, ["digest", "show"])
        else:
            query = queries[n % len(queries)]
            user = readers[n % len(readers)]
            handle = await fake.invoke(guild, channel, user, ["news", "search"], {"query": query})
        waiting.append(asyncio.create_task(_answer(handle, show)))
        n += 1
    seconds = loop.time() - start
    answers = await asyncio.gather(*waiting)
    searches = [(a, r) for s, a, r in answers if not s]
    shows = [a for s, a, _ in answers if s and a is not None]
    acks = [a for a, _ in searches if a is not None]
    results = [r for _, r in searches if r is not None]
    missing = len(searches) - len(results) + (len(answers) - len(searches) - len(shows))
    return Phase(acks, results, shows, len(answers), missing, seconds)


async def _measure(
    database: Path | str, folder: Path, data_home: Path, quick: bool
) -> dict[str, Any]:
    """Baseline and during-re-ingest phases of one engine's bot."""
    from tests.fake_discord import FakeDiscord

    with _data_home(data_home):
        settings = bench_settings(database, articles_dir=folder)
        started = time.perf_counter()
        with Store.open(database) as store:
            index = SearchIndex.open(settings.index_dir)
            try:
                ingest_folders(store, index, [folder], max_file_bytes=1 << 20, now=NOW)
            finally:
                index.close()
        cold = time.perf_counter() - started
    queries = _queries(folder, 400)
    fake = FakeDiscord(None)  # the spec's validation is bench_interactions' business
    guild = fake.add_guild("Readers", channels=("general",))
    channel = next(iter(guild.channels.values()))
    readers = [fake.add_member(guild, f"reader{n}") for n in range(READERS)]
    admin = fake.add_admin(guild)
    await fake.start()
    bot: BotProcess | None = None
    try:
        bot = await BotProcess.start(
            database=database,
            api_base=fake.api_base,
            gateway_url=fake.gateway_url,
            token=fake.token,
            now=NOW,
            articles_dir=folder,
            data_home=data_home,
        )
        await fake.wait_until(lambda: bool(fake.commands()), within=30)
        await _load(fake, guild, channel, readers, admin, queries[-12:], count=12)  # warm
        baseline = await _load(
            fake, guild, channel, readers, admin, queries, count=int(RATE * (2 if quick else 20))
        )
        changed = await asyncio.to_thread(changed_folder, folder)
        await bot.command("rescan")
        rescanned = asyncio.ensure_future(bot.command("rescanned", within=1800.0))
        during = await _load(fake, guild, channel, readers, admin, queries, until=rescanned)
        rescan = await rescanned
        articles = bot.ready.get("articles")
    finally:
        if bot is not None:
            await bot.stop()
        await fake.stop()
    with Store.open(database) as store:
        (rewritten,) = store.conn.execute(
            "SELECT count(*) FROM articles WHERE title LIKE 'Updated: %'"
        ).fetchone()
    if rewritten < changed * 0.9:  # a few files say `removed: true`
        raise RuntimeError(f"the re-scan stored {rewritten} of {changed} changed articles")
    return {
        "baseline": baseline,
        "during": during,
        "rescan_seconds": float(rescan["seconds"]),
        "cold_seconds": cold,
        "changed": changed,
        "articles": articles,
        "late_acks": len(fake.late_acks),
    }


def _rows(engine: str, result: dict[str, Any], judge: bool) -> list[dict[str, Any]]:
    base: Phase = result["baseline"]
    during: Phase = result["during"]
    files = f"{result['changed']:,}"
    size = (
        f"{result['articles']:,} articles; during: {during.sent} interactions in "
        f"{during.seconds:.1f} s ({during.missing} unanswered), baseline {base.sent} "
        f"({base.missing} unanswered); late acks {result['late_acks']}; "
        f"one /digest show per {SHOW_EVERY}"
    )
    rows = []
    for label, samples, base_samples, q in (
        ("/news search results", during.search_results, base.search_results, 99),
        ("/news search results", during.search_results, base.search_results, 50),
        ("/news search acknowledgement", during.search_acks, base.search_acks, 99),
        ("/digest show", during.shows, base.shows, 99),
        ("/digest show", during.shows, base.shows, 50),
    ):
        value, baseline = percentile(samples, q), percentile(base_samples, q)
        acked = label != "/news search results" and q == 99
        rows.append(
            figure(
                f"{engine}: {label} p{q} at {RATE:g}/s during a {files}-file re-ingest",
                value,
                "ms",
                baseline=f"same load, no re-ingest, p{q}",
                baseline_value=baseline,
                ratio=value / baseline if baseline else None,
                target=f"< {DEADLINE_MS:,.0f} ms (Discord's deadline)" if acked else None,
                met=(value < DEADLINE_MS and during.missing == 0) if acked and judge else None,
                notes=size if q == 99 and label == "/news search results" else "",
            )
        )
    rows.append(
        figure(
            f"{engine}: the bot's re-scan of {files} changed files while answering",
            result["rescan_seconds"],
            "s",
            baseline="cold ingest of the folder, no bot (same run)",
            baseline_value=result["cold_seconds"],
            ratio=result["rescan_seconds"] / result["cold_seconds"],
            notes="the ingest (worker processes) then the search index catching up",
        )
    )
    return rows


def run(quick: bool) -> list[dict[str, Any]]:
    files = 300 if quick else 10_000
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-reingest-") as tmp:
        root = Path(tmp)
        for engine in ("SQLite", "PostgreSQL"):
            folder = root / engine / "articles"
            generate_folder(folder, files, seed=23)
            with contextlib.ExitStack() as stack:
                database: Path | str | None = root / engine / "newsbot.sqlite3"
                if engine == "PostgreSQL":
                    database = stack.enter_context(_pg_schema())
                if database is None:
                    rows.append(
                        figure(
                            "PostgreSQL: interactions during a re-ingest",
                            None,
                            "ms",
                            notes="PostgreSQL unreachable: not measured",
                        )
                    )
                    continue
                result = asyncio.run(_measure(database, folder, root / engine / "data", quick))
            rows += _rows(engine, result, judge=not quick)
    return rows


if __name__ == "__main__":
    from benchmarks.run import render_table

    table = run("--quick" in sys.argv)
    print(render_table([{"suite": "reingest_interactions", **row} for row in table]))
