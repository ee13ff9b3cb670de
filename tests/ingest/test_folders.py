"""Folder listings: which files count, subfolders, sizes and times, and unreadable folders."""

from __future__ import annotations

import os
from pathlib import Path

from bot.ingest import folders
from bot.ingest.folders import Listing, walk_folders


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
