"""A folder whose files vanish all at once (an unmounted share, an emptied checkout) keeps its
articles unless retiring them is allowed: more than half of a scanned folder's articles never
go in one run by default, in `newsbot ingest` and in the bot's background re-scan alike. (And
the bot's re-scan survives a file with an absurd number.)"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from bot.discord.app import NewsBot
from bot.settings import Settings
from bot.store import Store
from bot.store.async_store import AsyncStore
from bot.store.guilds import GuildDefaults
from tests.store.test_ingest_runner import NOW, ingest, smartable, titles, write


def folder_of(tmp_path: Path, count: int, name: str = "news") -> Path:
    news = tmp_path / name
    for n in range(count):
        write(news / f"2024-04-10-{name}-{n}.md", smartable(f"{name}-{n}"))
    return news


def empty(folder: Path) -> None:
    """The folder is still there, its files are not (an empty mount point)."""
    shutil.rmtree(folder)
    folder.mkdir()


def test_an_emptied_folder_keeps_its_articles_until_allowed(store: Store, tmp_path: Path) -> None:
    news = folder_of(tmp_path, 13)
    assert ingest(store, news).added == 13
    empty(news)
    report = ingest(store, news)
    assert report.retired == 0
    [held] = report.held
    assert (held.path, held.would_retire) == (str(news), 13)
    assert "13 of its 13 articles" in held.reason
    assert "--allow-retire" in held.reason
    assert store.article_count() == 13
    # the next run decides again: still held
    assert [h.would_retire for h in ingest(store, news).held] == [13]
    # the share comes back: nothing to do
    folder_of(tmp_path, 13)
    back = ingest(store, news)
    assert (back.added, back.retired, back.held) == (0, 0, ())
    assert store.article_count() == 13
    # the operator says it is really gone
    empty(news)
    allowed = ingest(store, news, allow_retire=True)
    assert (allowed.retired, allowed.held) == (13, ())
    assert store.article_count() == 0


def test_two_to_none_is_more_than_half_one_of_two_is_not(store: Store, tmp_path: Path) -> None:
    news = folder_of(tmp_path, 2)
    ingest(store, news)
    (news / "2024-04-10-news-0.md").unlink()
    report = ingest(store, news)
    assert (report.retired, report.held) == (1, ())
    (news / "2024-04-10-news-1.md").unlink()
    report = ingest(store, news)
    assert report.retired == 0
    assert [(h.would_retire, h.path) for h in report.held] == [(1, str(news))]
    assert titles(store) == ["News 1"]


def test_a_vanished_share_below_the_folder_counts_against_the_whole_folder(
    store: Store, tmp_path: Path
) -> None:
    root = tmp_path / "articles"
    folder_of(root, 3, "share")
    folder_of(root, 1, "local")
    ingest(store, root)
    shutil.rmtree(root / "share")  # unmounted: even its mount point is gone
    report = ingest(store, root)
    assert report.retired == 0
    assert [(h.path, h.would_retire) for h in report.held] == [(str(root), 3)]
    assert store.article_count() == 4


def test_moved_files_and_copies_elsewhere_retire_nothing_and_hold_nothing(
    store: Store, tmp_path: Path
) -> None:
    news = folder_of(tmp_path, 4)
    mirror = tmp_path / "mirror"
    shutil.copytree(news, mirror)
    ingest(store, news, mirror)
    # every file of `news` moves into a subfolder: same articles, nothing to retire
    (news / "2024").mkdir()
    for path in sorted(news.glob("*.md")):
        path.rename(news / "2024" / path.name)
    report = ingest(store, news, mirror)
    assert (report.retired, report.held) == (0, ())
    # `news` empties, but `mirror` still has every article
    empty(news)
    report = ingest(store, news, mirror)
    assert (report.retired, report.held) == (0, ())
    assert store.article_count() == 4


async def test_the_bots_rescan_logs_one_line_and_keeps_the_articles(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    news = folder_of(tmp_path, 3)
    ingest(store, news)
    empty(news)
    settings = Settings.model_validate({"articles_dir": news, "database": store.path})
    astore = AsyncStore(store, GuildDefaults.from_settings(settings))
    bot = NewsBot(settings=settings, store=astore, index=None, clock=lambda: NOW, rescan=False)
    try:
        with caplog.at_level(logging.INFO, logger="bot.discord.app"):
            await bot.rescan_articles()
    finally:
        astore.close()
    held = [
        r for r in caplog.records if r.name == "bot.discord.app" and r.levelno == logging.WARNING
    ]
    assert len(held) == 1
    assert str(news) in held[0].getMessage()
    assert "3 of its 3 articles" in held[0].getMessage()
    assert "retired=0" in caplog.text
    assert store.article_count() == 3


async def test_the_bots_rescan_loads_the_rest_when_one_file_holds_an_absurd_number(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Once `newsbot run` failed at start-up here, and every re-scan logged a traceback."""
    news = folder_of(tmp_path, 3)
    bad = news / "2024-04-10-news-1.md"
    bad.write_text(
        bad.read_text(encoding="utf-8").replace(
            "heat: 120", "heat: 123456789012345678901234567890"
        ),
        encoding="utf-8",
    )
    settings = Settings.model_validate({"articles_dir": news, "database": store.path})
    astore = AsyncStore(store, GuildDefaults.from_settings(settings))
    bot = NewsBot(settings=settings, store=astore, index=None, clock=lambda: NOW, rescan=False)
    try:
        with caplog.at_level(logging.INFO, logger="bot.discord.app"):
            await bot.rescan_articles()
    finally:
        astore.close()
    assert "added=2 updated=0 retired=0 rejected=1" in caplog.text
    assert "Traceback" not in caplog.text
    assert titles(store) == ["News 0", "News 2"]
