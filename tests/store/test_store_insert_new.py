"""Batched insertion of new articles (the cold-ingest path): same rows as `put_article`."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bot.core.models import Article, Provider
from bot.store import Store
from bot.store.db import NewArticle, compress_related
from tests.engines import another_database

T0 = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)


def article(n: int) -> Article:
    return Article(
        id=f"a{n:04d}",
        title=f"Story number {n}",
        excerpt=f"Excerpt {n} with emoji 🎉",
        url=f"https://example.com/{n}",
        published=T0 - timedelta(hours=n),
        kind="article",
        provider=Provider("Example News", "example.com", None),
        topics=("Power Apps", "Copilot"),
        quality=60 + n,
        related_count=1,
        related_yaml="related:\n  - title: 'Other'\n",
    )


def new(item: Article, *, retired_at: datetime | None = None) -> NewArticle:
    z = compress_related(item.related_yaml)
    return NewArticle(item, f"/x/{item.id}.md", item.title, retired_at, z)


def test_inserted_articles_read_back_like_put_ones(
    store: Store, database: Path | str, tmp_path: Path
) -> None:
    assert store.is_empty()
    with store.transaction():
        first, last = store.insert_new_articles([new(article(1)), new(article(2))])
        store.insert_new_articles([new(article(3), retired_at=T0)])
    assert (first, last) == (1, 2)
    assert not store.is_empty()
    got = store.get_articles(["a0001", "a0002", "a0003"])
    assert got == [article(1), article(2)]  # the retired one is not served
    assert [a.related_yaml for a in got] == [article(1).related_yaml] * 2
    assert store.topic_counts() == [("Copilot", 2), ("Power Apps", 2)]
    assert store.article_state("a0003") == ("retired", "/x/a0003.md")
    assert store.current_rev() == 3

    with (
        another_database(database, tmp_path, "other") as elsewhere,
        Store.open(elsewhere) as other,
    ):
        with other.transaction():
            for n in (1, 2):
                other.put_article(article(n), source_path=f"/x/a{n:04d}.md", source_digest="d")
        assert other.get_articles(["a0001", "a0002"]) == got


def test_an_existing_id_is_refused_not_overwritten(store: Store) -> None:
    with store.transaction():
        store.insert_new_articles([new(article(1))])
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)), store.transaction():
        store.insert_new_articles([new(article(1))])
    assert store.current_rev() == 1
    assert store.get_article("a0001") == article(1)
