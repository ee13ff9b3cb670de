"""Ingest throughput, warm re-run speed-up and peak memory (store and search index included).

Each measurement runs in a fresh process (spawn), so its peak RSS is its own. Figures:
- cold ingest files/s against a plain `frontmatter.load` loop over the same files (target >=10x),
  on generated folders with the real `related` distribution and on ../shared/corpus;
- warm re-run (nothing changed) against the cold run (target >=50x);
- the warm re-run against a bare `os.stat` loop over the same files (its floor: a re-scan must
  look at every file once);
- peak RSS of the cold ingest (full mode: 100,000 generated articles) and the store's size.

    python -m benchmarks.bench_ingest [--quick] [--count N]
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.run import figure

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"


def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM when Linux has it: ru_maxrss survives exec, so a spawned
    child would report at least its parent's size at fork time."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child_ingest(dirs: list[str], database: str) -> dict[str, Any]:
    """One `ingest_folders` run (store + index) in this fresh process."""
    from bot.search.index import SearchIndex
    from bot.store import Store
    from bot.store.ingest import ingest_folders

    db = Path(database)
    store = Store.open(db)
    index = SearchIndex.open(db.with_name(db.name + ".index"))
    start = time.perf_counter()
    report = ingest_folders(
        store, index, [Path(d) for d in dirs], max_file_bytes=1_048_576, now=datetime.now(UTC)
    )
    seconds = time.perf_counter() - start
    store.close()
    return {
        "seconds": seconds,
        "store_bytes": db.stat().st_size,
        "scanned": report.scanned,
        "added": report.added,
        "unchanged": report.unchanged,
        "rejected": len(report.rejected),
        "rss_mb": _peak_rss_mb(),
    }


def _child_frontmatter(paths: list[str]) -> dict[str, Any]:
    """The baseline: python-frontmatter (libyaml's C loader when available) over each file."""
    import frontmatter

    start = time.perf_counter()
    loaded = 0
    for path in paths:
        try:
            frontmatter.load(path)
            loaded += 1
        except Exception:  # noqa: S112 - the baseline skips what it cannot load
            continue
    return {"seconds": time.perf_counter() - start, "files": len(paths), "loaded": loaded}


def _child_stat_loop(dirs: list[str]) -> dict[str, Any]:
    """The floor of any re-scan: one `os.stat` per file, nothing else."""
    start = time.perf_counter()
    files = 0
    stack = list(dirs)
    while stack:
        folder = stack.pop()
        fd = os.open(folder, os.O_RDONLY)
        try:
            with os.scandir(fd) as entries:  # entries stat relative to the open folder
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(os.path.join(folder, entry.name))
                    else:
                        entry.stat()
                        files += 1
        finally:
            os.close(fd)
    return {"seconds": time.perf_counter() - start, "files": files}


def _in_fresh_process(function: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        result: dict[str, Any] = pool.submit(function, *args).result()
    return result


def _article_files(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*.md") if p.name != "README.md")


def _measure(
    label: str, dirs: list[Path], files: list[str], tmp: Path, *, repetitions: int,
    baseline_sample: int, judge: bool, targets: bool = True,
) -> list[dict[str, Any]]:  # fmt: skip
    """Cold (fresh database) and warm ingest of `dirs`, against the frontmatter loop.

    `judge`: mark the targets met or not (full runs); `targets`: the 10x and 50x targets apply to
    this folder (they are asked of folders with real-length related lists; on the corpus, whose
    lists are short and files 3 KB, the ratios are reported).
    """
    sample = files[:baseline_sample]
    _in_fresh_process(_child_frontmatter, sample)  # warm the OS file cache for both sides
    baseline_rates = [
        len(sample) / _in_fresh_process(_child_frontmatter, sample)["seconds"]
        for _ in range(repetitions)
    ]
    colds, warms = [], []
    for rep in range(repetitions):
        database = tmp / f"{label}-{rep}" / "newsbot.sqlite3"
        colds.append(_in_fresh_process(_child_ingest, [str(d) for d in dirs], str(database)))
        warms += [
            _in_fresh_process(_child_ingest, [str(d) for d in dirs], str(database))
            for _ in range(3)
        ]
        shutil.rmtree(database.parent, ignore_errors=True)
    floors = [
        _in_fresh_process(_child_stat_loop, [str(d) for d in dirs])["seconds"] for _ in range(3)
    ]
    cold_s = statistics.median(c["seconds"] for c in colds)
    warm_s = statistics.median(w["seconds"] for w in warms)
    floor_s = statistics.median(floors)
    scanned = colds[0]["scanned"]
    cold_rate = scanned / cold_s
    base_rate = statistics.median(baseline_rates)
    speedup = cold_rate / base_rate
    warm_ratio = cold_s / warm_s
    notes = f"{scanned:,} files, median of {repetitions}"
    if baseline_sample < len(files):
        notes += f"; frontmatter loop on the first {len(sample):,} files"
    return [
        figure(
            f"cold ingest ({label})", cold_rate, "files/s", baseline="frontmatter.load loop",
            baseline_value=base_rate, ratio=round(speedup, 1),
            target=">= 10x" if targets else "reported",
            met=speedup >= 10 if judge and targets else None, notes=notes,
        ),
        figure(
            f"warm re-run ({label})", warm_s * 1000, "ms", baseline="cold ingest",
            baseline_value=cold_s * 1000, ratio=round(warm_ratio, 1),
            target=">= 50x faster" if targets else "reported",
            met=warm_ratio >= 50 if judge and targets else None,
            notes=f"{colds[0]['added']:,} articles; nothing changed; median of {len(warms)} runs",
        ),
        figure(
            f"warm re-run against its floor ({label})", warm_s * 1000, "ms",
            baseline="os.stat loop over the same files", baseline_value=floor_s * 1000,
            ratio=round(warm_s / floor_s, 2),
            notes="a re-scan looks at every file once; the rest is listing, digest and store",
        ),
        figure(
            f"peak RSS cold ingest ({label})", max(c["rss_mb"] for c in colds), "MB",
            notes=f"whole process incl. interpreter; warm run {max(w['rss_mb'] for w in warms):.0f} MB",
        ),
        figure(
            f"store size per article ({label})", colds[0]["store_bytes"] / max(colds[0]["added"], 1),
            "bytes", notes="SQLite file after the cold ingest (search index beside it not counted)",
        ),
    ]  # fmt: skip


def run(quick: bool, count: int | None = None) -> list[dict[str, Any]]:
    """The figures; `count` generated files (default 100,000, quick 500)."""
    from benchmarks.articles_gen import generate_folder

    count = count or (500 if quick else 100_000)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-ingest-") as name:
        tmp = Path(name)
        folder = tmp / "generated"
        start = time.perf_counter()
        generate_folder(folder, count, seed=1)
        generated = time.perf_counter() - start
        # write the generated files out before measuring: their write-back would otherwise
        # share the disk with whichever run comes first
        os.sync()
        rows += _measure(
            f"generated {count:,}", [folder], _article_files(folder), tmp,
            repetitions=1 if quick else 3, baseline_sample=count if quick else 3_000,
            judge=not quick,
        )  # fmt: skip
        rows[0]["notes"] += f"; real related distribution (generated in {generated:.0f} s)"
        if CORPUS.is_dir():
            rows += _measure(
                "../shared/corpus", [CORPUS], _article_files(CORPUS), tmp,
                repetitions=1 if quick else 3, baseline_sample=10**9, judge=not quick,
                targets=False,
            )  # fmt: skip
    return rows


if __name__ == "__main__":
    args = sys.argv[1:]
    count = int(args[args.index("--count") + 1]) if "--count" in args else None
    for row in run("--quick" in args, count):
        print(row)
