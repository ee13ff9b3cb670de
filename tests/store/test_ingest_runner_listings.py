"""Re-scans skip a folder whose listing digest the store recorded, and never miss a change."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from bot.ingest.folders import walk_folders
from bot.store import Store
from bot.store.ingest import IngestReport
from bot.store.sources import get_source, listing_digests, put_source
from tests.store.test_ingest_runner import counts, ingest, smartable, titles, write


def recorded(store: Store, root: Path) -> dict[str, str]:
    return listing_digests(store.conn, str(root.resolve()))


def news_folder(tmp_path: Path, files: int = 3) -> Path:
    news = tmp_path / "news"
    for n in range(files):
        write(news / f"2024-04-10-story-{n}.md", smartable(f"story-{n}"), mtime=1_700_000_000)
    write(news / "sub" / "2024-04-10-deep.md", smartable("deep"), mtime=1_700_000_000)
    return news


def test_every_scanned_folder_gets_its_digest_once_the_store_matches(
    store: Store, tmp_path: Path
) -> None:
    news = news_folder(tmp_path)
    ingest(store, news)
    digests = recorded(store, news)
    listings = [listing for _, listing in walk_folders(str(news.resolve()))]
    assert digests == {
        listing.folder: listing.digest() for listing in listings if not isinstance(listing, OSError)
    }
    assert len(digests) == 2
    assert counts(ingest(store, news)) == (4, 0, 0, 4, 0, 0)


def test_a_file_rewritten_in_place_is_seen(store: Store, tmp_path: Path) -> None:
    news = news_folder(tmp_path)
    ingest(store, news)
    ingest(store, news)  # the digests are in use now
    path = news / "2024-04-10-story-1.md"
    write(path, smartable("story-1", title="Rewritten"), mtime=1_700_000_500)
    assert counts(ingest(store, news)) == (4, 0, 1, 3, 0, 0)
    assert "Rewritten" in titles(store)


def test_a_same_size_rewrite_with_a_new_mtime_is_seen(store: Store, tmp_path: Path) -> None:
    news = news_folder(tmp_path)
    ingest(store, news)
    path = news / "2024-04-10-story-2.md"
    text = smartable("story-2", title="Title AAAA")
    write(path, text, mtime=1_700_000_000)
    ingest(store, news)
    write(path, text.replace("Title AAAA", "Title BBBB"), mtime=1_700_000_001)
    assert ingest(store, news).updated == 1
    assert "Title BBBB" in titles(store)


def test_added_renamed_and_deleted_files_are_seen(store: Store, tmp_path: Path) -> None:
    news = news_folder(tmp_path)
    ingest(store, news)
    write(news / "2024-04-11-new.md", smartable("new"), mtime=1_700_000_000)
    assert ingest(store, news).added == 1
    # a rename keeps size and mtime: only the names tell
    os.rename(news / "2024-04-11-new.md", news / "2024-04-11-renamed.md")
    report = ingest(store, news)
    assert (report.scanned, report.added, report.retired) == (5, 0, 0)
    assert get_source(store.conn, str((news / "2024-04-11-new.md").resolve())) is None
    (news / "2024-04-10-story-0.md").unlink()
    assert ingest(store, news).retired == 1
    assert counts(ingest(store, news)) == (4, 0, 0, 4, 0, 0)


def test_rejected_files_are_reported_on_every_run(store: Store, tmp_path: Path) -> None:
    news = news_folder(tmp_path)
    write(news / "b-broken.md", "---\ntitle: [unclosed\n---\n")
    write(news / "a-notes.md", "just notes\n")
    first = ingest(store, news)
    for _ in range(2):  # the second re-scan skips the folder by its digest
        again = ingest(store, news)
        assert [(r.path, r.error) for r in again.rejected] == [
            (r.path, r.error) for r in first.rejected
        ]
        assert counts(again) == (6, 0, 0, 4, 0, 2)


def test_any_change_to_a_folders_rows_forgets_its_digest(store: Store, tmp_path: Path) -> None:
    news = news_folder(tmp_path)
    ingest(store, news)
    folder = str(news.resolve())
    assert folder in recorded(store, news)
    # another writer (say, a bot's own re-scan) records an older state of one file
    path = str((news / "2024-04-10-story-0.md").resolve())
    source = get_source(store.conn, path)
    assert source is not None
    with store.transaction():
        put_source(store.conn, replace(source, mtime_ns=1))
    assert folder not in recorded(store, news)
    assert str((news / "sub").resolve()) in recorded(store, news)  # other folders keep theirs
    report = ingest(store, news)  # compared file by file: the file is read again
    assert (report.updated + report.unchanged, report.scanned) == (4, 4)
    assert get_source(store.conn, path).mtime_ns == 1_700_000_000 * 10**9  # type: ignore[union-attr]
    assert folder in recorded(store, news)


def test_a_timestamp_past_2262_does_not_stop_the_scan(store: Store, tmp_path: Path) -> None:
    news = news_folder(tmp_path)
    far = news / "2024-04-10-story-0.md"
    try:
        os.utime(far, ns=(2**63 + 10**18, 2**63 + 10**18))
    except (OSError, OverflowError):
        pytest.skip("this file system cannot store such a timestamp")
    if far.stat().st_mtime_ns < 2**63:
        pytest.skip("this file system clamps such a timestamp")
    first: IngestReport = ingest(store, news)
    assert first.added == 4
    assert counts(ingest(store, news)) == (4, 0, 0, 4, 0, 0)
