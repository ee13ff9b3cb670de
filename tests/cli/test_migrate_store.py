"""`newsbot migrate-store`: a whole store, SQLite → PostgreSQL → SQLite, nothing lost."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import Store, cluster, journal, ledger
from bot.store.guilds import GuildDefaults, claim_due, get_guild, set_meta, update_settings
from bot.store.ingest import ingest_folders
from bot.store.source_state import SourceState, get_state, put_state
from bot.store.sources import listing_digests
from tests.store.test_ingest_runner import MAX, smartable, write

NOW = datetime(2024, 4, 10, 12, 0, tzinfo=UTC)
DEFAULTS = GuildDefaults.of(
    time=time(9, 0),
    timezone="UTC",
    weekdays=frozenset(range(7)),
    per_topic=5,
    min_quality=0,
    max_per_provider=2,
    lookback_hours=24,
)


def populate(path: Path, news: Path) -> None:
    """A store with some of everything: articles, files, folder digests, settings, ledger,
    runs, a claim, source state and meta."""
    for n in range(6):
        write(news / f"2024-04-10-story-{n}.md", smartable(f"story-{n}", title=f"Story {n}"))
    write(news / "bad.md", "not an article")
    with Store.open(path) as store:
        ingest_folders(store, None, [news], max_file_bytes=MAX, now=NOW)
        ingest_folders(store, None, [news], max_file_bytes=MAX, now=NOW)  # records digests
        update_settings(store.conn, 42, {"channel_id": 7, "topics": ("AI",)}, DEFAULTS, now=NOW)
        update_settings(store.conn, 43, {"channel_id": 8, "paused": True}, DEFAULTS, now=NOW)
        [claim] = claim_due(store.conn, DEFAULTS, now=NOW + timedelta(days=1))
        ids = [a.id for a in store.articles_between(NOW.replace(day=1), NOW.replace(day=20))]
        run = ledger.DigestRun(
            "m:1", 42, 7, "manual", "pending", NOW, NOW, ({"content": "x"},), 0, None, NOW
        )
        run = journal.begin(store.conn, run, {ids[0]: 0, ids[1]: 0}, now=NOW)
        journal.sent(store.conn, run, 0, 999, now=NOW, result="posted")
        assert claim.run_key
        set_meta(store.conn, "commands_hash", "abc")
        put_state(
            store.conn, SourceState("articles", "local", str(news), None, NOW, None, None, 0, None)
        )


def test_a_store_goes_to_postgresql_and_back_unchanged(
    tmp_path: Path, pg_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first, back = tmp_path / "first.sqlite3", tmp_path / "back.sqlite3"
    news = tmp_path / "news"
    populate(first, news)
    url = pg_database
    assert main(["migrate-store", str(first), url, "--json"]) == 0
    there = json.loads(capsys.readouterr().out)["rows"]
    assert main(["migrate-store", url, str(back), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)["rows"]
    assert there == again
    assert there["articles"] == 6
    assert there["sources"] == 7
    assert there["guilds"] == 2
    assert there["delivery_ledger"] == 2
    assert there["digest_runs"] == 1
    assert there["digest_claims"] == 1
    assert there["source_state"] == 1
    assert there["source_dirs"] == 1
    with Store.open(first) as a, Store.open(back) as b:
        assert a.store_id == b.store_id
        assert a.current_rev() == b.current_rev()
        window = (NOW.replace(day=1), NOW.replace(day=20))
        assert a.articles_between(*window) == b.articles_between(*window)
        assert get_guild(a.conn, 42, DEFAULTS) == get_guild(b.conn, 42, DEFAULTS)
        assert ledger.get_run(a.conn, "m:1") == ledger.get_run(b.conn, "m:1")
        assert ledger.posted_at(a.conn, 7) == ledger.posted_at(b.conn, 7)
        assert get_state(a.conn, "articles") == get_state(b.conn, "articles")
        root = str(news.resolve())
        assert listing_digests(a.conn, root) == listing_digests(b.conn, root)


def test_a_destination_with_data_is_refused_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    populate(first, tmp_path / "news")
    populate(second, tmp_path / "news2")
    assert main(["migrate-store", str(first), str(second)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "already holds data" in line
    assert "empty database" in line


def test_an_unreachable_server_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "a.sqlite3"
    populate(first, tmp_path / "news")
    url = "postgresql://nobody@127.0.0.1:1/none"
    assert main(["migrate-store", str(first), url]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("newsbot migrate-store: cannot connect to postgresql://")


def test_a_missing_source_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate-store", str(tmp_path / "none.sqlite3"), str(tmp_path / "b")]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "no database at" in line


def test_the_running_processes_are_not_copied(
    tmp_path: Path, pg_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The process registry and the deliverer lease belong to the bot running on the source:
    the bot started on the destination registers anew and takes the lease there."""
    first = tmp_path / "first.sqlite3"
    populate(first, tmp_path / "news")
    info = cluster.ProcessInfo("host-a:100:aaaaaa", "host-a", 100, None, None, "1.0")
    with Store.open(first) as store:
        cluster.register(store.conn, info, now_us=1)
        assert cluster.acquire(store.conn, info.process_id, now_us=1, ttl_us=10**15)
    assert main(["migrate-store", str(first), pg_database, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert "bot_processes" not in rows
    assert "leases" not in rows
    with Store.open(pg_database) as copied:
        assert cluster.processes(copied.conn) == []
        assert cluster.get_lease(copied.conn) is None
        assert cluster.acquire(copied.conn, "host-b:200:bbbbbb", now_us=2, ttl_us=10)
