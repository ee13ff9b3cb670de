"""Bring the store up to date with folders of article files, incrementally.

The folders are walked one directory at a time (`bot.ingest.folders`, streaming); a file whose
size and mtime match what the store recorded is not read again, and a folder whose listing
digest matches the one recorded is not even compared file by file. Changed files are parsed and
written in batched transactions. One article may come from several files (copies in several
folders): the most recently modified readable file speaks for it. An article is retired when no
file for it remains under the scanned folders, or when its file says `removed: true`.

Choices worth knowing:
- A file that becomes unreadable or invalid is reported, and its article keeps its last good
  content (a half-written file does not retire anything).
- A folder that is missing or unreadable is reported, and nothing below it is retired (an
  unmounted disk must not empty the store). Nor does a scanned root whose vanished files would
  retire more than half of its articles in one run (an empty mount point, an emptied
  checkout) retire any of them, unless `allow_retire`: the root is reported as held, its
  files' records are kept, and the next run decides again.
- Folder digests (`source_dirs`) are recorded at the end of a run for the folders compared file
  by file whose rows then match their listing; triggers forget a folder's digest on any write to
  its rows, by any process. So a re-scan with nothing changed costs one `stat` per file, and a
  digest never vouches for rows that changed since.
- Memory is bounded by one batch of parsed files (BATCH_FILES, or POOL_IN_FLIGHT chunks and
  POOL_WRITE_FILES results), by POOL_MIN_FILES queued paths, by the listing of the largest
  single folder and by the listings awaiting their digest (CONFIRM_MAX_FILES files at most),
  never by the whole corpus.
- A run with many files to parse (POOL_MIN_FILES: a cold ingest, or a big new folder) parses
  in worker processes: a spawn pool of POOL_WORKERS parses and compresses chunks of POOL_CHUNK
  files and returns each article without its `related` text, as plain tuples, plus the
  compressed block (small and cheap to pickle: the raw block or frozen dataclasses cost as
  much as the pool saved). The main process only writes, up to POOL_WRITE_FILES files per
  transaction on a cold run (fewer commits and WAL checkpoints) and REWRITE_FILES on a warm
  one (the bot's other writers wait for SQLite's write lock meanwhile), while the workers
  parse up to POOL_IN_FLIGHT chunks ahead (bounded memory); rather than wait, it parses a
  chunk no worker has started. Runs with few files to parse never start one (start-up ~0.1 s per worker), nor
  does a machine with one core. Spawn, not fork: the caller may run threads (the bot,
  tantivy); a script that calls `ingest_folders` needs the usual `if __name__ == "__main__"`
  guard. Without a pool, compression runs on a thread while the next file is parsed.
- On a cold run an article not yet written by this run is inserted without look-ups (no
  `best_source`, no previous row) in one bulk insert per batch; copies and every warm-run
  change take the general path, also by batch: the files' previous records, the files that
  speak for their articles and the articles' stored states are read a statement per 500
  (`sources_at`, `best_sources`, `Store.article_states`), the rows written in bulk
  (`put_sources`, `Store.put_articles`). Bulk means one executemany on SQLite and a COPY on
  PostgreSQL (`bot.store.engine.insert_many`): no round trip per file. A batch the store
  refuses a row of is undone and written file by file, rejecting the files it refuses.
- Every article added or changed gets its story id (and confirmed coverage) at the end of the
  run (`bot.store.stories`), compared with the stored articles around it.
- The search index is fed from the parsed values of such a batch (`IndexSync.push`), not
  re-read from SQLite; whenever the index is not exactly at the store's rev before the batch
  (behind, rebuilt, or another process wrote), it catches up from the store by rev (`pull`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.models import Article, Image, Provider
from bot.ingest.bounds import SQLITE_INT_MAX, SQLITE_INT_MIN
from bot.ingest.folders import Listing, walk_folders
from bot.ingest.parse import ParsedFile, Rejection, parse_file
from bot.store.db import ArticleState, NewArticle, compress_related
from bot.store.engine import is_row_error
from bot.store.sources import (
    SourceRecord,
    active_articles_under,
    best_source,
    best_sources,
    delete_source,
    dirs_under,
    get_source,
    listing_digests,
    paths_of_article,
    put_listing_digest,
    put_source,
    put_sources,
    recorded_stats,
    rejected_in_dir,
    sources_at,
    sources_in_dir,
    stats_in_dir,
)
from bot.store.stories import group_stories

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from bot.store.db import Store


class IndexFeed(Protocol):
    """What the runner feeds while it writes: a search index being synced (bot.search.index)."""

    def push(self, before_rev: int, after_rev: int, articles: Sequence[Article]) -> int:
        """Index the articles just written as revisions (before_rev, after_rev]."""

    def pull(self) -> int:
        """Index whatever else changed in the store since the last push or pull."""


class Indexer(Protocol):
    """A search index the runner keeps in step with the store (injected, never imported here)."""

    def syncing(self, store: Store) -> AbstractContextManager[IndexFeed]:
        """A feed that commits on success and rolls back on failure."""


BATCH_FILES = 250
PROGRESS_EVERY = 250
POOL_MIN_FILES = 1000  # files to parse in one run before worker processes are considered
POOL_WORKERS = 2
POOL_CHUNK = 200  # files per worker task
POOL_IN_FLIGHT = 12  # tasks parsed ahead of the writes (bounds memory)
POOL_WRITE_FILES = 3000  # parsed files written per transaction (fewer commits and checkpoints)
REWRITE_FILES = 500  # ... on a warm run: shorter transactions beside the bot's other writers
CONFIRM_MAX_FILES = 1_000_000  # listings kept to record their digests at the end (bounds memory)

# What a worker returns per file, as plain tuples (pickling frozen dataclasses costs 3x more):
# the article without its related block, plus the block compressed as stored (small to
# pickle), or why the file was rejected.
_Wire = tuple[str, str, bool, tuple[Any, ...], bytes | None] | Rejection
_Result = tuple[ParsedFile, bytes | None] | Rejection


def _parse_for_wire(path: str, max_bytes: int) -> _Wire:
    result = parse_file(Path(path), max_bytes=max_bytes)
    if isinstance(result, Rejection):
        return result
    a = result.article
    provider = (a.provider.name, a.provider.domain, a.provider.icon_url)
    images = tuple((i.url, i.width, i.height) for i in a.images)
    fields: tuple[Any, ...] = (a.id, a.title, a.excerpt, a.url, a.published, a.kind, provider)
    fields += (a.topics, a.quality, a.heat, a.trending, images, a.original_url, a.video_url)
    fields += (a.related_count,)
    return result.path, result.digest, result.removed, fields, compress_related(a.related_yaml)


def _from_wire(wire: _Wire) -> _Result:
    if isinstance(wire, Rejection):
        return wire
    path, digest, removed, fields, related_z = wire
    provider = Provider(*fields[6])
    images = tuple(Image(*image) for image in fields[11])
    aid, title, excerpt, url, published, kind, _, topics, quality, heat, trending = fields[:11]
    original_url, video_url, related_count = fields[12:]
    article = Article(
        id=aid,
        title=title,
        excerpt=excerpt,
        url=url,
        published=published,
        kind=kind,
        provider=provider,
        topics=topics,
        quality=quality,
        heat=heat,
        trending=trending,
        images=images,
        original_url=original_url,
        video_url=video_url,
        related_count=related_count,
    )
    return ParsedFile(path, article, removed, digest), related_z


def _parse_chunk(paths: list[str], max_bytes: int) -> list[_Wire]:
    """Worker-process task: parse and compress a chunk of files."""
    return [_parse_for_wire(path, max_bytes) for path in paths]


Progress = Callable[[int, int | None], None]


@dataclass(frozen=True, slots=True)
class Held:
    """A folder (a scanned root) whose vanished files would have retired more than half of its
    articles in one run: they were kept (see `ingest_folders`' `allow_retire`)."""

    path: str
    would_retire: int
    reason: str


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one ingest run did.

    scanned: article files seen; added: articles that became active; updated: files that
    changed an existing article (or are another copy of it); unchanged: files skipped or
    identical; retired: articles retired; rejected: files (or folders) that could not be used;
    held: folders whose articles were kept although their files are gone.
    """

    scanned: int
    added: int
    updated: int
    unchanged: int
    retired: int
    rejected: tuple[Rejection, ...]
    seconds: float
    held: tuple[Held, ...] = ()


@dataclass(slots=True)
class _Pending:
    path: str
    folder: str
    mtime_ns: int
    size: int
    previous: SourceRecord | None


@dataclass(slots=True)
class _Run:
    store: Store
    now: datetime
    max_file_bytes: int
    progress: Progress | None
    pool_min_files: int | None = POOL_MIN_FILES
    allow_retire: bool = False
    scanned: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    pending: list[_Pending] = field(default_factory=list)
    gone: list[SourceRecord] = field(default_factory=list)
    orphaned: set[str] = field(default_factory=set)
    index: IndexFeed | None = None
    compressor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1))
    pool: ProcessPoolExecutor | None = None
    pool_decided: bool = False
    in_flight: deque[tuple[list[_Pending], Future[list[_Wire]]]] = field(default_factory=deque)
    cold: bool = False  # the store was empty when the run began: no look-ups for new articles
    new_ids: set[str] = field(default_factory=set)  # articles inserted by this cold run
    # folders compared file by file: their digests are recorded once the store matches them
    to_confirm: list[tuple[Listing, str]] = field(default_factory=list)
    to_confirm_files: int = 0

    def count_scanned(self, files: int) -> None:
        before, self.scanned = self.scanned, self.scanned + files
        if self.progress is not None and before // PROGRESS_EVERY != self.scanned // PROGRESS_EVERY:
            self.progress(self.scanned, None)

    def skip_unchanged_folder(self, listing: Listing) -> None:
        """A folder whose listing matches its recorded digest: count it, report its rejects."""
        rejected = rejected_in_dir(self.store.conn, listing.folder)
        self.count_scanned(len(listing))
        self.unchanged += len(listing) - len(rejected)
        self.rejected.extend(Rejection(path, error) for path, error in rejected)

    def remember_listing(self, listing: Listing, digest: str) -> None:
        if self.to_confirm_files + len(listing) <= CONFIRM_MAX_FILES:
            self.to_confirm.append((listing, digest))
            self.to_confirm_files += len(listing)

    def confirm_listings(self) -> None:
        """Record the digest of each folder compared file by file whose rows now match it."""
        if not self.to_confirm:
            return
        conn = self.store.conn
        with self.store.transaction():
            for listing, digest in self.to_confirm:
                if recorded_stats(conn, listing.folder) == listing.stats():
                    put_listing_digest(conn, listing.folder, digest)
        self.to_confirm.clear()
        self.to_confirm_files = 0

    def hold_retirement(self, root: str, gone: list[SourceRecord]) -> Held | None:
        """Why the vanished files of `root` must not retire their articles in this run (more
        than half of the articles it holds would go, e.g. an unmounted share), or None."""
        if self.allow_retire:
            return None
        conn = self.store.conn
        paths = {record.path for record in gone}
        would_retire = 0
        for article_id in {r.article_id for r in gone if r.article_id is not None}:
            if self.store.article_state(article_id)[0] == "active" and paths.issuperset(
                paths_of_article(conn, article_id)
            ):
                would_retire += 1
        total = active_articles_under(conn, root)
        if would_retire * 2 <= total:
            return None
        reason = (
            f"the files of {would_retire} of its {total} articles are gone (an unmounted share, "
            "an emptied checkout?): they were kept; `newsbot ingest --allow-retire` retires them"
        )
        return Held(root, would_retire, reason)

    def queue(self, item: _Pending) -> None:
        """Queue a new or changed file; parse and write when a batch is full."""
        self.pending.append(item)
        undecided = not self.pool_decided and self.pool_min_files is not None
        if undecided and len(self.pending) >= (self.pool_min_files or 0):
            self._start_pool()
            undecided = False
        if self.pool is not None:
            limit = POOL_CHUNK
        elif undecided:  # hold the (small) file list until we know whether a pool pays off
            limit = max(BATCH_FILES, self.pool_min_files or 0)
        else:
            limit = BATCH_FILES
        if len(self.pending) >= limit:
            self.flush(drain=False)

    def _start_pool(self) -> None:
        self.pool_decided = True
        if (os.cpu_count() or 1) < 2:
            return
        # spawn, not fork: the caller may have threads (the bot, tantivy, the compressor)
        context = multiprocessing.get_context("spawn")
        try:
            self.pool = ProcessPoolExecutor(POOL_WORKERS, mp_context=context)
        except (OSError, ValueError):  # no processes allowed here: parse in this one
            self.pool = None

    def close_pool(self) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self.in_flight.clear()

    def flush(self, *, drain: bool = True) -> None:
        """Parse and write full batches (every pending file when `drain`), then deleted files."""
        pool = self.pool
        if pool is not None:
            while len(self.pending) >= POOL_CHUNK or (drain and self.pending):
                chunk = self.pending[:POOL_CHUNK]
                del self.pending[:POOL_CHUNK]
                self.in_flight.append((chunk, self._submit(pool, chunk)))
                if self.pool is None:  # workers could not start: parse the rest here
                    break
                while len(self.in_flight) > POOL_IN_FLIGHT:  # workers parse ahead meanwhile
                    self._write_oldest()
        while self.in_flight and (drain or self.pool is None):
            self._write_oldest()
        if self.pool is None:
            while len(self.pending) >= BATCH_FILES or (drain and self.pending):
                chunk = self.pending[:BATCH_FILES]
                del self.pending[:BATCH_FILES]
                self._write(chunk, self._parse_here(chunk))
        if drain and self.gone:
            self._write([], [])

    def _submit(self, pool: ProcessPoolExecutor, chunk: list[_Pending]) -> Future[list[_Wire]]:
        try:
            return pool.submit(_parse_chunk, [item.path for item in chunk], self.max_file_bytes)
        except Exception:  # workers cannot start here (or died): parse here from now on
            self.pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return self._parsed_here(chunk)

    def _parsed_here(self, chunk: list[_Pending]) -> Future[list[_Wire]]:
        done: Future[list[_Wire]] = Future()
        done.set_result(_parse_chunk([item.path for item in chunk], self.max_file_bytes))
        return done

    def _write_oldest(self) -> None:
        # rather than wait idle for the oldest task, parse a queued one here
        while not self.in_flight[0][1].done() and self._steal():
            pass
        chunks: list[_Pending] = []
        results: list[_Result] = []
        # the oldest task, and the next ones already done: one transaction
        while self.in_flight and (not chunks or self.in_flight[0][1].done()):
            if len(chunks) + len(self.in_flight[0][0]) > self.write_files and chunks:
                break
            chunk, future = self.in_flight.popleft()
            try:
                wires = future.result()
            except (Exception, CancelledError):  # a worker died (BrokenProcessPool...)
                wires = self._parsed_here(chunk).result()
            results += map(_from_wire, wires)
            chunks += chunk
        self._write(chunks, results)

    @property
    def write_files(self) -> int:
        """Parsed files written per transaction."""
        return POOL_WRITE_FILES if self.cold else REWRITE_FILES

    def _steal(self) -> bool:
        """Parse in this process the newest task no worker has started; False if none."""
        for position in range(len(self.in_flight) - 1, 0, -1):
            chunk, future = self.in_flight[position]
            if future.cancel():
                self.in_flight[position] = (chunk, self._parsed_here(chunk))
                return True
        return False

    def _parse_here(self, chunk: list[_Pending]) -> list[_Result]:
        parsed: list[tuple[ParsedFile | Rejection, Future[bytes | None] | None]] = []
        for item in chunk:
            result = parse_file(Path(item.path), max_bytes=self.max_file_bytes)
            related = None
            if isinstance(result, ParsedFile) and result.article.related_yaml:
                # compressed on another core while the next file is parsed
                related = self.compressor.submit(compress_related, result.article.related_yaml)
            parsed.append((result, related))
        return [
            result
            if isinstance(result, Rejection)
            else (result, None if related is None else related.result())
            for result, related in parsed
        ]

    def _write(self, chunk: list[_Pending], results: list[_Result]) -> None:
        """Write one parsed batch (and forget deleted files) in one transaction, then index it."""
        store = self.store
        fresh: list[NewArticle] = []
        sources: list[SourceRecord] = []
        fresh_items: list[_Pending] = []
        direct = True  # the batch only inserted new articles: index them from these values

        def insert_fresh() -> None:
            nonlocal direct
            if fresh and not self._insert_fresh(fresh_items, sources, fresh):
                direct = False  # some were not stored: index from the store
            sources.clear()
            fresh.clear()
            fresh_items.clear()

        changed: list[tuple[_Pending, ParsedFile, bytes | None]] = []
        changed_ids: set[str] = set()
        changed_paths: set[str] = set()

        def accept_changed() -> None:
            if changed:
                self._accept_all(changed)
            changed.clear()
            changed_ids.clear()
            changed_paths.clear()

        with store.transaction() as conn:
            before_rev = store.current_rev()
            written: list[Article] = []
            for item, result in zip(chunk, results, strict=True):
                if isinstance(result, Rejection):
                    self._reject(item, result)
                    continue
                parsed, related_z = result
                article = parsed.article
                if self.cold and item.previous is None and article.id not in self.new_ids:
                    if changed:  # in file order: a copy written before a later new article
                        accept_changed()
                    self.new_ids.add(article.id)
                    fresh_items.append(item)
                    sources.append(_record(item, parsed))
                    fresh.append(
                        NewArticle(
                            article,
                            item.path,
                            parsed.digest,
                            self.now if parsed.removed else None,
                            related_z,
                        )
                    )
                    if parsed.removed:
                        self.unchanged += 1
                    else:
                        self.added += 1
                        written.append(article)
                    continue
                if fresh:  # the general path below reads the store: bring it up to date first
                    insert_fresh()
                direct = False
                if article.id in changed_ids or item.path in changed_paths:
                    accept_changed()  # one file per article in a batch: a copy waits its turn
                changed.append((item, parsed, related_z))
                changed_ids.add(article.id)
                changed_paths.add(item.path)
            insert_fresh()
            accept_changed()
            for record in self.gone:
                delete_source(conn, record.path)
                if record.article_id is not None:
                    self.orphaned.add(record.article_id)
            after_rev = store.current_rev()
        self.gone.clear()
        if self.index is not None:
            if direct:
                self.index.push(before_rev, after_rev, written)
            else:
                self.index.pull()

    def _insert_fresh(
        self, items: list[_Pending], sources: list[SourceRecord], fresh: list[NewArticle]
    ) -> bool:
        """Insert new articles in one statement; when that fails, one by one, rejecting the
        files whose rows the store refuses. True when all were stored."""
        store = self.store
        try:
            with store.savepoint():
                put_sources(store.conn, sources)
                store.insert_new_articles(fresh)
            return True
        except Exception as error:
            if not _is_row_error(error):
                raise
        for item, record, new in zip(items, sources, fresh, strict=True):
            try:
                with store.savepoint():
                    put_source(store.conn, record)
                    store.insert_new_articles([new])
            except Exception as error:
                if not _is_row_error(error):
                    raise
                if new.retired_at is None:
                    self.added -= 1
                else:
                    self.unchanged -= 1
                self.new_ids.discard(new.article.id)
                self._reject(item, Rejection(item.path, _store_refused(error)))
        return False

    def _reject(self, item: _Pending, result: Rejection) -> None:
        previous = item.previous
        put_source(
            self.store.conn,
            SourceRecord(
                path=item.path,
                dir=item.folder,
                article_id=previous.article_id if previous else None,
                mtime_ns=item.mtime_ns,
                size=item.size,
                digest=previous.digest if previous else None,
                removed=previous.removed if previous else False,
                error=result.error,
            ),
        )
        self.rejected.append(Rejection(item.path, result.error))

    def _accept_all(self, items: list[tuple[_Pending, ParsedFile, bytes | None]]) -> None:
        """`_accept` files of distinct articles and paths; when the store refuses a row, undo
        the batch and accept them one by one, rejecting the files whose rows it refuses."""
        counts = (self.added, self.updated, self.unchanged, self.retired)
        orphaned = set(self.orphaned)
        try:
            with self.store.savepoint():
                self._accept(items)
            return
        except Exception as error:
            if not _is_row_error(error):
                raise
            self.added, self.updated, self.unchanged, self.retired = counts
            self.orphaned = orphaned
            if len(items) == 1:
                self._reject(items[0][0], Rejection(items[0][0].path, _store_refused(error)))
                return
        for item in items:
            self._accept_all([item])

    def _accept(self, items: list[tuple[_Pending, ParsedFile, bytes | None]]) -> None:
        """Record new or changed files (of distinct articles and paths) and write the articles
        they speak for, in a few statements per batch (no round trip per file)."""
        store = self.store
        put_sources(store.conn, [_record(item, parsed) for item, parsed, _ in items])
        changed: list[tuple[_Pending, ParsedFile, bytes | None]] = []
        for item, parsed, related_z in items:
            previous = item.previous
            if (
                previous is not None
                and previous.error is None
                and previous.digest == parsed.digest
                and previous.article_id == parsed.article.id
            ):
                # touched, not changed: the new mtime is recorded so the next scan skips it
                self.unchanged += 1
                continue
            if previous is not None and previous.article_id not in (None, parsed.article.id):
                self.orphaned.add(str(previous.article_id))
            changed.append((item, parsed, related_z))
        best = best_sources(store.conn, [parsed.article.id for _, parsed, _ in changed])
        writes: list[NewArticle] = []
        copies: list[str] = []  # older copies of articles another (newer) file speaks for
        for item, parsed, related_z in changed:
            speaker = best.get(parsed.article.id)
            if speaker is None or speaker.path != item.path:
                copies.append(parsed.article.id)
                continue
            retired_at = self.now if parsed.removed else None
            writes.append(
                NewArticle(parsed.article, item.path, parsed.digest, retired_at, related_z)
            )
        states = store.article_states(copies)
        for article_id in copies:
            if article_id in states:
                self.updated += 1
            else:
                self.unchanged += 1
        for new, before in zip(writes, store.put_articles(writes), strict=True):
            self._count(removed=new.retired_at is not None, before=before)

    def _count(self, *, removed: bool, before: ArticleState) -> None:
        """Count a file that speaks for its article, by the article's state before it."""
        if removed:
            if before == "active":
                self.retired += 1
                self.updated += 1
            else:
                self.unchanged += 1
        elif before == "active":
            self.updated += 1
        else:
            self.added += 1

    def settle_orphans(self) -> None:
        """Articles that lost a file: retire them, or take content from their next-best file."""
        if not self.orphaned:
            return
        with self.store.transaction():
            for article_id in sorted(self.orphaned):
                best = best_source(self.store.conn, article_id)
                _, source_path = self.store.article_state(article_id)
                if best is None:
                    if self.store.retire_article(article_id, self.now):
                        self.retired += 1
                    continue
                if best.path == source_path or best.error is not None:
                    continue
                result = parse_file(Path(best.path), max_bytes=self.max_file_bytes)
                if isinstance(result, ParsedFile) and result.article.id == article_id:
                    # the next copy speaks for the article now (not a changed file: no count)
                    try:
                        with self.store.savepoint():
                            before = self.store.put_article(
                                result.article,
                                source_path=best.path,
                                source_digest=result.digest,
                                retired_at=self.now if result.removed else None,
                            )
                    except Exception as error:
                        if not _is_row_error(error):
                            raise
                        reason = _store_refused(error)
                        put_source(self.store.conn, _with_error(best, reason))
                        self.rejected.append(Rejection(best.path, reason))
                        continue
                    self.retired += int(result.removed and before == "active")
                elif isinstance(result, ParsedFile):
                    # the file now holds another article: parse it again on the next run
                    put_source(self.store.conn, _replace_mtime(best, -1))
        self.orphaned.clear()


def _is_row_error(error: Exception) -> bool:
    """Whether the store refused one row's values (a bad file), rather than failing itself
    (locked, full, read-only, corrupt: those end the run)."""
    return is_row_error(error)


def _store_refused(error: Exception) -> str:
    # one line: PostgreSQL's messages go on with DETAIL and CONTEXT lines
    first = (str(error).strip().splitlines() or [""])[0]
    return f"cannot be stored: {type(error).__name__}: {first}"


def _with_error(record: SourceRecord, error: str) -> SourceRecord:
    return SourceRecord(
        record.path,
        record.dir,
        record.article_id,
        record.mtime_ns,
        record.size,
        record.digest,
        record.removed,
        error,
    )


def _record(item: _Pending, parsed: ParsedFile) -> SourceRecord:
    return SourceRecord(
        path=item.path,
        dir=item.folder,
        article_id=parsed.article.id,
        mtime_ns=item.mtime_ns,
        size=item.size,
        digest=parsed.digest,
        removed=parsed.removed,
        error=None,
    )


def _replace_mtime(record: SourceRecord, mtime_ns: int) -> SourceRecord:
    return SourceRecord(
        record.path,
        record.dir,
        record.article_id,
        mtime_ns,
        record.size,
        record.digest,
        record.removed,
        record.error,
    )


def _roots(dirs: Sequence[Path]) -> list[str]:
    """Absolute, de-duplicated roots; a root inside another root is dropped."""
    resolved = sorted({str(Path(d).expanduser().resolve()) for d in dirs})
    kept: list[str] = []
    for root in resolved:
        if not any(root == k or root.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(root)
    return kept


def _scan_file(run: _Run, path: str) -> None:
    """One article file given by itself: read when new or changed. Nothing else in its folder
    is looked at (nor retired), and no folder digest is recorded."""
    try:
        info = os.stat(path)
    except OSError as error:
        run.rejected.append(Rejection(path, f"cannot read file: {error.strerror or error}"))
        return
    run.count_scanned(1)
    mtime_ns = min(max(info.st_mtime_ns, SQLITE_INT_MIN), SQLITE_INT_MAX)  # as a listing has it
    previous = get_source(run.store.conn, path)
    if previous is not None and (previous.mtime_ns, previous.size) == (mtime_ns, info.st_size):
        if previous.error is None:
            run.unchanged += 1
        else:
            run.rejected.append(Rejection(path, previous.error))
        return
    run.queue(_Pending(path, os.path.dirname(path), mtime_ns, info.st_size, previous))
    run.flush()


def _scan_root(run: _Run, root: str) -> None:
    """Walk one root: queue new and changed files, note deleted ones. A root that is a file
    is that one article file."""
    store = run.store
    if os.path.isfile(root):
        _scan_file(run, root)
        return
    if not os.path.isdir(root):
        reason = "is not a folder" if os.path.exists(root) else "folder does not exist"
        run.rejected.append(Rejection(root, f"{reason}; nothing under it was changed"))
        return
    visited: set[str] = set()
    unreadable: list[str] = []
    gone: list[SourceRecord] = []  # recorded files no longer there
    digests = listing_digests(store.conn, root)
    for folder, listing in walk_folders(root):
        visited.add(folder)
        if isinstance(listing, OSError):
            unreadable.append(folder)
            reason = listing.strerror or str(listing)
            run.rejected.append(Rejection(folder, f"cannot read folder: {reason}"))
            continue
        digest = listing.digest()
        if digests.get(folder) == digest:
            run.skip_unchanged_folder(listing)
            continue
        run.remember_listing(listing, digest)
        known = stats_in_dir(store.conn, folder)
        queued: list[tuple[str, int, int, bool]] = []  # (path, mtime_ns, size, recorded)
        for path, mtime_ns, size in listing.files():
            run.count_scanned(1)
            seen = known.pop(path, None)
            if seen is not None and seen[:2] == (mtime_ns, size):
                if seen[2] is None:
                    run.unchanged += 1
                else:
                    run.rejected.append(Rejection(path, seen[2]))
                continue
            queued.append((path, mtime_ns, size, seen is not None))
        # the records of the changed and vanished files: one look-up per 500, not one per file
        records = sources_at(
            store.conn, [p for p, _, _, recorded in queued if recorded] + list(known)
        )
        for path, mtime_ns, size, _ in queued:
            run.queue(_Pending(path, folder, mtime_ns, size, records.get(path)))
        gone.extend(records[path] for path in known if path in records)
    for folder in dirs_under(store.conn, root):
        if folder in visited or any(
            folder == bad or folder.startswith(bad + "/") for bad in unreadable
        ):
            continue
        gone.extend(sources_in_dir(store.conn, folder).values())
    run.flush()  # new and changed files first: a moved file's article is not retired
    if gone:
        held = run.hold_retirement(root, gone)
        if held is None:
            run.gone.extend(gone)
            run.flush()
        else:
            run.held.append(held)


def ingest_folders(
    store: Store,
    index: Indexer | None,
    dirs: Sequence[Path],
    *,
    max_file_bytes: int,
    now: datetime,
    progress: Progress | None = None,
    pool_min_files: int | None = POOL_MIN_FILES,
    allow_retire: bool = False,
) -> IngestReport:
    """Scan `dirs` recursively and bring the store (and `index`, if given) up to date (a path
    in `dirs` that is a file is read as one article file).

    Parsing moves to POOL_WORKERS processes once `pool_min_files` files need it in this run
    (None: never). Unless `allow_retire`, a scanned root whose vanished files would retire
    more than half of its articles keeps them all (reported in `IngestReport.held`).
    """
    started = time.perf_counter()
    run = _Run(
        store=store,
        now=now,
        max_file_bytes=max_file_bytes,
        progress=progress,
        pool_min_files=pool_min_files,
        allow_retire=allow_retire,
        cold=store.is_empty(),
    )
    with contextlib.ExitStack() as stack:
        stack.callback(run.compressor.shutdown)
        stack.callback(run.close_pool)
        if index is not None:
            # tantivy indexes each written batch on its own thread while the next is parsed
            run.index = stack.enter_context(index.syncing(store))
        for root in _roots(dirs):
            _scan_root(run, root)
        run.flush()
        run.close_pool()
        run.settle_orphans()
        group_stories(store)
        run.confirm_listings()
        if run.index is not None:
            run.index.pull()
    if progress is not None:
        progress(run.scanned, run.scanned)
    return IngestReport(
        scanned=run.scanned,
        added=run.added,
        updated=run.updated,
        unchanged=run.unchanged,
        retired=run.retired,
        rejected=tuple(run.rejected),
        seconds=round(time.perf_counter() - started, 3),
        held=tuple(run.held),
    )
