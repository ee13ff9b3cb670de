"""The `sources` table helpers a re-scan relies on: folders under a root, listing digests."""

from __future__ import annotations

from bot.store import Store
from bot.store.sources import (
    SourceRecord,
    delete_source,
    dirs_under,
    listing_digests,
    put_listing_digest,
    put_source,
    put_sources,
)


def source(folder: str, name: str, mtime_ns: int = 1) -> SourceRecord:
    return SourceRecord(f"{folder}/{name}", folder, None, mtime_ns, 10, None, False, None)


def test_folders_under_a_root_are_exactly_it_and_its_descendants(store: Store) -> None:
    folders = ["/n", "/n/a", "/n/a/b", "/n/c", "/n-other", "/nx", "/m", "/n0"]
    with store.transaction():
        put_sources(store.conn, [source(f, f"{i}.md") for f in folders for i in range(3)])
    assert dirs_under(store.conn, "/n") == ["/n", "/n/a", "/n/a/b", "/n/c"]
    assert dirs_under(store.conn, "/n/a") == ["/n/a", "/n/a/b"]
    assert dirs_under(store.conn, "/n/a/") == ["/n/a/b"]  # a root is given without its slash
    assert dirs_under(store.conn, "/absent") == []
    assert dirs_under(store.conn, "/") == sorted(folders)


def test_a_listing_digest_lasts_until_a_row_of_its_folder_changes(store: Store) -> None:
    with store.transaction():
        put_sources(store.conn, [source("/n", "a.md"), source("/m", "b.md")])
        put_listing_digest(store.conn, "/n", "digest-n")
        put_listing_digest(store.conn, "/m", "digest-m")
    assert listing_digests(store.conn, "/") == {"/n": "digest-n", "/m": "digest-m"}
    with store.transaction():  # an insert or replace
        put_source(store.conn, source("/n", "a.md", mtime_ns=2))
    assert listing_digests(store.conn, "/") == {"/m": "digest-m"}
    with store.transaction():
        put_listing_digest(store.conn, "/n", "digest-n")
        store.conn.execute("UPDATE sources SET size = 11 WHERE dir = '/m'")
    assert listing_digests(store.conn, "/") == {"/n": "digest-n"}
    with store.transaction():
        delete_source(store.conn, "/n/a.md")
    assert listing_digests(store.conn, "/") == {}
