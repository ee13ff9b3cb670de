"""The command line from a user's chair: --version, --log-level anywhere, `topics`, --json on
every command that prints results, unknown topics, and no traceback for a closed pipe, an
unwritable backup or a database that may only be read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent

ARTICLE = """---
title: "{title}"
excerpt: "About {title}."
publishedDateTime: 2024-04-10T08:30:00Z
webUrl: "https://news.example.com/{slug}"
type: article
quality: 90
heat: 10
provider:
  name: Example News
  domain: example.com
topics:
{topics}
secured: "opaque"
---
"""


def write_article(folder: Path, slug: str, title: str, *topics: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    listed = "".join(f"  - {t}\n" for t in topics)
    text = ARTICLE.format(title=title, slug=slug, topics=listed)
    (folder / f"2024-04-10-{slug}.md").write_text(text, encoding="utf-8")


def _configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: Path | str) -> Path:
    config = tmp_path / "newsbot.yaml"
    config.write_text("{}\n", encoding="utf-8")
    articles = tmp_path / "articles"
    write_article(articles, "copilot", "Copilot arrives in Power Apps", "Power Apps", "AI")
    write_article(articles, "druid", "Druids return to Diablo 4", "Diablo 4")
    write_article(articles, "season", "A new Diablo 4 season starts", "Diablo 4")
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    monkeypatch.setenv("NEWSBOT_DATABASE", str(database))
    monkeypatch.setenv("NEWSBOT_ARTICLES_DIR", str(articles))
    return tmp_path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: Path | str) -> Path:
    """Three articles in two topics and the config under tmp_path; the store on each engine."""
    return _configure(tmp_path, monkeypatch, database)


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The same with the store in a SQLite file under tmp_path/data, for the tests of what
    only a SQLite file has (the backup command, a read-only file) or that never open it."""
    return _configure(tmp_path, monkeypatch, tmp_path / "data" / "newsbot.sqlite3")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("newsbot ")


def test_log_level_is_accepted_after_the_command(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "topics", "--log-level", "WARNING")
    assert code == 0
    assert "the store is empty" in out
    assert run(capsys, "--log-level", "ERROR", "topics")[0] == 0


def test_topics_lists_the_stores_topics_with_their_counts(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "topics", "--json")
    assert (code, json.loads(out)) == (0, {"topics": []})
    assert run(capsys, "ingest")[0] == 0
    code, out, _ = run(capsys, "topics", "--json")
    assert code == 0
    assert json.loads(out) == {
        "topics": [
            {"name": "Diablo 4", "articles": 2},
            {"name": "AI", "articles": 1},
            {"name": "Power Apps", "articles": 1},
        ]
    }
    code, out, _ = run(capsys, "topics")
    assert out.splitlines() == ["2  Diablo 4", "1  AI", "1  Power Apps"]


def test_search_refuses_an_unknown_topic_naming_the_closest(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "ingest")[0] == 0
    code, out, err = run(capsys, "search", "druids", "--topic", "diablo")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "newsbot search: unknown topic 'diablo'; closest: Diablo 4 (`newsbot topics` lists them "
        "all)"
    ]
    code, out, _ = run(capsys, "search", "druids", "--topic", "DIABLO 4", "--json")
    assert code == 0
    assert [r["title"] for r in json.loads(out)["results"]] == ["Druids return to Diablo 4"]


