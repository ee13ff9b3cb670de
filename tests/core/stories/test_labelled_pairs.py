"""Precision and recall of same-story grouping on hand-labelled pairs of real articles.

tests/core/stories/labelled_pairs.jsonl (how it was made: tests/core/stories/README.md) holds 358 pairs
from ../shared/corpus (azure-2020h1 and diablo4), each judged same story or not by reading them.
Each feed is grouped as a cold ingest would group it (`bot.core.stories.group_articles` over every
article of the feed); a pair is predicted "same" when both articles get one story id.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from bot.core.stories import group_articles
from bot.ingest.parse import ParsedFile, parse_file

PAIRS = Path(__file__).with_name("labelled_pairs.jsonl")


@cache
def _feed_story_ids(corpus: Path, feed: str) -> dict[str, str]:
    """Story id per article path (relative to the corpus) of one whole feed."""
    parsed = {}
    for path in sorted((corpus / feed / "_news").glob("*.md")):
        result = parse_file(path)
        if isinstance(result, ParsedFile):
            parsed[str(path.relative_to(corpus))] = result.article
    ids = group_articles(list(parsed.values()))
    return {rel: ids[article.id] for rel, article in parsed.items()}


@cache
def _figures(corpus: Path) -> tuple[float, float, int, int, int]:
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line]
    tp = fp = fn = 0
    for pair in pairs:
        ids = _feed_story_ids(corpus, pair["feed"])
        predicted = ids[pair["a"]] == ids[pair["b"]]
        tp += predicted and pair["same"]
        fp += predicted and not pair["same"]
        fn += (not predicted) and pair["same"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(  # noqa: T201 - the figures are what this test reports (pytest -s shows them)
        f"\nlabelled pairs: {len(pairs)}; precision {precision:.3f}, recall {recall:.3f} "
        f"(true pos {tp}, false pos {fp}, false neg {fn})"
    )
    return precision, recall, tp, fp, fn


@pytest.mark.corpus
def test_labelled_pairs_are_grouped_with_high_precision(corpus_dir: Path) -> None:
    precision, _, tp, _, _ = _figures(corpus_dir)
    assert tp > 50
    assert precision >= 0.95


@pytest.mark.corpus
def test_labelled_pairs_are_grouped_with_high_recall(corpus_dir: Path) -> None:
    precision, recall, _, _, _ = _figures(corpus_dir)
    assert recall >= 0.8
    assert precision >= 0.95
