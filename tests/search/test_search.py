"""The search index: sync from the store, relevance, filters, pagination, safety on any input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.models import Article, Provider
from bot.search.index import SearchIndex, search_stories
from bot.store import Store
from bot.store.stories import group_stories

NOW = datetime(2024, 4, 12, 12, 0, tzinfo=UTC)


def article(n: int, title: str, excerpt: str = "", **changes: object) -> Article:
    values: dict[str, object] = {
        "id": f"s{n:03d}",
        "title": title,
        "excerpt": excerpt,
        "url": f"https://news.example/{n}",
        "published": NOW - timedelta(days=n),
        "kind": "article",
        "provider": Provider("Example Times", "example.com"),
        "topics": ("Power Apps",),
        "quality": 67,
        "heat": 100,
    }
    values.update(changes)
    return Article(**values)  # type: ignore[arg-type]


ARTICLES = [
    article(1, "Power Fx formulas arrive in model-driven apps", "Low-code formulas everywhere."),
    article(
        2,
        "Diablo 4 season of blood announced",
        "Blizzard details the new season.",
        topics=("Diablo 4",),
        provider=Provider("Blizzard", "blizzard.com"),
    ),
    article(3, "Copilot comes to Power Apps", "AI helps makers build apps with copilot."),
    article(
        40, "Dataverse licensing changes explained", "What the new licensing means.", quality=150
    ),
    article(90, "Canvas apps performance tips", "Make canvas apps faster with delegation."),
    article(
        5,
        "The new druid class in Diablo 4",
        "Shapeshifting druids return.",
        topics=("Diablo 4",),
        provider=Provider("Blizzard", "blizzard.com"),
    ),
]


def put(store: Store, *articles: Article) -> None:
    with store.transaction():
        for item in articles:
            store.put_article(item, source_path=f"/x/{item.id}", source_digest=item.title)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, SearchIndex]]:
    folder = tmp_path_factory.mktemp("search")
    store = Store.open(folder / "db.sqlite3")
    put(store, *ARTICLES)
    index = SearchIndex.open(folder / "db.sqlite3.index")
    assert index.sync(store) == len(ARTICLES)
    yield store, index
    index.close()
    store.close()


def ids(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [hit.article.id for hit in hits]


def test_relevant_article_comes_first_with_full_article(
    synced: tuple[Store, SearchIndex],
) -> None:
    _, index = synced
    hits = index.search("copilot", now=NOW)
    assert ids(hits) == ["s003"]
    assert hits[0].article == ARTICLES[2]
    assert ids(index.search("Druid class", now=NOW))[0] == "s005"
    # stemming and case: "Formula" finds "formulas"
    assert ids(index.search("FORMULA", now=NOW)) == ["s001"]


def test_title_match_beats_excerpt_match(synced: tuple[Store, SearchIndex]) -> None:
    _, index = synced
    hits = index.search("canvas", now=NOW)
    assert ids(hits) == ["s090"]
    hits = index.search("season", now=NOW)
    assert ids(hits)[0] == "s002"


def test_provider_and_topic_words_are_searchable(synced: tuple[Store, SearchIndex]) -> None:
    _, index = synced
    assert set(ids(index.search("blizzard", now=NOW))) == {"s002", "s005"}
    assert "s001" in ids(index.search("power apps", now=NOW))


def test_topic_filter_and_day_window(synced: tuple[Store, SearchIndex]) -> None:
    _, index = synced
    assert set(ids(index.search("apps", now=NOW, topic="power apps"))) == {
        "s001",
        "s003",
        "s040",
        "s090",
    }
    assert ids(index.search("apps", now=NOW, topic="Diablo 4")) == []
    assert ids(index.search("apps", now=NOW, topic="no such topic")) == []
    assert set(ids(index.search("apps", now=NOW, days=7))) == {"s001", "s003"}
    assert set(ids(index.search("apps", now=NOW, days=60))) == {"s001", "s003", "s040"}


def test_pages_do_not_overlap(synced: tuple[Store, SearchIndex]) -> None:
    _, index = synced
    everything = ids(index.search("apps", now=NOW, limit=10))
    pages = [ids(index.search("apps", now=NOW, limit=2, offset=o)) for o in (0, 2, 4)]
    assert pages[0] + pages[1] + pages[2] == everything
    assert index.search("apps", now=NOW, offset=1000) == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "!!!",
        '"',
        '"unclosed',
        "AND",
        "OR NOT",
        "-+*:",
        "title:copilot",
        "apps AND (",
        "*",
        "🎉🎉",
        "a" * 1000,
        "\x00\ud7ff",
        "lone \ud800 surrogate",
        "[1 TO 2]",
        'field:"x"~2^3',
        "\\",
        "'; DROP TABLE articles; --",
    ],
)
def test_hostile_queries_are_safe(synced: tuple[Store, SearchIndex], query: str) -> None:
    store, index = synced
    known = {row[0] for row in store.conn.execute("SELECT id FROM articles")}
    hits = index.search(query, now=NOW)
    assert {hit.article.id for hit in hits} <= known  # no error, no invented results
    # and the index still answers a plain query afterwards
    assert ids(index.search("title:copilot", now=NOW)) == ["s003"]


def test_operator_words_are_plain_words(synced: tuple[Store, SearchIndex]) -> None:
    _, index = synced
    # "title:copilot" is not a field query: it is the words "title" and "copilot"
    assert ids(index.search("title:copilot", now=NOW)) == ["s003"]
    assert ids(index.search("-copilot", now=NOW)) == ["s003"]


@settings(max_examples=150, deadline=None)
@given(
    query=st.text(max_size=300),
    topic=st.one_of(st.none(), st.text(max_size=30)),
    days=st.one_of(st.none(), st.integers(-5, 100_000)),
    limit=st.integers(-5, 500),
    offset=st.integers(-5, 500),
)
def test_any_input_never_raises(
    synced: tuple[Store, SearchIndex],
    query: str,
    topic: str | None,
    days: int | None,
    limit: int,
    offset: int,
) -> None:
    _, index = synced
    hits = index.search(query, now=NOW, topic=topic, days=days, limit=limit, offset=offset)
    assert len(hits) <= max(0, min(limit, 100))


def test_sync_is_incremental_and_follows_retirement(tmp_path: Path, database: Path | str) -> None:
    store = Store.open(database)
    index = SearchIndex.open(tmp_path / "idx")
    put(store, *ARTICLES)
    assert index.sync(store) == len(ARTICLES)
    assert index.sync(store) == 0
    put(store, article(3, "Copilot leaves Power Apps"))
    with store.transaction():
        store.retire_article("s002", NOW)
    assert index.sync(store) == 2
    assert index.search("copilot", now=NOW)[0].article.title == "Copilot leaves Power Apps"
    assert index.search("season", now=NOW) == []
    assert index.doc_count() == len(ARTICLES) - 1
    store.close()


def test_missing_corrupt_or_foreign_index_is_rebuilt(tmp_path: Path, database: Path | str) -> None:
    store = Store.open(database)
    put(store, *ARTICLES)
    folder = tmp_path / "idx"
    SearchIndex.open(folder).sync(store)
    # corrupt every file of the index: it is rebuilt from the store
    for file in folder.iterdir():
        if file.is_file():
            file.write_bytes(b"garbage")
    index = SearchIndex.open(folder)
    index.sync(store)
    assert ids(index.search("copilot", now=NOW)) == ["s003"]
    # a new database (another store id) makes the index start over
    other = Store.open(tmp_path / "other.sqlite3")
    put(other, ARTICLES[0])
    assert index.sync(other) == 1
    assert index.doc_count() == 1
    store.close()
    other.close()


def test_a_busy_writer_makes_sync_skip_not_fail(tmp_path: Path, database: Path | str) -> None:
    store = Store.open(database)
    put(store, *ARTICLES)
    first = SearchIndex.open(tmp_path / "idx")
    second = SearchIndex.open(tmp_path / "idx")
    writer = first._index.writer(heap_size=15_000_000, num_threads=1)
    assert second.sync(store) == 0
    del writer
    assert second.sync(store) == len(ARTICLES)
    store.close()


def test_damaged_segment_files_are_rebuilt(tmp_path: Path, database: Path | str) -> None:
    store = Store.open(database)
    put(store, *ARTICLES)
    folder = tmp_path / "idx"
    SearchIndex.open(folder).sync(store)
    for file in folder.iterdir():
        if file.suffix in (".idx", ".store", ".term", ".pos", ".fast", ".fieldnorm"):
            file.write_bytes(b"garbage")
    index = SearchIndex.open(folder)
    assert index.sync(store) == len(ARTICLES)
    assert ids(index.search("copilot", now=NOW)) == ["s003"]
    store.close()


def test_one_story_is_one_result_with_its_other_outlets(
    tmp_path: Path, database: Path | str
) -> None:
    """Syndicated copies of one story show once (the best-matching copy, "also: …" the other
    outlets), and paging counts stories."""
    store = Store.open(database)
    press = "Contoso and Microsoft sign a five-year Azure deal for Contoso's media archive."
    copies = [
        article(
            n,
            "Contoso moves its media archive to Azure",
            press,
            provider=Provider(name, f"{name.lower()}.com"),
            published=NOW - timedelta(hours=n),
        )
        for n, name in [(1, "Wire"), (2, "Daily"), (3, "Weekly")]
    ]
    other = article(4, "Contoso archive pricing explained", "What the Contoso archive costs.")
    put(store, *copies, other)
    group_stories(store)
    index = SearchIndex.open(tmp_path / "db.sqlite3.index")
    try:
        index.sync(store)
        hits = search_stories(index, store, "contoso archive", now=NOW, limit=10)
        assert len(hits) == 2
        [story] = [h for h in hits if h.article.id in {c.id for c in copies}]
        assert sorted(story.also) == sorted(
            c.provider.name for c in copies if c.id != story.article.id
        )
        first = search_stories(index, store, "contoso archive", now=NOW, limit=1)
        second = search_stories(index, store, "contoso archive", now=NOW, limit=1, offset=1)
        assert [h.article.id for h in first + second] == [h.article.id for h in hits]
    finally:
        index.close()
        store.close()
