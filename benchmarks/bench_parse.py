"""Parse speed: `parse_file` against a plain python-frontmatter loop over the same files.

    python -m benchmarks.run --only parse [--quick]

Both loops read every file from disk (warm page cache) and run in the same process, alternating,
several times; figures are medians. Folders: generated realistic files (`related` lists from the
real distribution, ~27 KB each) and ../shared/corpus when present (short `related` lists).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import frontmatter

from benchmarks.articles_gen import generate_folder
from bot.ingest import load_front_matter, parse_file


def _shared_corpus() -> Path | None:
    root = Path(__file__).resolve().parent.parent
    shared = Path(os.environ.get("NEWSBOT_SHARED_DIR", root.parent / "shared"))
    corpus = shared / "corpus"
    return corpus if corpus.is_dir() else None


def _frontmatter_loop(paths: Sequence[Path]) -> None:
    for path in paths:
        frontmatter.load(path)


def _parse_loop(paths: Sequence[Path]) -> None:
    for path in paths:
        parse_file(path)


def _load_front_matter_loop(paths: Sequence[Path]) -> None:
    for path in paths:
        load_front_matter(path.read_bytes().decode("utf-8"))


def _rates(
    paths: Sequence[Path], loops: dict[str, Callable[[Sequence[Path]], None]], repeats: int
) -> dict[str, float]:
    """Median files/s of each loop; loops alternate so machine noise hits them alike."""
    seconds: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(repeats):
        for name, loop in loops.items():
            start = time.perf_counter()
            loop(paths)
            seconds[name].append(time.perf_counter() - start)
    return {name: len(paths) / statistics.median(times) for name, times in seconds.items()}


def _figures(label: str, paths: Sequence[Path], repeats: int) -> list[dict[str, Any]]:
    for path in paths:  # warm the page cache
        path.read_bytes()
    rates = _rates(
        paths,
        {
            "frontmatter": _frontmatter_loop,
            "parse_file": _parse_loop,
            "load_front_matter": _load_front_matter_loop,
        },
        repeats,
    )
    base = rates["frontmatter"]
    size = sum(p.stat().st_size for p in paths) / max(len(paths), 1) / 1024
    notes = f"{len(paths)} files, {size:.1f} KB average, median of {repeats} runs"
    rows: list[dict[str, Any]] = []
    for name, what in (
        ("parse_file", "parse_file (Article, related block kept and counted)"),
        ("load_front_matter", "load_front_matter (full raw metadata, related parsed)"),
    ):
        ratio = rates[name] / base
        rows.append(
            {
                "name": f"{what}, {label}",
                "value": round(rates[name], 1),
                "unit": "files/s",
                "baseline": "python-frontmatter loop",
                "baseline_value": round(base, 1),
                "ratio": round(ratio, 2),
                "target": None,  # the target is the whole ingest's (bench_ingest)
                "met": None,
                "notes": notes,
            }
        )
    return rows


def run(quick: bool) -> list[dict[str, Any]]:
    """Figures for generated files and, when present, ../shared/corpus."""
    count, repeats = (150, 1) if quick else (2000, 5)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-parse-") as tmp:
        start = time.perf_counter()
        paths = generate_folder(Path(tmp), count, seed=1, related="real")
        elapsed = time.perf_counter() - start
        rows += _figures("generated (real related lists)", paths, repeats)
        rows.append(
            {
                "name": "articles_gen.generate_folder",
                "value": round(count / elapsed, 1),
                "unit": "files/s",
                "baseline": None,
                "baseline_value": None,
                "ratio": None,
                "target": None,
                "met": None,
                "notes": "writing realistic files (100k files ~ count / rate seconds)",
            }
        )
    corpus = _shared_corpus()
    if corpus is not None:
        corpus_paths = sorted(corpus.rglob("*.md"))
        if quick:
            corpus_paths = corpus_paths[:: max(len(corpus_paths) // 150, 1)]
        rows += _figures("../shared/corpus", corpus_paths, repeats)
    return rows


if __name__ == "__main__":
    for row in run(quick=False):
        print(row)
