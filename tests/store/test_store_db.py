"""The SQLite store: migrations, Article round trips, queries, retirement, backup."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.models import Article, Image, Provider
from bot.store import Store, StoreError
from bot.store.copy import RUNTIME_TABLES, TABLES
from bot.store.engine import load_migrations

T0 = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)


def article(n: int, **changes: object) -> Article:
    values: dict[str, object] = {
        "id": f"a{n:04d}",
        "title": f"Story number {n}",
        "excerpt": f"Excerpt of story {n} with “quotes” and emoji 🎉",
        "url": f"https://example.com/{n}",
        "published": T0 - timedelta(hours=n),
        "kind": "article",
        "provider": Provider("Example News", "example.com", "https://example.com/i.png"),
        "topics": ("Power Apps",),
        "quality": 60 + n,
        "heat": None,
        "trending": n % 2 == 0,
        "images": (Image("https://example.com/a.jpg", 1024, 576), Image("https://x.org/b.png")),
        "original_url": f"https://orig.example.com/{n}",
        "video_url": None,
        "related_count": 2,
        "related_yaml": "  - title: 'Other'\n    url: https://other.example/1\n",
    }
    values.update(changes)
    return Article(**values)  # type: ignore[arg-type]


def put(store: Store, *articles: Article) -> None:
    with store.transaction():
        for item in articles:
            store.put_article(item, source_path=f"/x/{item.id}.md", source_digest=item.title)


def test_open_creates_folder_wal_and_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "db.sqlite3"
    with Store.open(path) as store:
        assert path.exists()
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.schema_version == load_migrations()[-1].version


def test_migrations_are_idempotent_and_keep_data(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with Store.open(path) as store:
        put(store, article(1))
        assert store.migrate() == 0
    with Store.open(path) as again:
        assert again.migrate() == 0
        assert again.get_article("a0001") == article(1)


def test_a_newer_schema_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    Store.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(StoreError, match="newer than this newsbot knows"):
        Store.open(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a usable newsbot database"):
        Store.open(path)


def test_article_round_trip_keeps_every_field(store: Store) -> None:
    original = article(3)
    video = article(4, kind="video", quality=None, images=(), video_url="https://yt/e", topics=())
    put(store, original, video)
    for expected in (original, video):
        got = store.get_article(expected.id)
        assert got == expected
        assert got is not None
        assert got.related_yaml == expected.related_yaml
        assert got.published.tzinfo is not None
        assert got.published.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.articles_between(datetime(2024, 1, 1), T0)  # noqa: DTZ001 - naive on purpose: refused


def test_get_articles_keeps_order_and_skips_unknown_and_retired(store: Store) -> None:
    put(store, article(1), article(2), article(3))
    with store.transaction():
        assert store.retire_article("a0002", T0)
    got = store.get_articles(["a0003", "nope", "a0002", "a0001", "a0003"])
    assert [a.id for a in got] == ["a0003", "a0001"]
    assert store.get_article("a0002") is None


def test_articles_between_is_half_open_and_filters(store: Store) -> None:
    put(
        store,
        article(0, topics=("AI",)),
        article(1, topics=("Power Apps", "AI"), quality=10),
        article(2),
        article(3),
    )
    window = store.articles_between(T0 - timedelta(hours=2), T0)
    assert [a.id for a in window] == ["a0002", "a0001"]  # the end (a0000 at T0) is excluded
    ai = store.articles_between(T0 - timedelta(days=1), T0 + timedelta(1), topics=["AI"])
    assert {a.id for a in ai} == {"a0000", "a0001"}
    good = store.articles_between(
        T0 - timedelta(days=1), T0 + timedelta(1), topics=["AI"], min_quality=50
    )
    assert [a.id for a in good] == ["a0000"]
    assert store.articles_between(T0 - timedelta(1), T0, topics=[]) == []
    put(store, article(5, quality=None))
    unknown = store.articles_between(T0 - timedelta(hours=6), T0, min_quality=0)
    assert "a0005" in {a.id for a in unknown}
    assert "a0005" not in {
        a.id for a in store.articles_between(T0 - timedelta(hours=6), T0, min_quality=1)
    }


def test_counts_and_newest_ignore_retired_articles(store: Store) -> None:
    assert store.newest_published() is None
    assert store.article_count() == 0
    put(store, article(0, topics=("AI",)), article(1, topics=("AI", "Diablo 4")), article(2))
    with store.transaction():
        store.retire_article("a0000", T0)
    assert store.article_count() == 2
    assert store.newest_published() == T0 - timedelta(hours=1)
    assert store.topic_counts() == [("AI", 1), ("Diablo 4", 1), ("Power Apps", 1)]


def test_every_change_gets_a_new_rev_and_shows_in_changes(store: Store) -> None:
    start = store.current_rev()
    put(store, article(1), article(2))
    put(store, article(1))  # same content from the same file: no new rev
    assert store.current_rev() == start + 2
    put(store, article(1, title="Story number 1, updated"))
    with store.transaction():
        store.retire_article("a0002", T0)
        assert not store.retire_article("a0002", T0)  # already retired: no change
    changes = store.changes_since(start + 2)
    assert [(c.article_id, c.article is None) for c in changes] == [
        ("a0001", False),
        ("a0002", True),
    ]
    assert changes[0].article is not None
    assert changes[0].article.title == "Story number 1, updated"


def test_revive_and_purge(store: Store) -> None:
    put(store, article(1))
    with store.transaction():
        store.retire_article("a0001", T0)
    put(store, article(1, title="back"))
    assert store.get_article("a0001") is not None
    with store.transaction():
        store.retire_article("a0001", T0)
    assert store.purge_retired(T0 - timedelta(days=1)) == 0
    assert store.purge_retired(T0 + timedelta(seconds=1)) == 1
    assert store.article_state("a0001") == ("absent", None)


def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    def fail_midway() -> None:
        with store.transaction():
            store.put_article(article(1), source_path="/x", source_digest="d")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_midway()
    assert store.article_count() == 0


def test_backup_is_a_complete_database(store: Store, tmp_path: Path) -> None:
    put(store, article(1), article(2))
    dest = tmp_path / "backups" / "copy.sqlite3"
    if store.engine == "postgresql":  # the server's own tools back it up
        with pytest.raises(StoreError, match="pg_dump"):
            store.backup(dest)
        return
    store.backup(dest)
    with Store.open(dest) as copy:
        assert copy.article_count() == 2
        assert copy.get_article("a0002") == article(2)


def test_two_connections_share_the_file(tmp_path: Path) -> None:
    """The bot and a CLI ingest open the same database: readers are not blocked by a writer."""
    path = tmp_path / "db.sqlite3"
    with Store.open(path) as writer, Store.open(path) as reader:
        put(writer, article(1))
        with writer.transaction():
            writer.put_article(article(2), source_path="/x/2", source_digest="d")
            assert reader.article_count() == 1  # WAL: the reader sees the last commit
        assert reader.article_count() == 2


def test_both_engines_know_the_same_migrations() -> None:
    """Every schema change has its PostgreSQL twin (same version, same name)."""
    sqlite = [(m.version, m.name) for m in load_migrations("sqlite")]
    postgresql = [(m.version, m.name) for m in load_migrations("postgresql")]
    assert sqlite == postgresql


def test_both_engines_have_the_same_tables_and_columns(tmp_path: Path, pg_database: str) -> None:
    def shape(store: Store) -> dict[str, list[str]]:
        out = {}
        for table in (*TABLES, *RUNTIME_TABLES):  # copied by migrate-store, or runtime state
            cursor: Any = store.conn.execute(f"SELECT * FROM {table} WHERE 1 = 0")
            out[table] = [column[0] for column in cursor.description]
        return out

    with Store.open(pg_database) as pg, Store.open(tmp_path / "a.db") as lite:
        assert shape(pg) == shape(lite)
        assert pg.schema_version == lite.schema_version


def test_every_table_is_either_copied_by_migrate_store_or_runtime_state(
    database: Path | str,
) -> None:
    """A table added by a migration is not silently left behind by `newsbot migrate-store`."""
    with Store.open(database) as store:
        if isinstance(database, Path):
            query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        found = {str(row[0]) for row in store.conn.execute(query).fetchall()}
    found.discard("newsbot_schema")  # PostgreSQL's schema version (SQLite's is a pragma)
    assert found == {*TABLES, *RUNTIME_TABLES}
    assert not set(TABLES) & set(RUNTIME_TABLES)


def test_an_unreachable_server_is_one_clear_store_error() -> None:
    with pytest.raises(
        StoreError, match=r"^cannot connect to postgresql://u:\*\*\*@127\.0\.0\.1:1/x"
    ):
        Store.open("postgresql://u:secret@127.0.0.1:1/x")
