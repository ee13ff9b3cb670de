"""Bring the store up to date with folders of article files, incrementally.

The folders are walked one directory at a time (os.scandir, streaming); a file whose size and
mtime match what the store recorded is not read again. Changed files are parsed and written in
batched transactions. One article may come from several files (copies in several folders): the
most recently modified readable file speaks for it. An article is retired when no file for it
remains under the scanned folders, or when its file says `removed: true`.

Choices worth knowing:
- A file that becomes unreadable or invalid is reported, and its article keeps its last good
  content (a half-written file does not retire anything).
- A folder that is missing or unreadable is reported, and nothing below it is retired (an
  unmounted disk must not empty the store).
- Memory is bounded by one batch of parsed files (BATCH_FILES) and by the listing of the
  largest single folder (path, size and mtime per file), never by the whole corpus.
- Only names ending in .md, .markdown or .txt are read; hidden files and folders are skipped.
- Parsing runs in this process: on the 2-core target machine a process pool of 2 was slower
  than one process (0.4-0.6x on ../shared/corpus: start-up and pickling). The other core is
  used by threads instead: zlib compresses the stored `related` block (it releases the GIL)
  while the next file is parsed, and tantivy indexes each written batch on its own thread.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.ingest.parse import ParsedFile, Rejection, parse_file
from bot.store.db import compress_related
from bot.store.sources import (
    SourceRecord,
    best_source,
    delete_source,
    dirs_under,
    get_source,
    put_source,
    sources_in_dir,
    stats_in_dir,
)

if TYPE_CHECKING:
    from bot.search import SearchIndex
    from bot.store.db import Store

ARTICLE_SUFFIXES = (".md", ".markdown", ".txt")
BATCH_FILES = 250
PROGRESS_EVERY = 250

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one ingest run did.

    scanned: article files seen; added: articles that became active; updated: files that
    changed an existing article (or are another copy of it); unchanged: files skipped or
    identical; retired: articles retired; rejected: files (or folders) that could not be used.
    """

    scanned: int
    added: int
    updated: int
    unchanged: int
    retired: int
    rejected: tuple[Rejection, ...]
    seconds: float


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
    scanned: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    pending: list[_Pending] = field(default_factory=list)
    gone: list[SourceRecord] = field(default_factory=list)
    orphaned: set[str] = field(default_factory=set)
    after_flush: Callable[[], object] | None = None
    compressor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1))

    def tick(self) -> None:
        self.scanned += 1
        if self.progress is not None and self.scanned % PROGRESS_EVERY == 0:
            self.progress(self.scanned, None)

    def flush(self) -> None:
        """Parse the pending files, then write them (and forget deleted files) in one transaction."""
        if not self.pending and not self.gone:
            return
        parsed: list[tuple[_Pending, ParsedFile | Rejection, Future[bytes | None] | None]] = []
        for item in self.pending:
            result = parse_file(Path(item.path), max_bytes=self.max_file_bytes)
            related = None
            if isinstance(result, ParsedFile) and result.article.related_yaml:
                # compressed on another core while the next file is parsed
                related = self.compressor.submit(compress_related, result.article.related_yaml)
            parsed.append((item, result, related))
        with self.store.transaction() as conn:
            for item, result, related in parsed:
                if isinstance(result, Rejection):
                    self._reject(item, result)
                else:
                    self._accept(item, result, None if related is None else related.result())
            for record in self.gone:
                delete_source(conn, record.path)
                if record.article_id is not None:
                    self.orphaned.add(record.article_id)
        self.pending.clear()
        self.gone.clear()
        if self.after_flush is not None:
            self.after_flush()

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

    def _accept(self, item: _Pending, parsed: ParsedFile, related_z: bytes | None) -> None:
        article = parsed.article
        previous = item.previous
        if (
            previous is not None
            and previous.error is None
            and previous.digest == parsed.digest
            and previous.article_id == article.id
        ):
            # touched, not changed: remember the new mtime so the next scan skips it
            put_source(self.store.conn, _record(item, parsed))
            self.unchanged += 1
            return
        put_source(self.store.conn, _record(item, parsed))
        if previous is not None and previous.article_id not in (None, article.id):
            self.orphaned.add(str(previous.article_id))
        best = best_source(self.store.conn, article.id)
        if best is None or best.path != item.path:
            # an older copy of an article another (newer) file speaks for
            state, _ = self.store.article_state(article.id)
            if state == "absent":
                self.unchanged += 1
            else:
                self.updated += 1
            return
        self._apply(parsed, item.path, related_z)

    def _apply(self, parsed: ParsedFile, path: str, related_z: bytes | None) -> None:
        """Write the content of the file that speaks for its article."""
        before = self.store.put_article(
            parsed.article,
            source_path=path,
            source_digest=parsed.digest,
            retired_at=self.now if parsed.removed else None,
            related_z=related_z,
        )
        if parsed.removed:
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
                    before = self.store.put_article(
                        result.article,
                        source_path=best.path,
                        source_digest=result.digest,
                        retired_at=self.now if result.removed else None,
                    )
                    self.retired += int(result.removed and before == "active")
                elif isinstance(result, ParsedFile):
                    # the file now holds another article: parse it again on the next run
                    put_source(self.store.conn, _replace_mtime(best, -1))
        self.orphaned.clear()


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


