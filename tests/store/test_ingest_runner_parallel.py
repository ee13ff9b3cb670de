"""The fast paths of a cold ingest: worker processes, batched inserts, indexing from the parsed
values. Each must leave the store and the search index exactly as the plain path does."""

from __future__ import annotations

import shutil
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.articles_gen import generate_folder
from bot.core.models import Article
from bot.ingest import parse_related
from bot.search.index import SearchIndex
from bot.store import Store
from bot.store.ingest import BATCH_FILES, IngestReport, ingest_folders
from tests.engines import another_database

NOW = datetime(2027, 1, 1, tzinfo=UTC)
MAX = 1_048_576
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _ingest(
    database: Path | str, index_dir: Path, folder: Path, pool_min_files: int | None
) -> tuple[Store, SearchIndex, IngestReport]:
    store = Store.open(database)
    index = SearchIndex.open(index_dir)
    report = ingest_folders(
        store, index, [folder], max_file_bytes=MAX, now=NOW, pool_min_files=pool_min_files
    )
    return store, index, report


def _everything(store: Store) -> list[tuple[Article, str]]:
    return [(a, a.related_yaml) for a in store.articles_between(EPOCH, NOW)]


def _found(index: SearchIndex, query: str) -> list[str]:
    return [hit.article.id for hit in index.search(query, now=NOW, limit=50)]


def test_worker_processes_store_and_index_what_one_process_does(
    database: Path | str, tmp_path: Path
) -> None:
    folder = tmp_path / "news"
    paths = generate_folder(folder, 40, seed=7)
    shutil.copy(paths[0], folder / "copy-of-the-first.md")  # one article, two files
    (folder / "broken.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")

    with ExitStack() as stack:
        other = stack.enter_context(another_database(database, tmp_path, "pooled"))
        serial, serial_index, plain = _ingest(database, tmp_path / "serial", folder, None)
        pooled, pooled_index, fast = _ingest(other, tmp_path / "pooled", folder, 1)
        stack.callback(serial.close)
        stack.callback(pooled.close)

        assert (fast.scanned, fast.added, fast.updated, fast.unchanged) == (
            plain.scanned,
            plain.added,
            plain.updated,
            plain.unchanged,
        )
        assert [r.error for r in fast.rejected] == [r.error for r in plain.rejected]
        assert fast.added == 40
        assert _everything(pooled) == _everything(serial)
        assert sum(len(parse_related(a.related_yaml)) for a, _ in _everything(pooled)) > 0
        assert pooled_index.doc_count() == serial_index.doc_count() == 40
        for word in ("launch", "season", "copilot", "rocket"):
            assert sorted(_found(pooled_index, word)) == sorted(_found(serial_index, word))

        warm = ingest_folders(
            pooled, pooled_index, [folder], max_file_bytes=MAX, now=NOW, pool_min_files=1
        )
        assert (warm.added, warm.updated, warm.unchanged) == (0, 0, 41)


def test_cold_ingest_replaces_an_index_left_by_another_store(
    database: Path | str, tmp_path: Path
) -> None:
    old_folder, new_folder = tmp_path / "old", tmp_path / "new"
    generate_folder(old_folder, 5, seed=1)
    generate_folder(new_folder, 6, seed=2)
    first = Store.open(database)
    index = SearchIndex.open(tmp_path / "index")
    ingest_folders(first, index, [old_folder], max_file_bytes=MAX, now=NOW)
    first.close()

    with ExitStack() as stack:
        second = Store.open(stack.enter_context(another_database(database, tmp_path, "second")))
        stack.callback(second.close)
        ingest_folders(second, index, [new_folder], max_file_bytes=MAX, now=NOW)
        ids = {a.id for a in second.articles_between(EPOCH, NOW)}
        assert index.doc_count() == len(ids) == 6
        assert {hit.article.id for hit in index.search("the", now=NOW, limit=50)} <= ids


def test_an_index_behind_the_store_catches_up_during_ingest(
    database: Path | str, tmp_path: Path
) -> None:
    folder = tmp_path / "news"
    generate_folder(folder, 4, seed=3)
    store = Store.open(database)
    ingest_folders(store, None, [folder], max_file_bytes=MAX, now=NOW)  # no index yet
    generate_folder(tmp_path / "more", 3, seed=4)
    index = SearchIndex.open(tmp_path / "index")
    ingest_folders(store, index, [folder, tmp_path / "more"], max_file_bytes=MAX, now=NOW)
    assert index.doc_count() == store.article_count() == 7
    store.close()


def test_a_newer_copy_in_a_later_batch_is_indexed_once(
    database: Path | str, tmp_path: Path
) -> None:
    folder = tmp_path / "news"
    paths = generate_folder(folder, BATCH_FILES + 5, seed=5, related="none")
    copy = folder / "zz-newer-copy.md"  # sorts last: written in the second batch
    copy.write_bytes(paths[0].read_bytes().replace(b"\nexcerpt: ", b"\nexcerpt: Quixotically. ", 1))
    removed = sum(b"\nremoved: true\n" in path.read_bytes() for path in paths)
    store, index, report = _ingest(database, tmp_path / "index", folder, None)
    assert (report.added, report.updated) == (BATCH_FILES + 5 - removed, 1)
    article_id = next(iter(_found(index, "quixotically")))
    assert store.get_article(article_id) is not None
    assert index.doc_count() == store.article_count() == BATCH_FILES + 5 - removed
    assert _found(index, "quixotically") == [article_id]
    store.close()
