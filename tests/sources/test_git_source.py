"""A Git source through real repositories: clone, add, rewrite, remove, delete, force-push."""

from __future__ import annotations

from pathlib import Path

from bot.search.index import SearchIndex
from bot.settings import Settings
from bot.sources import SourceManager
from bot.store.async_store import AsyncStore
from tests.sources.conftest import Clock
from tests.sources.gitrepo import Origin, git


def active_titles(astore: AsyncStore) -> set[str]:
    rows = astore.conn.execute("SELECT title FROM articles WHERE retired_at_us IS NULL")
    return {str(title) for (title,) in rows}


def heat_of(astore: AsyncStore, title: str) -> int | None:
    row = astore.conn.execute("SELECT heat FROM articles WHERE title = ?", (title,)).fetchone()
    return None if row is None else row[0]


async def test_first_refresh_clones_shallow_and_ingests(
    manager: SourceManager, astore: AsyncStore, origin: Origin
) -> None:
    origin.news("delta")
    origin.commit("a second commit: the clone must not fetch the first")
    result = await manager.refresh("site")
    assert result.ok, result.error
    assert result.swapped
    assert result.report is not None
    assert result.report.added == 4
    assert active_titles(astore) == {"Alpha", "Beta", "Gamma", "Delta"}
    repo = manager.folder(manager.get("site")) / "repo"
    assert git(repo, "rev-list", "--count", "HEAD") == "1"  # depth 1: no history
    assert (repo / ".git" / "shallow").exists()
    assert git(repo, "config", "remote.origin.partialclonefilter") == "blob:none"
    published = manager.root(manager.get("site"))
    assert sorted(p.name for p in published.iterdir() if not p.name.startswith(".")) == [
        "2026-03-02-alpha.md",
        "2026-03-02-beta.md",
        "2026-03-02-delta.md",
        "2026-03-02-gamma.md",
    ]


async def test_update_ingests_only_what_changed(
    manager: SourceManager, astore: AsyncStore, origin: Origin
) -> None:
    assert (await manager.refresh("site")).ok
    origin.news("delta")  # added
    origin.news("alpha", heat=999)  # rewritten (heat)
    origin.news("beta", removed=True)  # marked removed
    origin.delete("gamma")  # deleted
    origin.commit("a typical update")
    result = await manager.refresh("site")
    assert result.ok, result.error
    report = result.report
    assert report is not None
    assert (report.scanned, report.added, report.unchanged) == (3, 1, 0)
    assert report.retired == 2  # beta (removed: true) and gamma (file deleted)
    assert active_titles(astore) == {"Alpha", "Delta"}
    assert heat_of(astore, "Alpha") == 999
    # nothing new upstream: nothing swapped, nothing parsed
    again = await manager.refresh("site")
    assert again.ok
    assert not again.swapped
    assert again.report is not None
    assert (again.report.added, again.report.updated, again.report.unchanged) == (0, 0, 3)


async def test_unchanged_files_are_not_read_again(
    manager: SourceManager, origin: Origin, tmp_path: Path
) -> None:
    assert (await manager.refresh("site")).ok
    root = manager.root(manager.get("site"))
    before = {p.name: p.stat().st_ino for p in root.glob("*.md")}
    origin.news("alpha", heat=5)
    origin.commit("rewrite one")
    assert (await manager.refresh("site")).ok
    after = {p.name: p.stat().st_ino for p in root.glob("*.md")}
    assert after["2026-03-02-beta.md"] == before["2026-03-02-beta.md"]  # linked, not copied
    assert after["2026-03-02-alpha.md"] != before["2026-03-02-alpha.md"]


async def test_force_push_rewriting_history(
    manager: SourceManager, astore: AsyncStore, origin: Origin
) -> None:
    assert (await manager.refresh("site")).ok
    # the publisher squashes history: an unrelated root commit replaces the branch
    git(origin.path, "checkout", "--quiet", "--orphan", "rewritten")
    origin.delete("gamma")
    origin.news("omega", heat=1)
    origin.commit("history rewritten")
    git(origin.path, "branch", "-M", "rewritten", "main")
    result = await manager.refresh("site")
    assert result.ok, result.error
    assert active_titles(astore) == {"Alpha", "Beta", "Omega"}


async def test_only_the_articles_folder_is_fetched(manager: SourceManager, origin: Origin) -> None:
    big = origin.path / "assets" / "video.bin"
    big.parent.mkdir()
    big.write_bytes(b"x" * 200_000)
    origin.commit("a big asset outside _news")
    blob = git(origin.path, "rev-parse", "HEAD:assets/video.bin")
    assert (await manager.refresh("site")).ok
    repo = manager.folder(manager.get("site")) / "repo"
    assert not (repo / "assets").exists()  # sparse checkout: only _news (and root files)
    missing = git(repo, "rev-list", "--objects", "--all", "--missing=print")
    assert f"?{blob}" in missing.splitlines()  # its blob was never downloaded


async def test_the_search_index_follows_a_refresh(
    settings: Settings, astore: AsyncStore, origin: Origin, clock: Clock
) -> None:
    index = SearchIndex.open(settings.index_dir)
    try:
        manager = SourceManager(settings, astore, clock=clock, index=index, environ={})
        assert (await manager.refresh("site")).ok
        assert len(index.search("alpha", now=clock.now, days=None)) == 1
        origin.news("zeppelin", title="Zeppelin returns to the sky")
        origin.delete("alpha")
        origin.commit("one in, one out")
        assert (await manager.refresh("site")).ok
        assert len(index.search("zeppelin", now=clock.now)) == 1
        assert index.search("alpha", now=clock.now) == []
    finally:
        index.close()


async def test_a_file_lost_from_the_published_folder_comes_back_with_the_next_commit(
    manager: SourceManager, astore: AsyncStore, origin: Origin
) -> None:
    assert (await manager.refresh("site")).ok
    root = manager.root(manager.get("site"))
    (root / "2026-03-02-beta.md").unlink()  # someone tidied the data folder by hand
    origin.news("alpha", heat=77)
    origin.commit("rewrite alpha")
    result = await manager.refresh("site")
    assert result.ok, result.error
    assert (root / "2026-03-02-beta.md").is_file()
    assert active_titles(astore) == {"Alpha", "Beta", "Gamma"}
    assert heat_of(astore, "Alpha") == 77
