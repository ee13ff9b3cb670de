"""The ingest's grouping runner (bot.store.stories: vocabulary a window at a time, slices, caches,
pre-filters) puts real articles into the same stories as the plain rule over all of them at once
(`group_articles`), and its shortcuts compute what the rule's own functions compute."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.stories import article_terms, fingerprint, group_articles, word_set, words
from bot.store import Store
from bot.store.ingest import ingest_folders

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _partition(story_of: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for article_id, story_id in story_of.items():
        groups.setdefault(story_id, set()).add(article_id)
    return {frozenset(members) for members in groups.values()}


@pytest.mark.parametrize("folder", ["azure-2020h1/_news", "diablo4/_news"])
def test_ingest_groups_the_corpus_as_the_rule_does_at_once(
    corpus_dir: Path, database: Path | str, folder: str
) -> None:
    store = Store.open(database)
    ingest_folders(
        store, None, [corpus_dir / folder], max_file_bytes=10**7, now=NOW, pool_min_files=None
    )
    stored = dict(
        store.conn.execute("SELECT id, story_id FROM articles WHERE retired_at_us IS NULL")
    )
    articles = store.articles_between(datetime(1990, 1, 1, tzinfo=UTC), NOW)
    store.close()
    at_once = group_articles([replace(a, story_id=None) for a in articles])
    assert len(at_once) > 1000
    assert None not in stored.values()
    assert _partition(at_once) == _partition({a: stored[a] for a in at_once})
    # stories of more than one article exist, or the comparison says little
    assert sum(1 for group in _partition(at_once) if len(group) > 1) > 100


def test_shortcuts_compute_what_the_rule_computes(corpus_dir: Path, database: Path | str) -> None:
    store = Store.open(database)
    ingest_folders(
        store, None, [corpus_dir / "diablo4/_news"], max_file_bytes=10**7, now=NOW,
        pool_min_files=None,
    )  # fmt: skip
    articles = store.articles_between(datetime(1990, 1, 1, tzinfo=UTC), NOW)
    store.close()
    titles = [a.title for a in articles]
    for article in articles:
        assert article_terms(article.title, article.excerpt) == fingerprint(article).terms
    for start in range(0, len(titles), 37):
        chunk = titles[start : start + 37]
        assert word_set("\n".join(chunk)) == set().union(*(words(t) for t in chunk))
