"""Folder listings: which files count, subfolders, and big folders looked up by two processes."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from bot.ingest import folders
from bot.ingest.folders import Listing, walk_folders

needs_fd = pytest.mark.skipif(
    not folders._BY_FOLDER_FD, reason="a helper process needs fstatat (POSIX)"
)


def make_folder(root: Path, files: int) -> Path:
    """`files` article files with distinct sizes and mtimes, plus everything that is not one."""
    root.mkdir()
    for n in range(files):
        path = root / f"2024-01-{n:04d}-story.md"
        path.write_text("x" * (n + 1), encoding="utf-8")
        os.utime(path, ns=(1_700_000_000 * 10**9 + n, 1_700_000_000 * 10**9 + n))
    (root / "README.md").write_text("# docs\n", encoding="utf-8")
    (root / ".hidden.md").write_text("hidden\n", encoding="utf-8")
    (root / "image.png").write_bytes(b"\x89PNG")
    (root / "Upper.MARKDOWN").write_text("an article too\n", encoding="utf-8")
    (root / "folder.md").mkdir()  # a folder named like an article is a folder
    (root / "sub").mkdir()
    (root / ".git").mkdir()
    (root / "link-to-file.md").symlink_to(root / "2024-01-0000-story.md")
    (root / "link-to-folder.md").symlink_to(root / "sub")
    (root / "dangling.md").symlink_to(root / "gone.md")
    os.mkfifo(root / "pipe.md")
    return root


def entries(listing: Listing) -> set[tuple[str, int, int]]:
    return set(zip(listing.names, listing.mtimes_ns, listing.sizes, strict=True))


def test_what_counts_as_an_article_file_and_a_subfolder(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "news", 3)
    listing, subfolders = folders._list_folder(str(root))
    assert sorted(listing.names) == [
        "2024-01-0000-story.md",
        "2024-01-0001-story.md",
        "2024-01-0002-story.md",
        "Upper.MARKDOWN",
        "link-to-file.md",
    ]
    assert sorted(subfolders) == ["folder.md", "sub"]
    assert ("2024-01-0002-story.md", 1_700_000_000 * 10**9 + 2, 3) in entries(listing)


@needs_fd
def test_a_big_folder_looked_up_by_two_processes_lists_the_same(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "news", 40)
    alone, alone_subfolders = folders._list_folder(str(root))
    shared, shared_subfolders = folders._list_folder(
        str(root), stat_while_listing=5, helper_min=1, helper_start=0
    )
    assert entries(shared) == entries(alone)
    assert len(shared) == len(alone) == 42
    assert shared.names == alone.names  # directory order either way: the digest is the same
    assert shared.digest() == alone.digest()
    assert sorted(shared_subfolders) == sorted(alone_subfolders)


@needs_fd
def test_when_the_helper_cannot_start_this_process_looks_everything_up(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "news", 10)
    names = sorted(os.listdir(root))
    assert folders._start_helper(str(root), names, python="") is None
    assert folders._start_helper(str(root), names, python=str(tmp_path / "no-python")) is None
    # a helper that fails (its folder is gone) gives no answer rather than a wrong one
    helper = folders._start_helper(str(tmp_path / "gone"), names, python=sys.executable)
    assert helper is not None
    assert folders._helper_results(helper, len(names)) is None


@needs_fd
def test_the_helper_answers_mode_mtime_and_size_per_name(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "news", 2)
    names = ["2024-01-0001-story.md", "missing.md", "sub"]
    helper = folders._start_helper(str(root), names)
    assert helper is not None
    answer = folders._helper_results(helper, len(names))
    assert answer is not None
    triples = [tuple(answer[i : i + 3]) for i in range(0, len(answer), 3)]
    assert triples[0][1:] == (1_700_000_000 * 10**9 + 1, 2)
    assert triples[1] == (0, 0, 0)  # could not be looked up
    assert stat.S_ISDIR(triples[2][0])


def test_walk_goes_depth_first_in_name_order_and_reports_unreadable_folders(
    tmp_path: Path,
) -> None:
    root = tmp_path / "news"
    for folder in ("b", "a/deeper", "c"):
        (root / folder).mkdir(parents=True)
    (root / "a" / "x.md").write_text("x", encoding="utf-8")
    seen = [
        (Path(folder).relative_to(root).as_posix(), type(listing))
        for folder, listing in walk_folders(str(root))
    ]
    assert [name for name, _ in seen] == [".", "a", "a/deeper", "b", "c"]
    assert all(kind is Listing for _, kind in seen)
    missing = list(walk_folders(str(tmp_path / "absent")))
    assert len(missing) == 1
    assert isinstance(missing[0][1], OSError)
