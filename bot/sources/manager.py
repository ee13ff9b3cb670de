"""Refreshing the article sources: local folders re-scanned, Git repositories fetched.

A refresh brings the store up to date with one source and records the outcome in the store
(`source_state`), so any process can report it. A Git source is fetched shallow (one commit,
one branch, only the blobs of its articles folder: `--depth 1 --filter=blob:none` and a sparse
checkout), its folder is rebuilt beside the published one and swapped in atomically
(`bot.sources.tree`), and the incremental ingest then reads only what changed, on its own
thread and SQLite connection, so the store's thread (interactions, deliveries) is never held
up by it; git runs as a killable asyncio subprocess, file work on threads: nothing blocks the
event loop.

What never happens: a failing source (unreachable remote, rejected token, corrupted checkout,
disk full) losing its articles or stopping the others: it keeps its last good folder, records
the error and is retried with back-off (1, 2, 4… minutes, at most its interval). A source that
suddenly has no article files while the store holds some from it is not swapped in nor
ingested until an operator confirms (`allow_retire`): an emptied branch or an unmounted disk
must not retire everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.ingest.folders import is_article_name
from bot.search.index import SearchIndex
from bot.settings import Settings, SourceSettings
from bot.sources.git import Git, GitAuth, GitError
from bot.sources.tree import Notify, article_count, build_tree, exchange, remove_tree
from bot.store.async_store import AsyncStore
from bot.store.db import Store
from bot.store.ingest import IngestReport, Progress, ingest_folders
from bot.store.source_state import (
    SourceState,
    active_articles_under,
    all_states,
)

log = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 60
COMMIT_MARKER = ".newsbot-commit"  # inside the published folder (hidden: never ingested)
_CORRUPTION = (
    "corrupt",
    "bad object",
    "loose object",
    "index file",
    "not a git repository",
    "unable to read",
    "invalid object",
    "broken",
    "bad revision",
    "needed a single revision",
    "unknown revision",
)


class SourceError(Exception):
    """A refresh could not be completed; the message is one line for operators."""


class SourceBusy(SourceError):
    """Another process is refreshing this source right now."""


class UnknownSource(ValueError):
    """No configured source has this name."""


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """One refresh attempt: `swapped` when a new Git tree replaced the published one."""

    name: str
    kind: str
    ok: bool
    error: str | None = None
    commit: str | None = None
    swapped: bool = False
    report: IngestReport | None = None
    busy: bool = False  # another process was refreshing it: nothing done, nothing recorded


def backoff_seconds(failures: int, every: int) -> int:
    """Wait before retry number `failures` (1, 2, 4… minutes), never longer than `every`."""
    step: int = RETRY_FIRST_SECONDS * 2 ** min(max(failures - 1, 0), 20)
    return min(every, step)


def remote_url(location: str) -> str:
    """The URL git is given: a local repository path becomes a file:// URL (so that shallow
    fetches apply: git ignores --depth for plain paths)."""
    if location.startswith("/"):
        return Path(location).as_uri()
    return location


def read_auth(source: SourceSettings, environ: Mapping[str, str]) -> GitAuth | None:
    """The source's token from its environment variable or file (SourceError if unreadable)."""
    if source.token_env:
        token = environ.get(source.token_env, "").strip()
        if not token:
            raise SourceError(f"environment variable {source.token_env} (token_env) is not set")
        return GitAuth(source.token_user, token, remote_url(source.git or ""))
    if source.token_file:
        try:
            token = Path(source.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SourceError(
                f"cannot read token_file {source.token_file}: {exc.strerror or exc}"
            ) from None
        if not token:
            raise SourceError(f"token_file {source.token_file} is empty")
        return GitAuth(source.token_user, token, remote_url(source.git or ""))
    return None


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """An advisory lock on `path` for this refresh; SourceBusy if another process holds it
    (no lock where the system has no `flock`)."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SourceBusy("another process is refreshing this source right now") from None
        yield
    finally:
        os.close(fd)


def _has_article_file(root: Path) -> bool:
    """Whether any article file lies under `root` (stops at the first one found, usually after
    a few directory entries: much cheaper than the re-scan it guards)."""
    folders = [str(root)]
    while folders:
        try:
            entries = os.scandir(folders.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                elif is_article_name(entry.name) and entry.is_file():
                    return True
    return False


def _parse_tree(listing: bytes, inner: str) -> dict[str, str]:
    """`git ls-tree -r -z` output → {path relative to `inner`: blob id} of regular files
    (symlinks and submodules are left out: they could point outside the repository)."""
    prefix = f"{inner}/" if inner else ""
    files: dict[str, str] = {}
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        mode, kind, blob = meta.decode().split(" ")
        path = os.fsdecode(raw_path)
        if kind == "blob" and mode in ("100644", "100755") and path.startswith(prefix):
            files[path[len(prefix) :]] = blob
    return files


class SourceManager:
    """Refreshes the configured sources into one store; used by the bot and `newsbot sources`."""

    def __init__(
        self,
        settings: Settings,
        store: AsyncStore,
        *,
        clock: Callable[[], datetime],
        index: SearchIndex | None = None,
        environ: Mapping[str, str] | None = None,
        notify: Notify | None = None,
        progress: Callable[[str], Progress | None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.index = index
        self.clock = clock
        self.environ = os.environ if environ is None else environ
        self.notify = notify  # git's progress lines (a terminal), per source
        self.progress = progress  # the ingest's progress, per source

    # -- what is configured -------------------------------------------------------------

    @property
    def sources(self) -> tuple[SourceSettings, ...]:
        return self.settings.all_sources

    def get(self, name: str) -> SourceSettings:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise UnknownSource(f"no source is named {name!r} (configured: {known})")

    def folder(self, source: SourceSettings) -> Path:
        """Where a Git source's files live (its repository, published folder, lock)."""
        return self.settings.sources_dir / source.name

    def root(self, source: SourceSettings) -> Path:
        """The folder its articles are ingested from (absolute, as the ingest records it)."""
        if source.git is None:
            return Path(source.path or ".").expanduser().resolve()
        return (self.folder(source) / "articles").resolve()

    def every(self, source: SourceSettings) -> int:
        if source.git is None:
            return self.settings.ingest.rescan_seconds
        return source.every_seconds

    # -- refreshing -----------------------------------------------------------------------

    async def refresh(self, name: str, *, allow_retire: bool = False) -> RefreshResult:
        """Refresh one source now; never raises for the source's own failures."""
        source = self.get(name)
        root = self.root(source)
        commit: str | None = None
        swapped = False
        try:
            if source.git is None:
                # the ingest's own guard keeps a folder's articles when most of its files vanish
                report = await self._ingest(source, root, allow_retire=allow_retire)
                failure = _root_failure(report, root)
                if failure:
                    raise SourceError(failure)
                held = _held(report)
                if held:  # recorded as failing (stale) until the files return or are confirmed
                    return replace(await self._failed(source, root, held), report=report)
            else:
                commit, swapped, report = await self._refresh_git(source, root, allow_retire)
        except SourceBusy as exc:
            return RefreshResult(source.name, source.kind, False, str(exc), busy=True)
        except asyncio.CancelledError:
            raise
        except (SourceError, GitError) as exc:
            return await self._failed(source, root, str(exc))
        except OSError as exc:
            return await self._failed(source, root, _os_error(exc))
        except Exception as exc:  # a bug must not stop the other sources nor the bot
            log.exception("refreshing source %s failed", source.name)
            return await self._failed(source, root, f"unexpected error: {type(exc).__name__}")
        await self._succeeded(source, root, commit)
        return RefreshResult(source.name, source.kind, True, None, commit, swapped, report)

    async def refresh_all(self, *, allow_retire: bool = False) -> list[RefreshResult]:
        return [await self.refresh(s.name, allow_retire=allow_retire) for s in self.sources]

    async def refresh_local(self) -> list[RefreshResult]:
        """Re-scan every local folder (the bot's periodic re-scan)."""
        return [await self.refresh(s.name) for s in self.sources if s.git is None]

    async def refresh_due(self) -> list[RefreshResult]:
        """Refresh the Git sources whose next refresh has come (never refreshed: now)."""
        states = await self.store.source_states()
        now = self.clock()
        results = []
        for source in self.sources:
            if source.git is None:
                continue
            state = states.get(source.name)
            if state is None or state.next_refresh is None or state.next_refresh <= now:
                results.append(await self.refresh(source.name))
        return results

    async def seconds_to_next(self, ceiling: float) -> float:
        """Seconds until the next Git source is due (at most `ceiling`)."""
        states = await self.store.source_states()
        now = self.clock()
        wait = ceiling
        for source in self.sources:
            state = states.get(source.name)
            if source.git is None:
                continue
            if state is None or state.next_refresh is None:
                return 0.0
            wait = min(wait, max(0.0, (state.next_refresh - now).total_seconds()))
        return wait

    async def run_forever(self, poll_seconds: float = 60.0) -> None:
        """The bot's background task: refresh Git sources when due, until cancelled."""
        if not any(s.git is not None for s in self.sources):
            return
        while True:
            wait = poll_seconds
            try:
                results = await self.refresh_due()
                for result in results:
                    _log_result(result)
                wait = await self.seconds_to_next(poll_seconds)
                if any(result.busy for result in results):
                    # still due, but another process is on it: look again later, not at once
                    wait = max(wait, min(poll_seconds, RETRY_FIRST_SECONDS))
            except asyncio.CancelledError:
                raise
            except Exception:  # e.g. the database is busy: try again later, keep the bot up
                log.exception("refreshing the sources failed; trying again in %.0f s", wait)
            await asyncio.sleep(max(0.01, wait))

    # -- reporting ------------------------------------------------------------------------

    async def statuses(self) -> list[dict[str, Any]]:
        """The `newsbot sources --json` entries, in configuration order."""
        return await self.store.run(self._statuses)

    def _statuses(self) -> list[dict[str, Any]]:
        conn = self.store.conn
        states = all_states(conn)
        entries = []
        for source in self.sources:
            state = states.get(source.name)
            entries.append(
                {
                    "name": source.name,
                    "kind": source.kind,
                    "last_success": _iso(state.last_success if state else None),
                    "last_error": state.last_error if state else None,
                    "articles": active_articles_under(conn, str(self.root(source))),
                    "next_refresh": _iso(state.next_refresh if state else None),
                }
            )
        return entries

    # -- internals ------------------------------------------------------------------------

    async def _ingest(
        self, source: SourceSettings, root: Path, *, allow_retire: bool = False
    ) -> IngestReport:
        """The incremental ingest of one source's folder, on its own thread and connection (the
        store's thread stays free for interactions: SQLite's WAL lets them read meanwhile),
        then the search index catches up from the store on the store's thread."""
        progress = self.progress(source.name) if self.progress else None
        report = await asyncio.to_thread(
            self._ingest_on_own_connection, root, progress, allow_retire
        )
        if self.index is not None:
            await self.store.run(self.index.sync, self.store.store)
        return report

    def _ingest_on_own_connection(
        self, root: Path, progress: Progress | None, allow_retire: bool
    ) -> IngestReport:
        store = Store.open(self.store.store.path)
        try:
            return ingest_folders(
                store,
                None,
                [root],
                max_file_bytes=self.settings.ingest.max_file_bytes,
                now=self.clock(),
                progress=progress,
                allow_retire=allow_retire,  # the operator confirmed (the source's own guard)
            )
        finally:
            store.close()

    async def _recorded(self, root: Path) -> int:
        return await self.store.files_recorded_under(str(root))

    async def _refresh_git(
        self, source: SourceSettings, root: Path, allow_retire: bool
    ) -> tuple[str, bool, IngestReport]:
        base = self.folder(source)
        await asyncio.to_thread(base.mkdir, parents=True, exist_ok=True)
        auth = await asyncio.to_thread(read_auth, source, self.environ)
        with _exclusive(base / "lock"):
            git = Git(base / "repo", auth)
            branch, cloned = await self._update_repo(source, git, base)
            target = f"refs/remotes/origin/{branch}"
            commit = (await git.run("rev-parse", "--verify", f"{target}^{{commit}}")).decode()
            commit = commit.strip()
            inner = source.inner_path
            files = _parse_tree(
                await git.run("ls-tree", "-r", "-z", commit, "--", inner or "."), inner
            )
            published = await asyncio.to_thread(_published_commit, root)
            swapped = False
            if published != commit:
                recorded = await self._recorded(root)
                if not allow_retire and recorded and article_count(files) == 0:
                    where = f"commit {commit[:12]} has no article files in {inner or 'the repository root'}/"
                    raise SourceError(_empty_message(source, where, recorded))
                if not cloned:  # a fresh clone is checked out at the target already
                    await git.run("reset", "--hard", "--quiet", target)
                old_files = None
                if published is not None:
                    with contextlib.suppress(GitError):
                        listing = await git.run(
                            "ls-tree", "-r", "-z", published, "--", inner or "."
                        )
                        old_files = _parse_tree(listing, inner)
                checkout = base / "repo" / inner if inner else base / "repo"
                publishing = asyncio.ensure_future(
                    asyncio.to_thread(
                        _publish, root, base / "articles.next", files, checkout, old_files, commit
                    )
                )
                try:
                    await asyncio.shield(publishing)
                except asyncio.CancelledError:  # shutdown: let the swap finish under the lock
                    await asyncio.wait([publishing])
                    raise
                swapped = True
            report = await self._ingest(source, root, allow_retire=allow_retire)
            failure = _root_failure(report, root)
            if failure:
                raise SourceError(failure)
            return commit, swapped, report

    async def _update_repo(self, source: SourceSettings, git: Git, base: Path) -> tuple[str, bool]:
        """Fetch into the checkout (cloning it first when missing, moved or corrupted); the
        branch it follows, and whether it was cloned just now."""
        url = remote_url(source.git or "")
        repo = base / "repo"
        if await self._usable(git, url, source.branch):
            try:
                await git.run("fetch", "--depth", "1", "--prune", "--no-tags", "--quiet", "origin")
                return await self._branch(git), False
            except GitError as exc:
                if not any(word in str(exc).lower() for word in _CORRUPTION):
                    raise
                log.warning("source %s: checkout unusable (%s): cloning it again", source.name, exc)
        await asyncio.to_thread(remove_tree, repo)
        await self._clone(source, git, url, base)
        return await self._branch(git), True

    async def _usable(self, git: Git, url: str, branch: str | None) -> bool:
        if not await asyncio.to_thread((git.cwd / ".git").is_dir):
            return False
        try:
            configured = (await git.run("config", "--get", "remote.origin.url")).decode().strip()
            await git.run("rev-parse", "--verify", "--quiet", "HEAD^{tree}")
            current = await self._branch(git)
        except GitError:
            return False
        return configured == url and (branch is None or branch == current)

    @staticmethod
    async def _branch(git: Git) -> str:
        return (await git.run("symbolic-ref", "--short", "HEAD")).decode().strip()

    async def _clone(self, source: SourceSettings, git: Git, url: str, base: Path) -> None:
        notify = self.notify
        say = (lambda line: notify(f"{source.name}: {line}")) if notify else None
        if say:
            say(
                f"first clone of {_display(url)} (shallow, {source.inner_path or 'whole tree'} only)"
            )
        staging = base / "repo.tmp"
        await asyncio.to_thread(remove_tree, staging)
        args = ["clone", "--depth", "1", "--filter=blob:none", "--no-checkout", "--single-branch"]
        if source.branch:
            args += ["--branch", source.branch]
        args += ["--progress"] if say else ["--quiet"]
        try:
            await git.run(*args, "--", url, str(staging), cwd=base, progress=say)
            clone = Git(staging, git.auth, git.timeout)
            if source.inner_path:  # only this folder (and the root's files) is checked out
                await clone.run("sparse-checkout", "init", "--cone")
                await clone.run("sparse-checkout", "set", source.inner_path)
            await clone.run("checkout", "--quiet", *(["--progress"] if say else []), progress=say)
            await asyncio.to_thread(os.rename, staging, base / "repo")
        finally:
            await asyncio.to_thread(remove_tree, staging)

    async def _succeeded(self, source: SourceSettings, root: Path, commit: str | None) -> None:
        now = self.clock()
        previous = await self.store.source_state(source.name)
        state = SourceState(
            name=source.name,
            kind=source.kind,
            root=str(root),
            commit_id=commit or (previous.commit_id if previous else None),
            last_success=now,
            next_refresh=now + timedelta(seconds=self.every(source)),
        )
        await self.store.put_source_state(state)

    async def _failed(self, source: SourceSettings, root: Path, error: str) -> RefreshResult:
        now = self.clock()
        previous = await self.store.source_state(source.name)
        failures = (previous.failures if previous else 0) + 1
        wait = backoff_seconds(failures, self.every(source))
        state = SourceState(
            name=source.name,
            kind=source.kind,
            root=str(root),
            commit_id=previous.commit_id if previous else None,
            last_success=previous.last_success if previous else None,
            last_error=error,
            failing_since=(previous.failing_since if previous else None) or now,
            failures=failures,
            next_refresh=now + timedelta(seconds=wait),
        )
        await self.store.put_source_state(state)
        log.warning("source %s: %s (retry in %d s)", source.name, error, wait)
        return RefreshResult(source.name, source.kind, False, error)


def _publish(
    root: Path,
    staging: Path,
    files: Mapping[str, str],
    checkout: Path,
    old_files: Mapping[str, str] | None,
    commit: str,
) -> None:
    """Build the new folder beside the published one and swap it in (blocking: a thread)."""
    try:
        build_tree(staging, files, checkout, root, old_files)
        (staging / COMMIT_MARKER).write_text(commit + "\n", encoding="ascii")
        if root.is_dir():
            exchange(root, staging)
        else:
            os.rename(staging, root)
    finally:
        remove_tree(staging)


def _published_commit(root: Path) -> str | None:
    try:
        return (root / COMMIT_MARKER).read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def _root_failure(report: IngestReport, root: Path) -> str | None:
    """The ingest's complaint about the source's folder itself (missing, unreadable), if any."""
    for rejection in report.rejected:
        if rejection.path == str(root):
            return f"{root}: {rejection.error}"
    return None


def _held(report: IngestReport) -> str | None:
    """Why the ingest kept articles whose files vanished (the operator confirms with
    `newsbot sources refresh NAME --allow-retire`), or None."""
    if not report.held:
        return None
    return "; ".join(f"not retiring articles of {h.path}: {h.reason}" for h in report.held)


def _empty_message(source: SourceSettings, what: str, recorded: int) -> str:
    return (
        f"{what}; its {recorded} known files were kept (nothing retired): if that is right, "
        f"run `newsbot sources refresh {source.name} --allow-retire`"
    )


def _os_error(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def _display(url: str) -> str:
    from bot.sources.git import redact

    return redact(url)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def _log_result(result: RefreshResult) -> None:
    if not result.ok:
        return  # logged where it failed
    report = result.report
    if report is None:
        return
    log.info(
        "source %s%s: scanned=%d added=%d updated=%d retired=%d rejected=%d",
        result.name,
        f" @ {result.commit[:12]}" if result.commit else "",
        report.scanned,
        report.added,
        report.updated,
        report.retired,
        len(report.rejected),
    )
