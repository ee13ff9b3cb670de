"""The ingest runner on real files in tmp_path: incremental, copies, retirement, rejects."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.search.index import SearchIndex
from bot.store import Store
from bot.store.ingest import IngestReport, ingest_folders

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MAX = 1_048_576


def smartable(
    slug: str,
    *,
    title: str | None = None,
    published: str = "true",
    removed: bool = False,
    topic: str = "Power Apps",
    quality: int = 80,
) -> str:
    """A news file in the Smartable format (front matter only)."""
    lines = [
        "---",
        "category: news",
        f'title: "{title or slug.replace("-", " ").title()}"',
        f'excerpt: "All about {slug}."',
        "publishedDateTime: 2024-04-10T08:30:00Z",
        f'originalUrl: "https://news.example.com/{slug}"',
        f'webUrl: "https://news.example.com/{slug}"',
        "type: article",
        f"quality: {quality}",
        "heat: 120",
        f"published: {published}",
    ]
    if removed:
        lines.append("removed: true")
    lines += [
        "",
        "provider:",
        "  name: Example News",
        "  domain: example.com",
        "",
        "topics:",
        f"  - {topic}",
        "",
        'secured: "opaque"',
        "---",
        "",
    ]
    return "\n".join(lines)


def write(path: Path, text: str, *, mtime: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, ns=(mtime * 1_000_000_000, mtime * 1_000_000_000))
    return path


def ingest(
    store: Store, *dirs: Path, index: SearchIndex | None = None, allow_retire: bool = False
) -> IngestReport:
    return ingest_folders(
        store, index, list(dirs), max_file_bytes=MAX, now=NOW, allow_retire=allow_retire
    )


def counts(report: IngestReport) -> tuple[int, int, int, int, int, int]:
    return (
        report.scanned,
        report.added,
        report.updated,
        report.unchanged,
        report.retired,
        len(report.rejected),
    )


def titles(store: Store) -> list[str]:
    return sorted(a.title for a in store.articles_between(datetime(2000, 1, 1, tzinfo=UTC), NOW))


def test_first_run_adds_second_run_skips_everything(store: Store, tmp_path: Path) -> None:
    news = tmp_path / "news"
    for n in range(3):
        write(news / f"2024-04-10-story-{n}.md", smartable(f"story-{n}"))
    write(news / "sub" / "deeper" / "2024-04-10-deep.md", smartable("deep"))
    write(news / "image.png", "not an article")
    write(news / ".hidden.md", smartable("hidden"))
    assert counts(ingest(store, news)) == (4, 4, 0, 0, 0, 0)
    assert store.article_count() == 4
    assert counts(ingest(store, news)) == (4, 0, 0, 4, 0, 0)


def test_changed_file_updates_and_touched_file_is_unchanged(store: Store, tmp_path: Path) -> None:
    news = tmp_path / "news"
    path = write(news / "a.md", smartable("a", title="First title"), mtime=1_700_000_000)
    ingest(store, news)
    write(path, smartable("a", title="Second title"), mtime=1_700_000_100)
    assert counts(ingest(store, news)) == (1, 0, 1, 0, 0, 0)
    assert titles(store) == ["Second title"]
    os.utime(path, ns=(1_700_000_200 * 10**9,) * 2)  # same bytes, new mtime
    assert counts(ingest(store, news)) == (1, 0, 0, 1, 0, 0)


def test_deleted_file_retires_its_article(store: Store, tmp_path: Path) -> None:
    news = tmp_path / "news"
    write(news / "a.md", smartable("a"))
    gone = write(news / "b.md", smartable("b"))
    write(news / "sub" / "c.md", smartable("c"))
    write(news / "d.md", smartable("d"))
    ingest(store, news)
    gone.unlink()
    (news / "sub" / "c.md").unlink()
    (news / "sub").rmdir()
    report = ingest(store, news)  # half of the folder's articles: no --allow-retire needed
    assert (report.scanned, report.retired, report.held) == (2, 2, ())
    assert titles(store) == ["A", "D"]


def test_removed_true_retires_and_published_false_keeps(store: Store, tmp_path: Path) -> None:
    news = tmp_path / "news"
    a = write(news / "a.md", smartable("a"), mtime=1_700_000_000)
    b = write(news / "b.md", smartable("b"), mtime=1_700_000_000)
    ingest(store, news)
    write(a, smartable("a", removed=True), mtime=1_700_000_100)
    write(b, smartable("b", published="false"), mtime=1_700_000_100)
    report = ingest(store, news)
    assert (report.retired, report.updated) == (1, 2)
    assert titles(store) == ["B"]
    kept = store.articles_between(datetime(2000, 1, 1, tzinfo=UTC), NOW)[0]
    assert kept.trending is False
    # upstream un-removes it: the article comes back
    write(a, smartable("a"), mtime=1_700_000_200)
    assert ingest(store, news).added == 1
    assert titles(store) == ["A", "B"]


def test_same_article_in_two_folders_is_one_article(store: Store, tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    write(old / "x.md", smartable("x", title="Old copy"), mtime=1_600_000_000)
    write(new / "x.md", smartable("x", title="New copy"), mtime=1_700_000_000)
    report = ingest(store, old, new)
    assert (report.scanned, report.added, report.updated) == (2, 1, 1)
    assert titles(store) == ["New copy"]  # the most recently modified file wins
    # the newest copy goes away: the older copy speaks again, nothing is retired
    (new / "x.md").unlink()
    report = ingest(store, old, new)
    assert report.retired == 0
    assert titles(store) == ["Old copy"]
    # the last copy goes away: retired (all of its folder's articles: when allowed)
    (old / "x.md").unlink()
    assert ingest(store, old, new, allow_retire=True).retired == 1
    assert store.article_count() == 0


def test_only_scanned_roots_can_retire(store: Store, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write(one / "a.md", smartable("a"))
    write(two / "b.md", smartable("b"))
    ingest(store, one, two)
    assert counts(ingest(store, one)) == (1, 0, 0, 1, 0, 0)
    assert store.article_count() == 2


def test_missing_folder_is_reported_and_retires_nothing(store: Store, tmp_path: Path) -> None:
    news = tmp_path / "news"
    write(news / "a.md", smartable("a"))
    ingest(store, news)
    (news / "a.md").unlink()
    news.rmdir()
    report = ingest(store, news)
    assert report.retired == 0
    assert [r.path for r in report.rejected] == [str(news)]
    assert "does not exist" in report.rejected[0].error
    assert store.article_count() == 1


def test_bad_files_are_reported_never_stored_never_fatal(store: Store, tmp_path: Path) -> None:
    news = tmp_path / "news"
    write(news / "good.md", smartable("good"))
    bad = write(news / "bad.md", smartable("bad").replace("Example News", "DM: Diablo Immortal"))
    write(news / "notes.md", "# just some notes\n")
    write(news / "huge.md", smartable("huge") + "x" * 2000)
    report = ingest_folders(store, None, [news], max_file_bytes=1500, now=NOW)
    assert (report.added, len(report.rejected)) == (1, 3)
    assert {Path(r.path).name for r in report.rejected} == {"bad.md", "notes.md", "huge.md"}
    assert all(r.error for r in report.rejected)
    assert store.article_count() == 1
    # still reported on the next run, without being parsed again
    again = ingest_folders(store, None, [news], max_file_bytes=1500, now=NOW)
    assert (again.unchanged, len(again.rejected)) == (1, 3)
    # fixed: it is added
    write(bad, smartable("bad"), mtime=1_800_000_000)
    assert ingest_folders(store, None, [news], max_file_bytes=1500, now=NOW).added == 1


def test_a_file_that_turns_bad_keeps_its_last_good_article(store: Store, tmp_path: Path) -> None:
    news = tmp_path / "news"
    path = write(news / "a.md", smartable("a", title="Good"), mtime=1_700_000_000)
    ingest(store, news)
    write(path, "---\ntitle: [broken\n---\n", mtime=1_700_000_100)
    report = ingest(store, news)
    assert (len(report.rejected), report.retired) == (1, 0)
    assert titles(store) == ["Good"]


def test_rewritten_file_with_another_url_retires_the_old_article(
    store: Store, tmp_path: Path
) -> None:
    news = tmp_path / "news"
    path = write(news / "a.md", smartable("first"), mtime=1_700_000_000)
    ingest(store, news)
    write(path, smartable("second"), mtime=1_700_000_100)
    report = ingest(store, news)
    assert (report.added, report.retired) == (1, 1)
    assert titles(store) == ["Second"]


def test_ingest_syncs_the_search_index(store: Store, tmp_path: Path) -> None:
    news = tmp_path / "news"
    write(news / "a.md", smartable("copilot-launch", title="Copilot launches in Power Apps"))
    index = SearchIndex.open(tmp_path / "idx")
    ingest(store, news, index=index)
    assert [h.article.title for h in index.search("copilot", now=NOW)] == [
        "Copilot launches in Power Apps"
    ]
    (news / "a.md").unlink()
    ingest(store, news, index=index, allow_retire=True)
    assert index.search("copilot", now=NOW) == []


def test_progress_is_reported(store: Store, tmp_path: Path) -> None:
    news = tmp_path / "news"
    for n in range(3):
        write(news / f"{n}.md", smartable(f"s{n}"))
    seen: list[tuple[int, int | None]] = []
    ingest_folders(
        store, None, [news], max_file_bytes=MAX, now=NOW, progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (3, 3)


@pytest.mark.corpus
def test_real_corpus_with_overlapping_copies(store: Store, corpus_dir: Path) -> None:
    report = ingest(store, corpus_dir)
    files = sum(1 for _ in corpus_dir.glob("*/_news/*.md"))
    assert report.scanned == files  # the corpus's README.md is documentation, not an article
    assert report.rejected == ()
    assert report.added + report.updated + report.unchanged == files
    # microsoft-power-apps is an older copy of powerapps: shared articles count once
    folders: dict[str, set[str]] = {}
    for article_id, path in store.conn.execute(
        "SELECT article_id, path FROM sources WHERE article_id IS NOT NULL"
    ):
        folders.setdefault(article_id, set()).add(path.split("/_news")[0])
    shared = sum(1 for found in folders.values() if len(found) > 1)
    assert shared > 100
    active = store.article_count()
    assert active <= files - shared
    warm = ingest(store, corpus_dir)
    assert (warm.added, warm.updated, warm.retired) == (0, 0, 0)
    assert warm.unchanged == files


def test_a_folders_own_documentation_is_not_an_article(store: Store, tmp_path: Path) -> None:
    news = tmp_path / "news"
    write(news / "2024-01-01-a.md", smartable("a"))
    write(news / "README.md", "# My news site\n\nArticles live here.\n")
    write(news / "LICENSE.txt", "MIT\n")
    write(news / "notes.md", "no front matter here\n")  # an unknown file is still reported
    report = ingest(store, news)
    assert report.scanned == 2
    assert [Path(r.path).name for r in report.rejected] == ["notes.md"]
