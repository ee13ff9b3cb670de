"""The article generator: deterministic, realistic, and parseable."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from benchmarks.articles_gen import generate_folder
from bot.ingest import ParsedFile, parse_file


def test_same_seed_same_files(tmp_path: Path) -> None:
    first = generate_folder(tmp_path / "a", 20, seed=3)
    second = generate_folder(tmp_path / "b", 20, seed=3)
    assert [p.name for p in first] == [p.name for p in second]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert generate_folder(tmp_path / "c", 20, seed=4)[0].read_bytes() != first[0].read_bytes()


def test_folders_look_like_real_ones(tmp_path: Path) -> None:
    paths = generate_folder(tmp_path, 300, seed=0)
    results = [parse_file(p) for p in paths]
    articles = [r.article for r in results if isinstance(r, ParsedFile)]
    assert len(articles) == 300
    counts = [a.related_count for a in articles]
    assert 2 <= statistics.median(counts) <= 5
    assert 15 <= statistics.mean(counts) <= 30
    assert max(counts) <= 179
    assert 0.15 < sum(a.heat is None for a in articles) / 300 < 0.45
    assert any(a.kind == "video" for a in articles)
    assert any(a.quality is not None and a.quality > 100 for a in articles)
    average_kib = sum(p.stat().st_size for p in paths) / 300 / 1024
    assert 18 < average_kib < 40


def test_unknown_related_mode_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="related must be one of"):
        generate_folder(tmp_path, 1, related="lots")
