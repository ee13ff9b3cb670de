"""The `sources` table: which file fed which article, and the file's size/mtime at last parse;
and `source_dirs`: the digest of each folder's listing when its rows last matched it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.engine import Connection, insert_many


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One article file as last seen; `error` is set when the file was rejected."""

    path: str
    dir: str
    article_id: str | None
    mtime_ns: int
    size: int
    digest: str | None
    removed: bool
    error: str | None


_COLUMNS = "path, dir, article_id, mtime_ns, size, digest, removed, error"


def _record(row: tuple[object, ...]) -> SourceRecord:
    path, folder, article_id, mtime_ns, size, digest, removed, error = row
    return SourceRecord(
        path=str(path),
        dir=str(folder),
        article_id=None if article_id is None else str(article_id),
        mtime_ns=int(mtime_ns),  # type: ignore[call-overload]
        size=int(size),  # type: ignore[call-overload]
        digest=None if digest is None else str(digest),
        removed=bool(removed),
        error=None if error is None else str(error),
    )


def sources_in_dir(conn: Connection, folder: str) -> dict[str, SourceRecord]:
    """The files recorded directly inside `folder`, by path."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM sources WHERE dir = ?", (folder,))  # noqa: S608 - names are constants of this module; values are bound parameters
    return {record.path: record for record in map(_record, rows)}


def stats_in_dir(conn: Connection, folder: str) -> dict[str, tuple[int, int, str | None]]:
    """(mtime_ns, size, error) of the files recorded directly inside `folder`, by path (cheap:
    what a re-scan needs to skip unchanged files)."""
    rows = conn.execute("SELECT path, mtime_ns, size, error FROM sources WHERE dir = ?", (folder,))
    return {path: (mtime_ns, size, error) for path, mtime_ns, size, error in rows}


def rejected_in_dir(conn: Connection, folder: str) -> list[tuple[str, str]]:
    """(path, error) of the rejected files recorded directly inside `folder`, by path."""
    rows = conn.execute(
        "SELECT path, error FROM sources WHERE dir = ? AND error IS NOT NULL ORDER BY path",
        (folder,),
    )
    return [(str(path), str(error)) for path, error in rows]


def recorded_stats(conn: Connection, folder: str) -> set[tuple[str, int, int]]:
    """(path, mtime_ns, size) of every file recorded directly inside `folder`."""
    rows = conn.execute("SELECT path, mtime_ns, size FROM sources WHERE dir = ?", (folder,))
    return set(rows)


def _below(root: str) -> tuple[str, str]:
    """[prefix, after): the folder names strictly below `root`, as a range without LIKE
    escaping ('0' is the character after '/')."""
    prefix = root.rstrip("/") + "/"
    return prefix, prefix[:-1] + "0"


def listing_digests(conn: Connection, root: str) -> dict[str, str]:
    """The recorded listing digest of `root` and of every folder below it, by folder."""
    rows = conn.execute(
        "SELECT dir, listing FROM source_dirs WHERE dir = ? OR (dir >= ? AND dir < ?)",
        (root, *_below(root)),
    )
    return {str(folder): str(digest) for folder, digest in rows}


def put_listing_digest(conn: Connection, folder: str, digest: str) -> None:
    """Record that the folder's rows match the listing of this digest (until a row changes)."""
    conn.execute(
        "INSERT INTO source_dirs (dir, listing) VALUES (?, ?) "
        "ON CONFLICT (dir) DO UPDATE SET listing = excluded.listing",
        (folder, digest),
    )


def get_source(conn: Connection, path: str) -> SourceRecord | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM sources WHERE path = ?", (path,)).fetchone()  # noqa: S608 - names are constants of this module; values are bound parameters
    return None if row is None else _record(row)


def _where_in(conn: Connection, column: str, values: list[str]) -> list[SourceRecord]:
    """The records whose `column` is one of `values`, in a statement per 500 values."""
    found: list[SourceRecord] = []
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM sources WHERE {column} IN ({marks})",  # noqa: S608 - names are constants of this module; values are bound parameters
            chunk,
        )
        found.extend(map(_record, rows))
    return found


