"""A failing Git source keeps its articles, says why, retries with back-off and harms no other."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.sources import RefreshResult, SourceManager
from bot.store.async_store import AsyncStore
from bot.store.db import Store
from bot.store.guilds import GuildDefaults
from bot.store.source_state import get_state
from tests.sources.conftest import Clock
from tests.sources.gitrepo import Origin, article_text, git


def active_count(astore: AsyncStore) -> int:
    row = astore.conn.execute("SELECT count(*) FROM articles WHERE retired_at_us IS NULL")
    return int(row.fetchone()[0])


async def test_unreachable_remote_keeps_articles_and_backs_off(
    manager: SourceManager, astore: AsyncStore, origin: Origin, clock: Clock
) -> None:
    assert (await manager.refresh("site")).ok
    good = clock.now
    shutil.move(origin.path, origin.path.with_name("moved-away"))
    clock.advance(hours=2)
    first = await manager.refresh("site")
    assert not first.ok
    assert first.error is not None
    assert "fetch failed" in first.error
    assert active_count(astore) == 3  # last good articles kept
    state = get_state(astore.conn, "site")
    assert state is not None
    assert state.last_success == good
    assert state.stale_since == good
    assert state.next_refresh == clock.now + timedelta(minutes=1)
    second = await manager.refresh("site")
    assert not second.ok
    state = get_state(astore.conn, "site")
    assert state is not None
    assert state.failures == 2
    assert state.next_refresh == clock.now + timedelta(minutes=2)
    # back again: the next refresh succeeds and the error is cleared
    shutil.move(origin.path.with_name("moved-away"), origin.path)
    assert (await manager.refresh("site")).ok
    state = get_state(astore.conn, "site")
    assert state is not None
    assert (state.last_error, state.failures, state.stale_since) == (None, 0, None)
    assert state.next_refresh == clock.now + timedelta(hours=2)


async def test_a_failing_source_does_not_stop_the_others(
    tmp_path: Path, origin: Origin, make_settings: Callable[[str], Settings], clock: Clock
) -> None:
    folder = tmp_path / "pipeline"
    folder.mkdir()
    (folder / "2026-03-02-local.md").write_text(article_text("local"), encoding="utf-8")
    settings = make_settings(
        "sources:\n"
        f"  - name: broken\n    git: {tmp_path.as_uri()}/nowhere\n"
        f"  - name: site\n    git: {origin.url}\n"
        f"  - name: mine\n    path: {folder}\n"
    )
    store = Store.open(settings.database)
    astore = AsyncStore(store, GuildDefaults.from_settings(settings))
    try:
        manager = SourceManager(settings, astore, clock=clock, environ={})
        results = await manager.refresh_all()
        assert [(r.name, r.ok) for r in results] == [
            ("broken", False),
            ("site", True),
            ("mine", True),
        ]
        statuses = {s["name"]: s for s in await manager.statuses()}
        assert statuses["site"]["articles"] == 3
        assert statuses["mine"]["articles"] == 1
        assert statuses["broken"]["articles"] == 0
        assert statuses["broken"]["last_success"] is None
        assert "does not appear to be a git repository" in statuses["broken"]["last_error"]
    finally:
        astore.close()
        store.close()


async def test_branch_reset_to_an_empty_tree_retires_nothing_until_confirmed(
    manager: SourceManager, astore: AsyncStore, origin: Origin
) -> None:
    assert (await manager.refresh("site")).ok
    root = manager.root(manager.get("site"))
    git(origin.path, "rm", "-r", "--quiet", "_news")
    origin.commit("oops: everything deleted")
    refused = await manager.refresh("site")
    assert not refused.ok
    assert refused.error is not None
    assert "has no article files" in refused.error
    assert "--allow-retire" in refused.error
    assert active_count(astore) == 3
    assert len(list(root.glob("*.md"))) == 3  # the published folder was not swapped
    confirmed = await manager.refresh("site", allow_retire=True)
    assert confirmed.ok, confirmed.error
    assert active_count(astore) == 0
    assert confirmed.report is not None
    assert confirmed.report.retired == 3


async def test_an_emptied_local_folder_retires_nothing_until_confirmed(
    tmp_path: Path, make_settings: Callable[[str], Settings], clock: Clock, origin: Origin
) -> None:
    folder = tmp_path / "pipeline"
    shutil.copytree(origin.path / "_news", folder)
    settings = make_settings(f"sources:\n  - name: mine\n    path: {folder}\n")
    store = Store.open(settings.database)
    astore = AsyncStore(store, GuildDefaults.from_settings(settings))
    try:
        manager = SourceManager(settings, astore, clock=clock, environ={})
        assert (await manager.refresh("mine")).ok
        for path in folder.iterdir():
            path.unlink()
        refused = await manager.refresh("mine")
        assert not refused.ok
        assert active_count(astore) == 3
        assert (await manager.refresh("mine", allow_retire=True)).ok
        assert active_count(astore) == 0
    finally:
        astore.close()
        store.close()


async def test_corrupted_checkout_is_cloned_again(
    manager: SourceManager, astore: AsyncStore, origin: Origin
) -> None:
    assert (await manager.refresh("site")).ok
    repo = manager.folder(manager.get("site")) / "repo"
    shutil.rmtree(repo / ".git" / "objects")
    (repo / ".git" / "objects").mkdir()
    origin.news("delta")
    origin.commit("one more")
    result = await manager.refresh("site")
    assert result.ok, result.error
    assert active_count(astore) == 4


async def test_disk_full_while_building_keeps_the_published_folder(
    manager: SourceManager, astore: AsyncStore, origin: Origin, monkeypatch: object
) -> None:
    import errno

    import pytest

    assert (await manager.refresh("site")).ok
    root = manager.root(manager.get("site"))
    origin.news("delta")
    origin.commit("one more")

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shutil, "copyfile", full)
        result = await manager.refresh("site")
    assert not result.ok
    assert result.error is not None
    assert "No space left on device" in result.error
    assert sorted(p.name for p in root.glob("*.md"))[0] == "2026-03-02-alpha.md"
    assert len(list(root.glob("*.md"))) == 3
    assert not root.with_name("articles.next").exists()
    assert (await manager.refresh("site")).ok  # space again: the update goes through
    assert active_count(astore) == 4


async def test_one_refresh_at_a_time_per_source(
    manager: SourceManager, astore: AsyncStore, origin: Origin
) -> None:
    import fcntl
    import os

    folder = manager.folder(manager.get("site"))
    folder.mkdir(parents=True)
    fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another process is refreshing
        busy = await manager.refresh("site")
    finally:
        os.close(fd)
    assert not busy.ok
    assert busy.error == "another process is refreshing this source right now"
    assert get_state(astore.conn, "site") is None  # not a failure of the source
    assert (await manager.refresh("site")).ok


async def test_a_missing_local_folder_is_a_failure_that_retires_nothing(
    tmp_path: Path, make_settings: Callable[[str], Settings], clock: Clock
) -> None:
    folder = tmp_path / "mounted"
    folder.mkdir()
    (folder / "2026-03-02-local.md").write_text(article_text("local"), encoding="utf-8")
    settings = make_settings(f"articles_dir: {folder}\n")
    store = Store.open(settings.database)
    astore = AsyncStore(store, GuildDefaults.from_settings(settings))
    try:
        manager = SourceManager(settings, astore, clock=clock, environ={})
        assert (await manager.refresh("articles")).ok
        folder.rename(tmp_path / "unmounted")
        result = await manager.refresh("articles")
        assert not result.ok
        assert result.error is not None
        assert "folder does not exist; nothing under it was changed" in result.error
        assert active_count(astore) == 1
        (status,) = await manager.statuses()
        assert status["last_error"] == result.error
        assert status["articles"] == 1
    finally:
        astore.close()
        store.close()


async def test_the_refresh_loop_waits_while_another_process_refreshes(
    manager: SourceManager, astore: AsyncStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import fcntl
    import os

    folder = manager.folder(manager.get("site"))
    folder.mkdir(parents=True)
    fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    attempts: list[bool] = []
    real = manager.refresh

    async def counting(name: str, **kwargs: bool) -> RefreshResult:
        result = await real(name, **kwargs)
        attempts.append(result.busy)
        return result

    monkeypatch.setattr(manager, "refresh", counting)
    try:
        task = asyncio.create_task(manager.run_forever(poll_seconds=0.2))
        await asyncio.sleep(0.5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        os.close(fd)
    assert 1 <= len(attempts) <= 4  # every 0.2 s, not in a tight loop
    assert all(attempts)
    assert get_state(astore.conn, "site") is None
