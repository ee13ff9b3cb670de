"""Run the benchmark suite: each figure beside its baseline from the same run.

    python -m benchmarks.run [--quick] [--only NAME …] [--out FILE]

Every `benchmarks/bench_<name>.py` exposes `run(quick: bool) -> list[dict]`; one dict per figure with
the keys in `FIELDS`. The table goes to stdout, the JSON (with date, machine and command) to `--out`.
`--quick` is the CI smoke mode: small inputs, proves the suite still runs, its numbers mean little.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SUITE = (
    "parse",
    "ingest",
    "sources",
    "search",
    "store",
    "compose",
    "grouping",
    "delivery",
    "interactions",
    "reingest_interactions",
    "memory",
    "scale_out",
)
FIELDS = ("name", "value", "unit", "baseline", "baseline_value", "ratio", "target", "met", "notes")


def figure(
    name: str,
    value: float | None,
    unit: str,
    *,
    baseline: str | None = None,
    baseline_value: float | None = None,
    ratio: float | None = None,
    target: str | None = None,
    met: bool | None = None,
    notes: str = "",
) -> dict[str, Any]:
    """One row of the benchmark table (the keys `benchmarks/run.py` expects); ratio as given."""
    return {
        "name": name,
        "value": None if value is None else round(value, 3),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": None if baseline_value is None else round(baseline_value, 3),
        "ratio": None if ratio is None else round(ratio, 3),
        "target": target,
        "met": met,
        "notes": notes,
    }


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def render_table(rows: list[dict[str, Any]]) -> str:
    headers = [
        "benchmark",
        "figure",
        "value",
        "unit",
        "baseline",
        "baseline value",
        "ratio",
        "target",
        "met",
    ]
    body = [
        [
            row["suite"],
            row["name"],
            _fmt(row.get("value")),
            row.get("unit") or "",
            row.get("baseline") or "-",
            _fmt(row.get("baseline_value")),
            _fmt(row.get("ratio")),
            row.get("target") or "-",
            _fmt(row.get("met")),
        ]
        for row in rows
    ]
    widths = [max(len(str(line[i])) for line in [headers, *body]) for i in range(len(headers))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) for line in body
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke mode: small inputs (CI)")
    parser.add_argument(
        "--only", action="append", choices=SUITE, help="run only these (repeatable)"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/results.json"))
    args = parser.parse_args(argv)

    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    for name in args.only or SUITE:
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"benchmarks.bench_{name}":
                print(f"[{name}] not present, skipped", file=sys.stderr)
                continue
            raise
        started = time.perf_counter()
        print(f"[{name}] running…", file=sys.stderr, flush=True)
        try:
            figures = module.run(args.quick)
        except Exception:  # a broken benchmark is reported and fails the run, the others still run
            traceback.print_exc()
            failures.append(name)
            continue
        print(
            f"[{name}] done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True
        )
        for figure in figures:
            rows.append({"suite": name, **{key: figure.get(key) for key in FIELDS}})

    print(render_table(rows))
    missed = [f"{r['suite']}/{r['name']}" for r in rows if r.get("met") is False]
    if missed:
        print(f"\nmissed targets: {', '.join(missed)}")
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "command": "python -m benchmarks.run" + (" --quick" if args.quick else ""),
        "quick": args.quick,
        "results": rows,
        "failed": failures,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nJSON written to {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