def sources_at(conn: Connection, paths: list[str]) -> dict[str, SourceRecord]:
    """`get_source` of many paths at once: the recorded ones among them, by path."""
    return {record.path: record for record in _where_in(conn, "path", paths)}


def dirs_under(conn: Connection, root: str) -> list[str]:
    """Every recorded folder equal to `root` or below it, in order."""
    prefix, after = _below(root)
    found = conn.execute("SELECT EXISTS (SELECT 1 FROM sources WHERE dir = ?)", (root,))
    folders = [root] if found.fetchone()[0] else []
    # each step jumps to the next folder in the `dir` index: a look-up per folder, not per file
    rows = conn.execute(
        "WITH RECURSIVE below(dir) AS ("
        " SELECT (SELECT min(dir) FROM sources WHERE dir >= ? AND dir < ?)"
        " UNION ALL"
        " SELECT (SELECT min(dir) FROM sources WHERE dir > below.dir AND dir < ?)"
        " FROM below WHERE below.dir IS NOT NULL"
        ") SELECT dir FROM below WHERE dir IS NOT NULL",
        (prefix, after, after),
    )
    return folders + [str(row[0]) for row in rows]


_ON_SOURCE_CONFLICT = (
    "ON CONFLICT (path) DO UPDATE SET dir = excluded.dir, article_id = excluded.article_id, "
    "mtime_ns = excluded.mtime_ns, size = excluded.size, digest = excluded.digest, "
    "removed = excluded.removed, error = excluded.error"
)


def _values(r: SourceRecord) -> tuple[object, ...]:
    return (r.path, r.dir, r.article_id, r.mtime_ns, r.size, r.digest, int(r.removed), r.error)


def put_source(conn: Connection, record: SourceRecord) -> None:
    put_sources(conn, [record])


def put_sources(conn: Connection, records: list[SourceRecord]) -> None:
    """`put_source` for many records (of distinct paths) in bulk (`insert_many`)."""
    insert_many(conn, "sources", _COLUMNS, [_values(r) for r in records], _ON_SOURCE_CONFLICT)


def delete_source(conn: Connection, path: str) -> None:
    conn.execute("DELETE FROM sources WHERE path = ?", (path,))


def _speaks_first(record: SourceRecord) -> tuple[bool, int, str]:
    # a readable file first, then the newest, then by path (by code point, whatever the engine's
    # collation: as SQLite's BINARY orders UTF-8)
    return (record.error is not None, -record.mtime_ns, record.path)


def best_source(conn: Connection, article_id: str) -> SourceRecord | None:
    """The file that speaks for an article: a readable one first, then the newest, then by path."""
    return best_sources(conn, [article_id]).get(article_id)


def best_sources(conn: Connection, article_ids: list[str]) -> dict[str, SourceRecord]:
    """`best_source` of many articles at once (those with a file), by article id."""
    best: dict[str, SourceRecord] = {}
    for record in _where_in(conn, "article_id", article_ids):
        key = str(record.article_id)
        if key not in best or _speaks_first(record) < _speaks_first(best[key]):
            best[key] = record
    return best


def active_articles_under(conn: Connection, root: str) -> int:
    """How many active articles have a file recorded in `root` or below it."""
    row = conn.execute(
        "SELECT count(DISTINCT s.article_id) FROM sources s JOIN articles a ON a.id = s.article_id "
        "WHERE a.retired_at_us IS NULL AND (s.dir = ? OR (s.dir >= ? AND s.dir < ?))",
        (root, *_below(root)),
    ).fetchone()
    return int(row[0])


def paths_of_article(conn: Connection, article_id: str) -> list[str]:
    """Every file recorded for an article."""
    rows = conn.execute("SELECT path FROM sources WHERE article_id = ?", (article_id,))
    return [str(path) for (path,) in rows]
