"""`newsbot sources [refresh [NAME]] [--json]` through `bot.cli.main`."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from tests.sources.gitrepo import Origin


@pytest.fixture
def configured(
    tmp_path: Path, database: Path | str, origin: Origin, monkeypatch: pytest.MonkeyPatch
) -> Origin:
    """The CLI configured with a Git source, on each engine (`database`)."""
    config = tmp_path / "newsbot.yaml"
    config.write_text(
        f"sources:\n  - name: site\n    git: {origin.url}\n    every: 3h\n", encoding="utf-8"
    )
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    monkeypatch.setenv("NEWSBOT_DATABASE", str(database))
    monkeypatch.setenv("NEWSBOT_ARTICLES_DIR", str(origin.path / "_news"))
    return origin


def run_json(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 0) -> dict[str, Any]:
    capsys.readouterr()
    assert main([*argv, "--json"]) == code
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, dict)
    return data


def test_sources_json_has_the_documented_keys(
    configured: Origin, capsys: pytest.CaptureFixture[str]
) -> None:
    before = run_json(capsys, "sources")
    assert before == {
        "sources": [
            {
                "name": "articles",
                "kind": "local",
                "last_success": None,
                "last_error": None,
                "articles": 0,
                "next_refresh": None,
            },
            {
                "name": "site",
                "kind": "git",
                "last_success": None,
                "last_error": None,
                "articles": 0,
                "next_refresh": None,
            },
        ]
    }
    refreshed = run_json(capsys, "sources", "refresh", "site")
    assert [r["name"] for r in refreshed["refreshed"]] == ["site"]
    site = refreshed["refreshed"][0]
    assert site["ok"] is True
    assert site["changed"] is True
    assert site["ingest"]["added"] == 3
    after = run_json(capsys, "sources")
    entry = after["sources"][1]
    assert entry["articles"] == 3
    assert entry["last_success"] is not None
    assert entry["next_refresh"] is not None


def test_refresh_everything_and_the_human_table(
    configured: Origin, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sources", "refresh"]) == 0
    out = capsys.readouterr().out
    assert "site: refreshed at " in out
    assert "articles: refreshed: 3 files" in out
    assert "site (git): 3 articles; last success" in out


def test_a_failing_refresh_exits_1_with_one_line(
    configured: Origin, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sources", "refresh", "site"]) == 0
    shutil.move(configured.path, tmp_path / "elsewhere")
    capsys.readouterr()
    assert main(["sources", "refresh", "site"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("newsbot sources: site: git fetch failed: ")
    assert "Traceback" not in err[0]


def test_unknown_source_and_misplaced_options(
    configured: Origin, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sources", "refresh", "nope"]) == 1
    assert "no source is named 'nope' (configured: articles, site)" in capsys.readouterr().err
    assert main(["sources", "--allow-retire"]) == 2
    assert "go with `refresh`" in capsys.readouterr().err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_for_the_first_clone_and_the_ingest(
    configured: Origin, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["sources", "refresh", "site"]) == 0
    shown = terminal.getvalue()
    assert f"site: first clone of {configured.url} (shallow, _news only)" in shown
    assert "\rsite: scanned: 3/3 files\n" in shown
    assert shown.endswith("\n")


def test_ingest_without_folders_reads_only_the_local_sources(
    tmp_path: Path,
    database: Path | str,
    origin: Origin,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "only-git.yaml"
    config.write_text(f"sources:\n  - name: site\n    git: {origin.url}\n", encoding="utf-8")
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    monkeypatch.setenv("NEWSBOT_DATABASE", str(database))
    monkeypatch.delenv("NEWSBOT_ARTICLES_DIR", raising=False)
    assert run_json(capsys, "ingest")["scanned"] == 0  # not the default seeds/ folder
