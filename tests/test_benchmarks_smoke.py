"""The bot-side benchmarks still run end to end (quick mode) and report every figure.

No timing is asserted (the machine is shared); only what does not depend on speed: each benchmark
ran, its rows carry every field, and every server got its digest exactly once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.run import FIELDS, main

BOT_BENCHMARKS = ("delivery", "interactions", "reingest_interactions", "memory")


@pytest.mark.e2e
def test_bot_benchmarks_run_and_report_their_figures(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    argv = ["--quick", "--out", str(out)]
    for name in BOT_BENCHMARKS:
        argv += ["--only", name]

    assert main(argv) == 0

    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["quick"] is True
    assert report["failed"] == []
    rows = report["results"]
    assert {row["suite"] for row in rows} == set(BOT_BENCHMARKS)
    for row in rows:
        assert set(FIELDS) <= set(row), row
        if "unreachable" not in row["notes"]:  # PostgreSQL's rows, without a server
            assert isinstance(row["value"], int | float), row
    names = {row["suite"]: [r["name"] for r in rows if r["suite"] == row["suite"]] for row in rows}
    assert any(n.startswith("messages/s sustained") for n in names["delivery"])
    assert any("results p99" in n for n in names["interactions"])
    assert any(n.startswith("bot RSS after a search") for n in names["memory"])
    during = [n for n in names["reingest_interactions"] if "results p99" in n]
    assert any(n.startswith("SQLite: /news search results p99") for n in during), during
    assert all("re-ingest" in n for n in during)
    once = [r for r in rows if r["name"].startswith("servers with their digest exactly once")]
    assert once
    assert all(r["met"] is True for r in once), once
    rss = [r for r in rows if r["suite"] == "memory"]
    assert all(r["value"] > 0 for r in rss)