def walk_folders(root: str) -> Iterator[tuple[str, list[tuple[str, int, int]] | OSError]]:
    """Per folder below `root` (depth first): its article files as (path, mtime_ns, size).

    Hidden files and folders (starting with '.') are skipped, symlinked folders are not
    followed, and only names ending in ARTICLE_SUFFIXES count.
    """
    stack = [root]
    while stack:
        folder = stack.pop()
        files: list[tuple[str, int, int]] = []
        subfolders: list[str] = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            subfolders.append(entry.path)
                            continue
                        if not entry.name.lower().endswith(ARTICLE_SUFFIXES):
                            continue
                        if not entry.is_file():
                            continue
                        stat = entry.stat()
                    except OSError:
                        continue
                    files.append((entry.path, stat.st_mtime_ns, stat.st_size))
        except OSError as exc:
            yield folder, exc
            continue
        files.sort()
        stack.extend(sorted(subfolders, reverse=True))
        yield folder, files


def _roots(dirs: Sequence[Path]) -> list[str]:
    """Absolute, de-duplicated roots; a root inside another root is dropped."""
    resolved = sorted({str(Path(d).expanduser().resolve()) for d in dirs})
    kept: list[str] = []
    for root in resolved:
        if not any(root == k or root.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(root)
    return kept


def _scan_root(run: _Run, root: str) -> None:
    """Walk one root: queue new and changed files, note deleted ones."""
    store = run.store
    if not os.path.isdir(root):
        reason = "is not a folder" if os.path.exists(root) else "folder does not exist"
        run.rejected.append(Rejection(root, f"{reason}; nothing under it was changed"))
        return
    visited: set[str] = set()
    unreadable: list[str] = []
    for folder, listing in walk_folders(root):
        visited.add(folder)
        if isinstance(listing, OSError):
            unreadable.append(folder)
            reason = listing.strerror or str(listing)
            run.rejected.append(Rejection(folder, f"cannot read folder: {reason}"))
            continue
        known = stats_in_dir(store.conn, folder)
        for path, mtime_ns, size in listing:
            run.tick()
            seen = known.pop(path, None)
            if seen is not None and seen[:2] == (mtime_ns, size):
                if seen[2] is None:
                    run.unchanged += 1
                else:
                    run.rejected.append(Rejection(path, seen[2]))
                continue
            previous = None if seen is None else get_source(store.conn, path)
            run.pending.append(_Pending(path, folder, mtime_ns, size, previous))
            if len(run.pending) >= BATCH_FILES:
                run.flush()
        run.gone.extend(filter(None, (get_source(store.conn, path) for path in known)))
    for folder in dirs_under(store.conn, root):
        if folder in visited or any(
            folder == bad or folder.startswith(bad + "/") for bad in unreadable
        ):
            continue
        run.gone.extend(sources_in_dir(store.conn, folder).values())
    run.flush()


def ingest_folders(
    store: Store,
    index: SearchIndex | None,
    dirs: Sequence[Path],
    *,
    max_file_bytes: int,
    now: datetime,
    progress: Progress | None = None,
) -> IngestReport:
    """Scan `dirs` recursively and bring the store (and `index`, if given) up to date."""
    started = time.perf_counter()
    run = _Run(store=store, now=now, max_file_bytes=max_file_bytes, progress=progress)
    with contextlib.ExitStack() as stack:
        stack.callback(run.compressor.shutdown)
        if index is not None:
            # tantivy indexes each written batch on its own thread while the next is parsed
            run.after_flush = stack.enter_context(index.syncing(store)).pull
        for root in _roots(dirs):
            _scan_root(run, root)
        run.flush()
        run.settle_orphans()
        if run.after_flush is not None:
            run.after_flush()
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
    )
