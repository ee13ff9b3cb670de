"""The SQLite store: one file, WAL mode, versioned migrations, the single source of truth.

Synchronous `sqlite3` on purpose: the bot calls it off the event loop. Every datetime going in or
out is timezone-aware UTC; the conversion between rows and `Article` values lives here only.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from bot.core.models import Article, Coverage, Image, Provider
from bot.core.urls import clean_url
from bot.ingest.identity import article_id as link_id
from bot.ingest.identity import canonical_url
from bot.store.engine import (
    Connection,
    Database,
    Migration,
    PgConnection,
    begin,
    connect_pg,
    insert_many,
    is_url,
    load_migrations,
    pg_lock_migrations,
    pg_schema_version,
    pg_set_schema_version,
    redacted,
    update_many,
)

try:  # ISA-L's deflate, where it has wheels: ~3.5x faster than zlib's level 1 at the same ratio
    from isal.isal_zlib import compress as _deflate
    from isal.isal_zlib import decompress as _inflate
except ImportError:  # elsewhere the standard library's; both write and read the same zlib format
    from zlib import compress as _deflate
    from zlib import decompress as _inflate

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ArticleState = Literal["absent", "active", "retired"]


class StoreError(Exception):
    """The database cannot be used; the message says why (file, schema version, ...)."""


class _OlderSchema(StoreError):
    """A read-only open met a database that still needs a migration."""


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


@dataclass(frozen=True, slots=True)
class ArticleChange:
    """One article row changed since some rev: `article` is None when it is retired or purged."""

    rev: int
    article_id: str
    article: Article | None


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article for `Store.insert_new_articles`; `related_z` as made by `compress_related`."""

    article: Article
    source_path: str | None
    source_digest: str | None
    retired_at: datetime | None
    related_z: bytes | None