def test_check_json(sqlite_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `newsbot check` reads the files only, never the store: one engine says it all
    env = sqlite_env
    code, out, _ = run(capsys, "check", "--json")
    assert (code, json.loads(out)) == (0, {"ok": True, "problems": []})
    bad = env / "articles" / "bad.md"
    bad.write_text("---\ntitle: [oops\n---\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", "--json")
    data = json.loads(out)
    assert (code, data["ok"]) == (1, False)
    assert [p["path"] for p in data["problems"]] == [str(bad)]
    assert set(data["problems"][0]) == {"path", "error"}


def test_without_an_articles_folder_ingest_and_check_say_so_in_one_line(
    sqlite_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # both refuse before any store is opened: one engine says it all
    env = sqlite_env
    monkeypatch.delenv("NEWSBOT_ARTICLES_DIR")
    code, out, err = run(capsys, "ingest")
    assert (code, out) == (1, "")
    assert err.startswith("newsbot ingest: no articles folder is set: set NEWSBOT_ARTICLES_DIR")
    assert len(err.splitlines()) == 1
    code, out, _ = run(capsys, "check", "--json")
    assert code == 1
    assert json.loads(out)["problems"][0]["error"].startswith("no articles folder is set")
    monkeypatch.setenv("NEWSBOT_ARTICLES_DIR", str(env / "nowhere"))
    code, _, err = run(capsys, "ingest")
    assert code == 1
    assert "nowhere does not exist or is not a folder" in err


def test_backup_json_and_unwritable_places(
    sqlite_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SQLite only: `newsbot backup` copies a SQLite file (PostgreSQL's backup is pg_dump)
    env = sqlite_env
    assert run(capsys, "ingest")[0] == 0
    dest = env / "backups" / "copy.sqlite3"
    code, out, _ = run(capsys, "backup", str(dest), "--json")
    assert code == 0
    data = json.loads(out)
    assert data == {
        "database": str(env / "data" / "newsbot.sqlite3"),
        "backup": str(dest),
        "bytes": dest.stat().st_size,
    }


def test_backup_into_an_unwritable_place_is_one_line(
    sqlite_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SQLite only: `newsbot backup` copies a SQLite file (PostgreSQL's backup is pg_dump)
    env = sqlite_env
    assert run(capsys, "ingest")[0] == 0
    not_a_database = env / "notes.txt"
    not_a_database.write_text("my notes\n", encoding="utf-8")
    code, out, err = run(capsys, "backup", str(not_a_database))
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"newsbot: cannot write {not_a_database}: file is not a database"]
    assert not_a_database.read_text(encoding="utf-8") == "my notes\n"
    if Path("/proc/self").is_dir():  # a place where even root may not create a file
        code, _, err = run(capsys, "backup", "/proc/newsbot-backup.sqlite3")
        assert code == 1
        assert err.splitlines() == [
            "newsbot: cannot write /proc/newsbot-backup.sqlite3: unable to open database file"
        ]


def _subprocess_env(env: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}


def test_a_closed_output_pipe_is_no_traceback(sqlite_env: Path) -> None:
    """`newsbot … | head -1`: the reader went away before the output was written."""
    # `newsbot check` reads the files only, never the store: one engine says it all
    env = sqlite_env
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "check"],
            stdout=writer,
            stderr=subprocess.PIPE,
            env=_subprocess_env(env),
            timeout=120,
            check=False,
        )
    finally:
        os.close(writer)
    assert done.stderr.decode() == ""
    assert done.returncode == 141


UNSHARE = shutil.which("unshare")


def _read_only_mount_available() -> bool:
    if UNSHARE is None or shutil.which("mount") is None:
        return False
    probe = subprocess.run(  # noqa: S603 - fixed arguments
        [UNSHARE, "-rm", "true"], capture_output=True, timeout=30, check=False
    )
    return probe.returncode == 0


READ_ONLY = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" && shift && exec "$@"'


@pytest.mark.skipif(
    not _read_only_mount_available(),
    reason="needs user namespaces (unshare -rm) to mount read-only",
)
def test_read_only_commands_work_on_a_read_only_database(
    sqlite_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The database and its index on a read-only mount (which even root cannot write):
    search, preview and topics read it without writing anything."""
    # SQLite only: a database file on a read-only mount (PostgreSQL's files are the server's)
    env = sqlite_env
    assert run(capsys, "ingest")[0] == 0
    data = env / "data"
    listing = sorted(p.name for p in data.rglob("*"))
    command = [sys.executable, "-m", "bot", "--log-level", "WARNING"]
    for argv in (
        ["search", "druids", "--json"],
        ["preview", "--at", "latest", "--json"],
        ["topics", "--json"],
    ):
        done = subprocess.run(  # noqa: S603 - fixed arguments
            [str(UNSHARE), "-rm", "sh", "-c", READ_ONLY, "sh", str(data), *command, *argv],
            capture_output=True,
            text=True,
            env=_subprocess_env(env),
            timeout=120,
            check=False,
        )
        assert (done.returncode, done.stderr) == (0, ""), argv
        result = json.loads(done.stdout)
        assert any(result.values()), (argv, result)  # found something
    assert sorted(p.name for p in data.rglob("*")) == listing
