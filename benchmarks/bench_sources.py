"""A Git source's refresh against a cold ingest of the same folder.

A Smartable-like repository (a `_news/` folder of generated articles with the real `related`
distribution, plus a big asset outside it; packed, as a hosting server keeps it) is cloned and ingested once; then a typical upstream
update is committed (2 new files, 80 files whose `heat`, `removed` and `secured` are rewritten)
and the source is refreshed. Figures:
- the files the refresh parsed (target: exactly the 82 that changed) and the ones it did not
  read at all;
- the refresh's time (fetch, rebuild and swap of the folder, incremental ingest) beside a cold
  ingest of the same folder into an empty store (the baseline: what re-reading everything costs);
- the first refresh (shallow clone + cold ingest) beside the same cold ingest.

    python -m benchmarks.bench_sources [--quick]
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.run import figure

ADDED, REWRITTEN = 2, 80


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(  # noqa: S603 - fixed arguments
        ["git", *args],  # noqa: S607 - the git on PATH, as the bot uses it
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=600,
    )


def _origin(path: Path, count: int) -> Path:
    from benchmarks.articles_gen import generate_folder

    generate_folder(path / "_news", count, seed=7)
    (path / "assets").mkdir()
    (path / "assets" / "banner.bin").write_bytes(os.urandom(2_000_000))
    _git(path, "init", "--quiet", "-b", "main")
    for key, value in (
        ("user.name", "bench"),
        ("user.email", "bench@example.com"),
        ("uploadpack.allowFilter", "true"),
        ("uploadpack.allowAnySHA1InWant", "true"),
        ("commit.gpgsign", "false"),
    ):
        _git(path, "config", key, value)
    _git(path, "add", "-A")
    _git(path, "commit", "--quiet", "-m", "initial")
    _git(path, "repack", "-a", "-d", "-q")  # served from a pack, as a hosting server does
    return path


def _typical_update(origin: Path, round_: int) -> None:
    """2 new files; 80 files with `heat`, `removed` and `secured` rewritten."""
    import random

    from benchmarks.articles_gen import generate_article_text

    rng = random.Random(1000 + round_)
    news = origin / "_news"
    files = sorted(news.iterdir())
    for path in rng.sample(files, REWRITTEN):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"(?m)^heat: .*$", f"heat: {rng.randrange(1, 3700)}", text, count=1)
        text = re.sub(r"(?m)^secured: .*$", f'secured: "{rng.randbytes(24).hex()}"', text, count=1)
        if "\nremoved:" not in text:
            text = text.replace("\ntopics:", "\nremoved: false\ntopics:", 1)
        path.write_text(text, encoding="utf-8")
    for number in range(ADDED):
        name = f"2026-12-0{number + 1}-fresh-{round_}-{number}.md"
        (news / name).write_text(generate_article_text(rng), encoding="utf-8")
    _git(origin, "add", "-A")
    _git(origin, "commit", "--quiet", "-m", f"update {round_}")
    _git(origin, "repack", "-d", "-q")  # a push arrives as a pack


def _cold_ingest(folder: Path, database: Path) -> float:
    from bot.search.index import SearchIndex
    from bot.store import Store
    from bot.store.ingest import ingest_folders

    store = Store.open(database)
    index = SearchIndex.open(database.with_name(database.name + ".index"))
    try:
        start = time.perf_counter()
        ingest_folders(store, index, [folder], max_file_bytes=1_048_576, now=datetime.now(UTC))
        return time.perf_counter() - start
    finally:
        index.close()
        store.close()


async def _refreshes(origin: Path, data: Path, rounds: int) -> dict[str, Any]:
    from bot.search.index import SearchIndex
    from bot.settings import Settings
    from bot.sources import SourceManager
    from bot.store import Store
    from bot.store import ingest as runner
    from bot.store.async_store import AsyncStore
    from bot.store.guilds import GuildDefaults

    settings = Settings.model_validate(
        {
            "database": data / "news.sqlite3",
            "sources": ({"name": "site", "git": origin.as_uri(), "every": "2h"},),
        }
    )
    store = Store.open(settings.database)
    index = SearchIndex.open(settings.index_dir)
    astore = AsyncStore(store, GuildDefaults.from_settings(settings))
    parsed: list[str] = []
    # count the files the refresh parses: the runner's parse_file, wrapped for this run
    namespace = vars(runner)
    real_parse = namespace["parse_file"]

    def counting_parse(path: Path, **kwargs: Any) -> Any:
        parsed.append(str(path))
        return real_parse(path, **kwargs)

    try:
        manager = SourceManager(
            settings, astore, clock=lambda: datetime.now(UTC), index=index, environ={}
        )
        start = time.perf_counter()
        first = await manager.refresh("site")
        clone_seconds = time.perf_counter() - start
        if not first.ok:
            raise RuntimeError(f"first refresh failed: {first.error}")
        namespace["parse_file"] = counting_parse
        seconds, counts = [], []
        for round_ in range(rounds):
            _typical_update(origin, round_)
            parsed.clear()
            start = time.perf_counter()
            result = await manager.refresh("site")
            seconds.append(time.perf_counter() - start)
            if not result.ok or result.report is None:
                raise RuntimeError(f"refresh failed: {result.error}")
            counts.append((len(parsed), result.report))
        return {"clone": clone_seconds, "refresh": seconds, "counts": counts}
    finally:
        namespace["parse_file"] = real_parse
        astore.close()
        index.close()
        store.close()


def run(quick: bool) -> list[dict[str, Any]]:
    count = 300 if quick else 5_000
    rounds = 1 if quick else 3
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-sources-") as name:
        tmp = Path(name)
        origin = _origin(tmp / "origin", count)
        os.sync()
        result = asyncio.run(_refreshes(origin, tmp / "data", rounds))
        published = tmp / "data" / "sources" / "site" / "articles"
        cold_copy = tmp / "cold" / "_news"
        shutil.copytree(published, cold_copy)
        os.sync()
        colds = [_cold_ingest(cold_copy, tmp / f"cold-{n}" / "news.sqlite3") for n in range(rounds)]
    cold = statistics.median(colds)
    refresh = statistics.median(result["refresh"])
    parsed, report = result["counts"][-1]
    files = count + ADDED * rounds
    return [
        figure(
            "files parsed by a refresh (2 added, 80 rewritten)",
            parsed,
            "files",
            baseline="files in the folder",
            baseline_value=files,
            target=f"= {ADDED + REWRITTEN}",
            met=parsed == ADDED + REWRITTEN,
            notes=f"added {report.added}, updated {report.updated}, "
            f"unchanged {report.unchanged}, retired {report.retired}",
        ),
        figure(
            "refresh after a typical update (fetch, swap, ingest)",
            refresh,
            "s",
            baseline=f"cold ingest of the same {files:,} files",
            baseline_value=cold,
            ratio=cold / refresh if refresh else None,
            notes=f"median of {rounds}; {report.seconds:.2f} s of it in the ingest",
        ),
        figure(
            "first refresh (shallow clone + cold ingest)",
            result["clone"],
            "s",
            baseline="cold ingest alone",
            baseline_value=cold,
            ratio=result["clone"] / cold if cold else None,
            notes="the clone fetches only _news/ (no history, no assets)",
        ),
    ]


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
