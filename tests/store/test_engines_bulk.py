"""Bulk writes (a re-ingest's batches) store what one-by-one writes store, on each engine.

Batches above `COPY_MIN_ROWS` reach PostgreSQL by COPY (through a temporary twin of the table
for upserts); smaller ones, and SQLite, by executemany. The results must not differ.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.models import Article, Provider
from bot.ingest.parse import ParsedFile, parse_file
from bot.store import Store
from bot.store.db import NewArticle, compress_related
from bot.store.engine import COPY_MIN_ROWS
from bot.store.ingest import ingest_folders
from bot.store.sources import best_source, best_sources, get_source, sources_at
from tests.store.test_ingest_isolation import poison, refused
from tests.store.test_ingest_runner import MAX, NOW, smartable, write

T0 = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)
MANY = COPY_MIN_ROWS * 2


def article(n: int, *, title: str | None = None, topics: tuple[str, ...] = ("AI",)) -> Article:
    return Article(
        id=f"a{n:04d}",
        title=title or f"Story number {n}",
        excerpt=f"Excerpt {n} with emoji 🎉 and a tab\tand a backslash \\ and a quote '",
        url=f"https://example.com/{n}",
        published=T0 - timedelta(hours=n),
        kind="article",
        provider=Provider("Example News", "example.com", None),
        topics=topics,
        quality=60 + n,
        related_count=1,
        related_yaml=f"related:\n  - title: 'Other {n}'\n",
    )


def item(a: Article, digest: str, *, retired_at: datetime | None = None) -> NewArticle:
    return NewArticle(a, f"/x/{a.id}.md", digest, retired_at, compress_related(a.related_yaml))


def test_put_articles_writes_a_batch_as_put_article_writes_each(store: Store) -> None:
    with store.transaction():
        for n in range(3):
            store.put_article(article(n), source_path=f"/x/a{n:04d}.md", source_digest="one")
        store.retire_article("a0002", T0)
    rev = store.current_rev()
    batch = [item(article(0), "one")]  # the same content: not written again
    batch.append(item(article(1, title="Changed", topics=("Copilot",)), "two"))
    batch.append(item(article(2), "two", retired_at=T0 + timedelta(days=1)))  # still retired
    batch += [item(article(n), "one") for n in range(3, 3 + MANY)]
    with store.transaction():
        states = store.put_articles(batch)
    assert states == ["active", "active", "retired"] + ["absent"] * MANY
    assert store.current_rev() == rev + 2 + MANY  # one new rev per article written
    changed = store.get_article("a0001")
    assert changed is not None
    assert (changed.title, changed.topics) == ("Changed", ("Copilot",))
    assert store.get_articles([f"a{n:04d}" for n in range(3, 3 + MANY)]) == [
        article(n) for n in range(3, 3 + MANY)
    ]
    assert store.article_state("a0002") == ("retired", "/x/a0002.md")
    assert store.topic_counts() == [("AI", MANY + 1), ("Copilot", 1)]


def test_best_sources_agree_with_best_source(store: Store, tmp_path: Path) -> None:
    news = tmp_path / "news"
    for n in range(MANY):
        write(news / f"{n:03d}-a.md", smartable(f"story-{n}"), mtime=1_700_000_000 + n % 3)
        write(news / f"{n:03d}-b.md", smartable(f"story-{n}"), mtime=1_700_000_001)
    ingest_folders(store, None, [news], max_file_bytes=MAX, now=NOW)
    paths = sorted(str(p) for p in news.iterdir())
    recorded = sources_at(store.conn, [*paths, str(news / "missing.md")])
    assert sorted(recorded) == paths
    assert all(recorded[p] == get_source(store.conn, p) for p in paths)
    ids = sorted({str(r.article_id) for r in recorded.values()})
    best = best_sources(store.conn, ids)
    assert len(ids) == MANY
    assert best == {i: best_source(store.conn, i) for i in ids}
    # the newer copy speaks; at the same mtime, the first path
    assert {Path(r.path).name[4:] for r in best.values()} == {"a.md", "b.md"}


def test_a_reingest_of_many_changed_files_stores_what_the_files_say(
    store: Store, tmp_path: Path
) -> None:
    news = tmp_path / "news"
    files = [
        write(news / f"s{n:03d}.md", smartable(f"s{n}"), mtime=1_700_000_000) for n in range(MANY)
    ]
    ingest_folders(store, None, [news], max_file_bytes=MAX, now=NOW)
    for n, path in enumerate(files):
        text = smartable(f"s{n}", title=f"Second {n}", topic="Copilot" if n % 2 else "AI")
        write(path, text, mtime=1_700_000_100)
    report = ingest_folders(store, None, [news], max_file_bytes=MAX, now=NOW)
    assert (report.added, report.updated, report.unchanged, report.rejected) == (0, MANY, 0, ())
    parsed = [parse_file(path, max_bytes=MAX) for path in files]
    expected = [p.article for p in parsed if isinstance(p, ParsedFile)]
    stored = store.get_articles([a.id for a in expected])
    assert [replace(a, story_id=None, coverage=()) for a in stored] == expected
    assert store.topic_counts() == [("AI", MANY // 2), ("Copilot", MANY // 2)]
    again = ingest_folders(store, None, [news], max_file_bytes=MAX, now=NOW)
    assert (again.unchanged, again.updated) == (MANY, 0)


def test_a_refused_row_among_many_changed_files_rejects_only_its_file(
    store: Store, tmp_path: Path
) -> None:
    news = tmp_path / "news"
    files = [
        write(news / f"s{n:03d}.md", smartable(f"s{n}"), mtime=1_700_000_000) for n in range(MANY)
    ]
    ingest_folders(store, None, [news], max_file_bytes=MAX, now=NOW)
    poison(store)
    for n, path in enumerate(files):
        title = "Poison" if n == 7 else f"Second {n}"
        write(path, smartable(f"s{n}", title=title), mtime=1_700_000_100)
    report = ingest_folders(store, None, [news], max_file_bytes=MAX, now=NOW)
    assert (report.updated, report.unchanged) == (MANY - 1, 0)
    [rejected] = report.rejected
    assert rejected.path == str(files[7])
    assert refused(rejected.error)
    titles = sorted(a.title for a in store.articles_between(T0 - timedelta(days=400), NOW))
    assert titles == sorted(["S7"] + [f"Second {n}" for n in range(MANY) if n != 7])
