"""Story ids are computed once, at ingest, stored, kept incrementally, and rebuilt when the rule
changes (bot.store.stories over real files and a real SQLite store)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.core.stories import RULE_VERSION
from bot.store import Store
from bot.store.ingest import ingest_folders

NOW = datetime(2024, 5, 1, tzinfo=UTC)
PRESS = (
    "Contoso and Microsoft signed a five-year agreement to move Contoso's media archive to "
    "Azure, the companies said on Tuesday, in a deal worth about 40 million dollars."
)


def article(
    folder: Path,
    slug: str,
    title: str,
    *,
    outlet: str,
    excerpt: str,
    day: int = 10,
    related: str = "",
) -> Path:
    text = "\n".join(
        [
            "---",
            f'title: "{title}"',
            f'excerpt: "{excerpt}"',
            f"publishedDateTime: 2024-04-{day:02d}T08:30:00Z",
            f'webUrl: "https://{outlet}.example.com/{slug}"',
            "type: article",
            "quality: 80",
            "heat: 120",
            "provider:",
            f"  name: {outlet.title()}",
            f"  domain: {outlet}.example.com",
            "topics:",
            "  - Azure",
            related,
            'secured: "opaque"',
            "---",
            "",
        ]
    )
    path = folder / f"2024-04-{day:02d}-{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def background(folder: Path) -> None:
    topics = ["storage", "networking", "databases", "security", "containers", "functions"]
    for n in range(60):
        thing = topics[n % len(topics)]
        article(
            folder,
            f"bg-{n}",
            f"Azure {thing} news number {n} for cloud teams",
            outlet=f"outlet{n % 5}",
            excerpt=f"Microsoft Azure cloud news about {thing} for developers, item {n}.",
            day=1 + n % 20,
        )


def ingest(store: Store, folder: Path) -> None:
    ingest_folders(store, None, [folder], max_file_bytes=1_048_576, now=NOW, pool_min_files=None)


def story_of(store: Store, slug_outlet: str) -> str | None:
    row = store.conn.execute(
        "SELECT story_id FROM articles WHERE url LIKE ?", (f"%{slug_outlet}",)
    ).fetchone()
    return None if row is None else row[0]


def test_ingest_stores_one_story_id_per_article(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "news"
    background(folder)
    article(folder, "deal", "Contoso moves media archive to Azure", outlet="wire", excerpt=PRESS)
    article(folder, "deal-copy", "Contoso signs Azure deal", outlet="daily", excerpt=PRESS)
    ingest(store, folder)
    ungrouped = store.conn.execute(
        "SELECT count(*) FROM articles WHERE story_id IS NULL"
    ).fetchone()[0]
    assert ungrouped == 0
    assert story_of(store, "/deal") == story_of(store, "/deal-copy")
    assert story_of(store, "/bg-1") != story_of(store, "/deal")
    assert store.story_rule() == RULE_VERSION


def test_a_later_article_joins_the_stored_story(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "news"
    background(folder)
    article(folder, "deal", "Contoso moves media archive to Azure", outlet="wire", excerpt=PRESS)
    ingest(store, folder)
    first = story_of(store, "/deal")
    article(
        folder,
        "late",
        "Contoso signs a Azure media archive deal",
        outlet="late",
        excerpt=PRESS,
        day=11,
    )
    ingest(store, folder)
    assert story_of(store, "/late") == first
    assert story_of(store, "/deal") == first


def test_new_words_regroup_an_article(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "news"
    background(folder)
    article(folder, "deal", "Contoso moves media archive to Azure", outlet="wire", excerpt=PRESS)
    path = article(folder, "copy", "Contoso signs Azure deal", outlet="daily", excerpt=PRESS)
    ingest(store, folder)
    assert story_of(store, "/copy") == story_of(store, "/deal")
    path.unlink()
    article(
        folder,
        "copy",
        "Fabrikam opens a bakery",
        outlet="daily",
        excerpt="Fabrikam opened a bakery in Lisbon selling custard tarts and bread.",
    )
    ingest(store, folder)
    assert story_of(store, "/copy") != story_of(store, "/deal")


def test_a_new_rule_version_rebuilds_every_story_id(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "news"
    background(folder)
    ingest(store, folder)
    store.conn.execute("UPDATE articles SET story_id = 'stale'")
    store.conn.execute("UPDATE store_meta SET value = '0' WHERE key = 'story_rule'")
    ingest(store, folder)  # nothing changed on disk: the rule alone triggers the rebuild
    stale = store.conn.execute(
        "SELECT count(*) FROM articles WHERE story_id = 'stale' OR story_id IS NULL"
    ).fetchone()[0]
    assert stale == 0
    assert store.story_rule() == RULE_VERSION


def test_related_items_confirmed_by_content_are_stored_as_coverage(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "news"
    background(folder)
    related = "\n".join(
        [
            "related:",
            '  - title: "Contoso moves its media archive to Azure"',
            '    webUrl: "https://other.example.org/contoso"',
            "    publishedDateTime: 2024-04-10T07:00:00Z",
            "    provider:",
            "      name: Other Outlet",
            "      domain: other.example.org",
            '  - title: "13 ways Azure beats the competition"',
            '    webUrl: "https://listicle.example.org/13"',
            "    publishedDateTime: 2024-04-10T07:00:00Z",
            "    provider:",
            "      name: Listicle",
            "      domain: listicle.example.org",
        ]
    )
    article(
        folder,
        "deal",
        "Contoso moves media archive to Azure",
        outlet="wire",
        excerpt=PRESS,
        related=related,
    )
    ingest(store, folder)
    [stored] = [
        a
        for a in store.articles_between(
            datetime(2024, 4, 10, tzinfo=UTC), datetime(2024, 4, 11, tzinfo=UTC)
        )
        if a.url.endswith("/deal")
    ]
    assert [c.provider for c in stored.coverage] == ["Other Outlet"]