def to_us(value: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (a naive one is refused)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: the store only takes timezone-aware times")
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(value: int) -> datetime:
    """The aware UTC datetime of microseconds since the epoch."""
    seconds, micros = divmod(value, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)


def _statements(sql: str) -> Iterator[str]:
    """Split a script into complete statements (triggers with BEGIN...END stay whole)."""
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        raise StoreError(f"incomplete SQL statement at the end of a migration: {buffer[:80]!r}")


_ARTICLE_COLUMNS = (
    "id, title, excerpt, url, published_us, kind, provider_name, provider_domain, "
    "provider_icon_url, topics, quality, heat, trending, images, original_url, video_url, "
    "related_count, related_z"
)

# what reads select: the written columns plus the story grouping (`story_id`, `coverage`)
_READ_COLUMNS = _ARTICLE_COLUMNS + ", story_id, coverage"


# an upsert keeps the story grouping only when the words, time and related list are the same
# (qualified names and a NULL-safe comparison both engines accept)
_SAME_CONTENT = (
    "articles.title = excluded.title AND articles.excerpt = excluded.excerpt "
    "AND articles.published_us = excluded.published_us "
    "AND (articles.related_z = excluded.related_z "
    "OR (articles.related_z IS NULL AND excluded.related_z IS NULL))"
)
_SKIP_CONFLICT = "ON CONFLICT DO NOTHING"
_NOT_GIVEN: Any = object()
_WRITTEN_COLUMNS = f"{_ARTICLE_COLUMNS}, source_path, source_digest, retired_at_us, rev"
# what an upsert of an article replaces (`put_articles`)
_ON_ARTICLE_CONFLICT = (
    "ON CONFLICT (id) DO UPDATE SET title = excluded.title, excerpt = excluded.excerpt, "
    "url = excluded.url, published_us = excluded.published_us, kind = excluded.kind, "
    "provider_name = excluded.provider_name, provider_domain = excluded.provider_domain, "
    "provider_icon_url = excluded.provider_icon_url, topics = excluded.topics, "
    "quality = excluded.quality, heat = excluded.heat, trending = excluded.trending, "
    "images = excluded.images, original_url = excluded.original_url, "
    "video_url = excluded.video_url, related_count = excluded.related_count, "
    "related_z = excluded.related_z, source_path = excluded.source_path, "
    # new words, time or related list: the article is grouped again (bot.store.stories)
    f"story_id = CASE WHEN {_SAME_CONTENT} THEN articles.story_id END, "
    f"coverage = CASE WHEN {_SAME_CONTENT} THEN articles.coverage END, "
    "source_digest = excluded.source_digest, retired_at_us = excluded.retired_at_us, "
    "rev = excluded.rev"
)
# `json.dumps(value, ensure_ascii=False)`, without building an encoder per call
_TO_JSON = json.JSONEncoder(ensure_ascii=False).encode


def compress_related(related_yaml: str) -> bytes | None:
    """How a `related` block is stored: zlib format, level 1 (releases the GIL: callers may run
    it in a thread)."""
    return _deflate(related_yaml.encode("utf-8"), 1) if related_yaml else None


def _article_values(article: Article, related_z: bytes | None = _NOT_GIVEN) -> tuple[Any, ...]:
    images = _TO_JSON([[i.url, i.width, i.height] for i in article.images])
    return (
        article.id,
        article.title,
        article.excerpt,
        article.url,
        to_us(article.published),
        article.kind,
        article.provider.name,
        article.provider.domain,
        article.provider.icon_url,
        _TO_JSON(list(article.topics)),
        article.quality,
        article.heat,
        int(article.trending),
        images,
        article.original_url,
        article.video_url,
        article.related_count,
        compress_related(article.related_yaml) if related_z is _NOT_GIVEN else related_z,
    )


def encode_coverage(items: Sequence[Coverage]) -> str | None:
    """How an article's confirmed coverage is stored (JSON; None when there is none)."""
    if not items:
        return None
    return _TO_JSON(
        [
            [
                c.title,
                c.url,
                c.provider,
                c.domain,
                None if c.published is None else to_us(c.published),
                c.quality,
            ]
            for c in items
        ]
    )


def decode_coverage(text: str | None) -> tuple[Coverage, ...]:
    if not text:
        return ()
    return tuple(
        Coverage(title, url, provider, domain, None if us is None else from_us(us), quality)
        for title, url, provider, domain, us, quality in json.loads(text)
    )


def _row_to_article(row: Sequence[Any]) -> Article:
    related_z = row[17]
    grouped = len(row) > 19
    return Article(
        id=row[0],
        title=row[1],
        excerpt=row[2],
        url=row[3],
        published=from_us(row[4]),
        kind=row[5],
        provider=Provider(name=row[6], domain=row[7], icon_url=row[8]),
        topics=tuple(json.loads(row[9])),
        quality=row[10],
        heat=row[11],
        trending=bool(row[12]),
        images=tuple(Image(url, width, height) for url, width, height in json.loads(row[13])),
        original_url=row[14],
        video_url=row[15],
        related_count=row[16],
        related_yaml=_inflate(related_z).decode("utf-8") if related_z else "",
        story_id=row[18] if grouped else None,
        coverage=decode_coverage(row[19]) if grouped else (),
    )


@dataclass(frozen=True, slots=True)
class FoundArticle:
    """An article looked up by link, active or retired (`retired_at` set); `removed` when a
    file of it says `removed: true` (else a retired article's files are gone)."""

    article: Article
    retired_at: datetime | None
    removed: bool


def _link_variants(text: str) -> list[str]:
    """Spellings under which a pasted link may be stored (`url`, `original_url`, `video_url`)."""
    cleaned = clean_url(text) or text.strip()
    canonical = canonical_url(cleaned)
    variants = {text.strip(), cleaned, canonical}
    rest = canonical.removeprefix("https://")
    for host in (rest, f"www.{rest}"):
        for scheme in ("https://", "http://"):
            variants.update((scheme + host, scheme + host + "/"))
    return sorted(v for v in variants if v)


class Store:
    """Articles (and, through other modules, guild settings and the delivery ledger) in one
    database: a SQLite file (the default) or PostgreSQL (`database` a `postgresql://` URL)."""

    def __init__(self, conn: Connection, path: Database) -> None:
        self.conn = conn
        # a SQLite file's path, or the PostgreSQL URL
        self.path = path
        self.engine = "sqlite" if isinstance(conn, sqlite3.Connection) else "postgresql"
        # inside `transaction()`, revs are counted here and written once at commit
        self._in_transaction = False
        self._rev: int | None = None

    @property
    def location(self) -> str:
        """Where the data is, as it may be shown (a URL without its password)."""
        return redacted(self.path)

    @classmethod
    def open(cls, path: Database) -> Store:
        """Open (creating the folder and file if needed) and bring the schema up to date."""
        if is_url(path):
            return cls._open_pg(str(path))
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None, timeout=30.0
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 30000")
            store = cls(conn, path)
            store.migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{path} is not a usable newsbot database: {exc}") from exc
        except StoreError:
            conn.close()
            raise
        return store

    @classmethod
    def _open_pg(cls, url: str, *, migrate: bool = True) -> Store:
        import psycopg

        try:
            conn = connect_pg(url)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to {redacted(url)}: {_first_line(exc)}") from exc
        try:
            store = cls(conn, url)
            if migrate:
                store.migrate()
            else:
                store._check_version()
        except psycopg.Error as exc:
            conn.close()
            raise StoreError(f"{redacted(url)} is not a usable newsbot database: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def open_readonly(cls, path: Database) -> Store:
        """Open an existing database for reading only: no folder, file or migration is written,
        so it works where this user may not write (another owner, a read-only mount).

        In a folder where SQLite cannot create its WAL index, and with no WAL file left beside
        the database (everything is in the file itself), it is opened as immutable.
        A PostgreSQL database is opened as it is (migrated first if it is older).
        """
        if is_url(path):
            try:
                return cls._open_pg(str(path), migrate=False)
            except _OlderSchema:
                return cls._open_pg(str(path))
        path = Path(path)
        if not path.is_file():
            raise StoreError(f"no database at {path}: run `newsbot ingest` first")
        uri = path.resolve().as_uri()
        try:
            return cls._connect_readonly(path, f"{uri}?mode=ro")
        except _OlderSchema:  # written by an older newsbot: migrate (needs write access once)
            return cls.open(path)
        except sqlite3.OperationalError as exc:
            if path.with_name(path.name + "-wal").exists():
                raise StoreError(f"cannot read database {path}: {exc}") from exc
            try:
                return cls._connect_readonly(path, f"{uri}?mode=ro&immutable=1")
            except sqlite3.Error as again:
                raise StoreError(f"cannot read database {path}: {again}") from again
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path} is not a usable newsbot database: {exc}") from exc

    @classmethod
    def _connect_readonly(cls, path: Path, uri: str) -> Store:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA query_only = ON")
            conn.execute("PRAGMA busy_timeout = 30000")
            store = cls(conn, path)
            store._check_version()
        except BaseException:
            conn.close()
            raise
        return store

    def reader(self) -> Store:
        """Another connection to the same database, for reads beside this one's writes
        (SQLite in WAL mode lets readers go on while a writer holds its transaction)."""
        if isinstance(self.conn, PgConnection):
            return Store._open_pg(str(self.path), migrate=False)
        return Store._connect_readonly(Path(self.path), Path(self.path).resolve().as_uri())

    def _check_version(self) -> None:
        known = self.known_version()
        if self.schema_version < known:
            raise _OlderSchema(f"database {self.location} needs a migration")
        if self.schema_version > known:
            raise StoreError(
                f"database schema version {self.schema_version} is newer than this "
                f"newsbot knows ({known}): upgrade newsbot"
            )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ---------------------------------------------------------------------------

    def migrations(self) -> list[Migration]:
        """This engine's migrations, in version order."""
        return load_migrations(self.engine)

    def known_version(self) -> int:
        migrations = self.migrations()
        return migrations[-1].version if migrations else 0

    @property
    def schema_version(self) -> int:
        if isinstance(self.conn, PgConnection):
            return pg_schema_version(self.conn)
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction; returns how many ran."""
        migrations = self.migrations()
        known = migrations[-1].version if migrations else 0
        applied = 0
        for migration in migrations:
            if migration.version <= self.schema_version:
                continue
            with self.transaction():
                if isinstance(self.conn, PgConnection):
                    pg_lock_migrations(self.conn)
                # another process may have migrated while we waited for the write lock
                if migration.version <= self.schema_version:
                    continue
                if isinstance(self.conn, PgConnection):
                    self.conn.executescript(migration.sql)
                    pg_set_schema_version(self.conn, migration.version)
                else:
                    for statement in _statements(migration.sql):
                        self.conn.execute(statement)
                    self.conn.execute(f"PRAGMA user_version = {migration.version:d}")
            applied += 1
        if self.schema_version > known:
            raise StoreError(
                f"database schema version {self.schema_version} is newer than this newsbot "
                f"knows ({known}): upgrade newsbot"
            )
        return applied

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction (SQLite: BEGIN IMMEDIATE); nested use joins the outer one."""
        if self.conn.in_transaction:
            yield self.conn
            return
        begin(self.conn)
        self._in_transaction, self._rev = True, None
        try:
            yield self.conn
            self._save_rev()
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        finally:
            self._in_transaction, self._rev = False, None
        self.conn.execute("COMMIT")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside `transaction()`: when the block raises, undo only what it wrote (the
        transaction goes on), then re-raise."""
        self.conn.execute("SAVEPOINT newsbot_row")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO newsbot_row")
            self.conn.execute("RELEASE newsbot_row")
            raise
        self.conn.execute("RELEASE newsbot_row")

    @property
    def store_id(self) -> str:
        """A random id made when the database was created (tells derived data it is stale)."""
        return str(self._meta("store_id"))

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM store_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # -- reading --------------------------------------------------------------------------

    def get_article(self, article_id: str) -> Article | None:
        row = self.conn.execute(
            f"SELECT {_READ_COLUMNS} FROM articles WHERE id = ? AND retired_at_us IS NULL",  # noqa: S608 - names are constants of this module; values are bound parameters
            (article_id,),
        ).fetchone()
        return None if row is None else _row_to_article(row)

    def find_article(self, link: str) -> FoundArticle | None:
        """The article (active or retired) a pasted link names: by the id of its canonical URL,
        else by any of its stored links (webUrl, originalUrl, video) under common spellings."""
        columns = f"{_ARTICLE_COLUMNS}, retired_at_us"
        row = self.conn.execute(
            f"SELECT {columns} FROM articles WHERE id = ?",  # noqa: S608 - constant columns
            (link_id(link.strip(), domain="", title=""),),
        ).fetchone()
        if row is None:
            variants = _link_variants(link)
            marks = ",".join("?" * len(variants))
            row = self.conn.execute(
                f"SELECT {columns} FROM articles WHERE url IN ({marks}) "  # noqa: S608 - marks
                f"OR original_url IN ({marks}) OR video_url IN ({marks}) "
                "ORDER BY retired_at_us IS NOT NULL, id LIMIT 1",
                variants * 3,
            ).fetchone()
        if row is None:
            return None
        removed = self.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM sources WHERE article_id = ? AND removed = 1)", (row[0],)
        ).fetchone()[0]
        retired = None if row[18] is None else from_us(row[18])
        return FoundArticle(_row_to_article(row), retired, bool(removed))

    def get_articles(self, ids: Sequence[str]) -> list[Article]:
        """The active articles among `ids`, in the order asked (unknown or retired ones left out)."""
        found: dict[str, Article] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT {_READ_COLUMNS} FROM articles "  # noqa: S608 - names are constants of this module; values are bound parameters
                f"WHERE id IN ({marks}) AND retired_at_us IS NULL",
                chunk,
            )
            for row in rows:
                found[row[0]] = _row_to_article(row)
        return [found[i] for i in unique if i in found]

    def articles_between(
        self,
        start: datetime,
        end: datetime,
        *,
        topics: Collection[str] | None = None,
        min_quality: int | None = None,
    ) -> list[Article]:
        """Active articles published in [start, end), oldest first, optionally by topic (exact
        names) and minimum quality (0 keeps articles without a quality)."""
        sql = (
            f"SELECT {_READ_COLUMNS} FROM articles "  # noqa: S608 - names are constants of this module; values are bound parameters
            "WHERE retired_at_us IS NULL AND published_us >= ? AND published_us < ?"
        )
        params: list[Any] = [to_us(start), to_us(end)]
        if topics is not None:
            wanted = list(dict.fromkeys(topics))
            if not wanted:
                return []
            marks = ",".join("?" * len(wanted))
            sql += f" AND id IN (SELECT article_id FROM article_topics WHERE topic IN ({marks}))"  # noqa: S608 - names are constants of this module; values are bound parameters
            params.extend(wanted)
        if min_quality is not None and min_quality > 0:
            # an article without a quality passes no positive threshold
            sql += " AND quality >= ?"
            params.append(min_quality)
        sql += " ORDER BY published_us, id"
        return [_row_to_article(row) for row in self.conn.execute(sql, params)]

    def newest_published(self) -> datetime | None:
        row = self.conn.execute(
            "SELECT max(published_us) FROM articles WHERE retired_at_us IS NULL"
        ).fetchone()
        return None if row[0] is None else from_us(row[0])

    def topic_counts(self) -> list[tuple[str, int]]:
        """(topic, active article count), most articles first, then by name."""
        rows = self.conn.execute(
            "SELECT t.topic, count(*) AS n FROM article_topics t "
            "JOIN articles a ON a.id = t.article_id WHERE a.retired_at_us IS NULL "
            "GROUP BY t.topic ORDER BY n DESC, t.topic"
        )
        return [(str(topic), int(n)) for topic, n in rows]

    def article_count(self) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM articles WHERE retired_at_us IS NULL"
        ).fetchone()
        return int(row[0])

    def backup(self, dest: Path) -> None:
        """A consistent copy of the whole database while it is in use (sqlite backup API).

        A PostgreSQL store is backed up with the server's tools (`pg_dump`), or copied to a
        SQLite file with `newsbot migrate-store`."""
        if not isinstance(self.conn, sqlite3.Connection):
            raise StoreError("a PostgreSQL database is backed up with pg_dump (or migrate-store)")
        dest.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(dest)
        try:
            self.conn.backup(target)
        finally:
            target.close()

    # -- writing (used by the ingest runner) ----------------------------------------------

    def current_rev(self) -> int:
        if self._rev is not None:
            return self._rev
        return int(self._meta("article_rev") or 0)

    def _save_rev(self) -> None:
        if self._rev is not None:
            self.conn.execute(
                "UPDATE store_meta SET value = ? WHERE key = 'article_rev'", (str(self._rev),)
            )

    def _next_rev(self) -> int:
        if self._in_transaction:
            self._rev = (self._rev if self._rev is not None else self.current_rev()) + 1
            return self._rev
        row = self.conn.execute(
            "UPDATE store_meta SET value = CAST(value AS BIGINT) + 1 "
            "WHERE key = 'article_rev' RETURNING value"
        ).fetchone()
        return int(row[0])

    def article_state(self, article_id: str) -> tuple[ArticleState, str | None]:
        """Whether the article exists and is active, and the source file its content came from."""
        return self.article_states([article_id]).get(article_id, ("absent", None))

    def article_states(self, ids: Sequence[str]) -> dict[str, tuple[ArticleState, str | None]]:
        """`article_state` of the stored articles among `ids` (absent ones left out), in a
        statement per 500 ids."""
        return {
            article_id: ("active" if retired_us is None else "retired", source_path)
            for article_id, (retired_us, source_path, _) in self._stored(ids).items()
        }

    def _stored(self, ids: Sequence[str]) -> dict[str, tuple[int | None, str | None, str | None]]:
        """(retired_at_us, source_path, source_digest) of the stored articles among `ids`."""
        found: dict[str, tuple[int | None, str | None, str | None]] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for article_id, *row in self.conn.execute(
                "SELECT id, retired_at_us, source_path, source_digest FROM articles "  # noqa: S608 - marks only; values are bound parameters
                f"WHERE id IN ({marks})",
                chunk,
            ):
                found[article_id] = (row[0], row[1], row[2])
        return found

    def put_article(
        self,
        article: Article,
        *,
        source_path: str | None,
        source_digest: str | None,
        retired_at: datetime | None = None,
        related_z: bytes | None = _NOT_GIVEN,
    ) -> ArticleState:
        """Insert or replace an article's content (active, or retired when `retired_at` is given).

        `related_z` is `compress_related(article.related_yaml)` when the caller computed it already.

        Returns the state before the call. Nothing is written (no new rev) when the same source
        content is already stored in the same state.
        """
        if related_z is _NOT_GIVEN:
            related_z = compress_related(article.related_yaml)
        item = NewArticle(article, source_path, source_digest, retired_at, related_z)
        return self.put_articles([item])[0]

    def put_articles(self, items: Sequence[NewArticle]) -> list[ArticleState]:
        """`put_article` for many distinct articles in a few statements (a re-ingest's batch):
        one look-up per 500 ids, then one batch of upserts (on PostgreSQL, one pipeline: no
        round trip per row). Returns each article's state before the call, in order."""
        ids = [item.article.id for item in items]
        if len(set(ids)) != len(ids):
            raise ValueError("put_articles takes each article once")
        stored = self._stored(ids)
        states: list[ArticleState] = []
        rows: list[tuple[Any, ...]] = []
        replaced: list[str] = []
        topics: list[tuple[str, str]] = []
        for item in items:
            article = item.article
            before = stored.get(article.id)
            state: ArticleState = "absent"
            retired_us = None if item.retired_at is None else to_us(item.retired_at)
            if before is not None:
                state = "active" if before[0] is None else "retired"
                same = (before[1], before[2]) == (item.source_path, item.source_digest)
                if same and item.source_digest and (state == "retired") == (retired_us is not None):
                    states.append(state)
                    continue
                if state == "retired" and retired_us is not None:
                    retired_us = before[0]  # still retired: since when it was
                replaced.append(article.id)
            states.append(state)
            values = _article_values(article, item.related_z)
            rev = self._next_rev()
            rows.append((*values, item.source_path, item.source_digest, retired_us, rev))
            topics.extend((topic, article.id) for topic in article.topics)
        insert_many(self.conn, "articles", _WRITTEN_COLUMNS, rows, _ON_ARTICLE_CONFLICT)
        for start in range(0, len(replaced), 500):
            chunk = replaced[start : start + 500]
            self.conn.execute(
                f"DELETE FROM article_topics WHERE article_id IN ({','.join('?' * len(chunk))})",  # noqa: S608 - marks only; values are bound parameters
                chunk,
            )
        insert_many(self.conn, "article_topics", "topic, article_id", topics, _SKIP_CONFLICT)
        return states

    def is_empty(self) -> bool:
        """True when the store has never held an article nor recorded a file (a cold ingest)."""
        row = self.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM articles) OR EXISTS (SELECT 1 FROM sources)"
        ).fetchone()
        return not row[0]

    def insert_new_articles(self, items: Sequence[NewArticle]) -> tuple[int, int]:
        """Insert articles the caller knows are absent (a cold ingest), in a few statements.

        Skips the per-article look-up of `put_article`; an id already stored is an error
        (sqlite3.IntegrityError), never a silent overwrite. Returns the revs (first, last)
        given to them, (0, 0) when `items` is empty.
        """
        if not items:
            return 0, 0
        rows: list[tuple[Any, ...]] = []
        topics: list[tuple[str, str]] = []
        first = 0
        for item in items:
            article = item.article
            rev = self._next_rev()
            first = first or rev
            retired_us = None if item.retired_at is None else to_us(item.retired_at)
            values = _article_values(article, item.related_z)
            rows.append((*values, item.source_path, item.source_digest, retired_us, rev))
            topics.extend((topic, article.id) for topic in article.topics)
        insert_many(self.conn, "articles", _WRITTEN_COLUMNS, rows)
        insert_many(self.conn, "article_topics", "topic, article_id", topics, _SKIP_CONFLICT)
        return first, rows[-1][-1]

    def retire_article(self, article_id: str, now: datetime) -> bool:
        """Retire an active article; True if it was active."""
        state, _ = self.article_state(article_id)
        if state != "active":
            return False
        self.conn.execute(
            "UPDATE articles SET retired_at_us = ?, rev = ? WHERE id = ?",
            (to_us(now), self._next_rev(), article_id),
        )
        return True

    def purge_retired(self, older_than: datetime) -> int:
        """Delete articles retired before `older_than` (retention); returns how many."""
        with self.transaction():
            cursor = self.conn.execute(
                "DELETE FROM articles WHERE retired_at_us IS NOT NULL AND retired_at_us < ?",
                (to_us(older_than),),
            )
        return cursor.rowcount

    def changes_since(
        self, rev: int, *, limit: int = 1000, related: bool = True
    ) -> list[ArticleChange]:
        """Article rows changed after `rev`, by rev (retired ones come without an article).

        `related=False` leaves `related_yaml` empty (cheaper, for the search index).
        """
        columns = _READ_COLUMNS if related else _READ_COLUMNS.replace("related_z", "NULL")
        rows = self.conn.execute(
            f"SELECT rev, retired_at_us, {columns} FROM articles "  # noqa: S608 - names are constants of this module; values are bound parameters
            "WHERE rev > ? ORDER BY rev LIMIT ?",
            (rev, limit),
        ).fetchall()
        return [
            ArticleChange(row[0], row[2], None if row[1] is not None else _row_to_article(row[2:]))
            for row in rows
        ]

    # -- stories (bot.store.stories) ---------------------------------------------------------

    def story_rule(self) -> int:
        """The grouping rule version the stored story ids were computed with (0: none yet)."""
        return int(self._meta("story_rule") or 0)

    def reset_stories(self, rule: int) -> None:
        """Forget every story id and confirmed coverage; record the rule they will be rebuilt with."""
        with self.transaction():
            self.conn.execute(
                "UPDATE articles SET story_id = NULL, coverage = NULL WHERE story_id IS NOT NULL"
            )
            self.conn.execute(
                "INSERT INTO store_meta (key, value) VALUES ('story_rule', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(rule),),
            )

    def oldest_ungrouped(self) -> datetime | None:
        """The publish time of the oldest active article without a story id."""
        row = self.conn.execute(
            "SELECT min(published_us) FROM articles WHERE story_id IS NULL AND retired_at_us IS NULL"
        ).fetchone()
        return None if row[0] is None else from_us(row[0])

    def ungrouped_span(self) -> tuple[datetime | None, datetime | None]:
        """The publish times of the oldest and newest active articles without a story id."""
        row = self.conn.execute(
            "SELECT min(published_us), max(published_us) FROM articles "
            "WHERE story_id IS NULL AND retired_at_us IS NULL"
        ).fetchone()
        return (
            None if row[0] is None else from_us(row[0]),
            None if row[1] is None else from_us(row[1]),
        )

    def count_between(self, start: datetime, end: datetime) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM articles WHERE retired_at_us IS NULL "
            "AND published_us >= ? AND published_us < ?",
            (to_us(start), to_us(end)),
        ).fetchone()
        return int(row[0])

    def story_texts_between(
        self, start: datetime, end: datetime
    ) -> list[tuple[str, str, str, str, str | None, str | None, str, str, datetime, str | None]]:
        """What grouping reads of the active articles published in [start, end), oldest first:
        (id, title, excerpt, url, original_url, video_url, provider name, provider domain,
        published, story_id)."""
        rows = self.conn.execute(
            "SELECT id, title, excerpt, url, original_url, video_url, provider_name, "
            "provider_domain, published_us, story_id FROM articles WHERE retired_at_us IS NULL "
            "AND published_us >= ? AND published_us < ? ORDER BY published_us, id",
            (to_us(start), to_us(end)),
        )
        return [(*row[:8], from_us(row[8]), row[9]) for row in rows]

    def related_blocks(self, ids: Sequence[str]) -> dict[str, str]:
        """The raw `related` blocks of these articles (those that have one)."""
        found: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for article_id, related_z in self.conn.execute(
                f"SELECT id, related_z FROM articles WHERE id IN ({marks}) "  # noqa: S608 - names are constants of this module; values are bound parameters
                "AND related_z IS NOT NULL",
                chunk,
            ):
                found[article_id] = _inflate(related_z).decode("utf-8")
        return found

    def set_stories(self, rows: Sequence[tuple[str, str, str | None]]) -> None:
        """Record (article id, story id, coverage JSON) for grouped articles (no new rev: the
        content did not change)."""
        with self.transaction():
            update_many(
                self.conn,
                "articles",
                "id",
                ("story_id", "coverage"),
                [(story_id, coverage, article_id) for article_id, story_id, coverage in rows],
            )

    def story_ids(self, ids: Sequence[str]) -> dict[str, str]:
        """Story id of each of these articles that has one."""
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for article_id, story_id in self.conn.execute(
                f"SELECT id, story_id FROM articles WHERE id IN ({marks}) "  # noqa: S608 - names are constants of this module; values are bound parameters
                "AND story_id IS NOT NULL",
                chunk,
            ):
                found[article_id] = story_id
        return found

    def active_ids(self) -> Iterator[str]:
        """Every active article id (streamed)."""
        for (article_id,) in self.conn.execute(
            "SELECT id FROM articles WHERE retired_at_us IS NULL"
        ):
            yield str(article_id)
