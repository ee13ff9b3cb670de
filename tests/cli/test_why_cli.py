"""`newsbot why` end to end: real article files, ingested into a real SQLite store, explained."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.store import Store
from bot.store.ingest import ingest_folders
from tests.cli.test_preview import write

AT = "2024-04-10T12:00:00Z"


@pytest.fixture
def urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: Path | str) -> dict[str, str]:
    config = tmp_path / "newsbot.yaml"
    config.write_text("digest:\n  per_topic: 3\n  max_per_provider: 2\n", encoding="utf-8")
    folder = tmp_path / "articles"
    found = {
        "best": write(folder, "copilot", "Copilot arrives in Power Apps", quality=150, heat=800),
        "second": write(
            folder, "forms", "Forms get a new designer", quality=120, provider="B", domain="b.com"
        ),
        "third": write(
            folder, "tables", "Tables learn relations", quality=110, provider="C", domain="c.com"
        ),
        "weak": write(
            folder, "typo", "A typo fixed in the docs", quality=30, provider="D", domain="d.com"
        ),
        "old": write(folder, "old", "An old story", published="2024-03-01T08:00:00Z"),
        "pulled": write(folder, "pulled", "A pulled story", provider="E", domain="e.com"),
    }
    pulled = next(folder.glob("*-pulled.md"))
    pulled.write_text(
        pulled.read_text(encoding="utf-8").replace("published: false", "removed: true"),
        encoding="utf-8",
    )
    with Store.open(database) as store:
        report = ingest_folders(
            store, None, [folder], max_file_bytes=1_048_576, now=datetime(2024, 4, 11, tzinfo=UTC)
        )
    assert report.rejected == ()
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    monkeypatch.setenv("NEWSBOT_DATABASE", str(database))
    return found


def why_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["why", *args, "--at", AT, "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_json_keys_and_an_included_article(
    urls: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    data = why_json(capsys, urls["best"])
    assert set(data) == {"article", "score", "story", "verdict", "reason"}
    assert set(data["score"]) == {"quality", "heat", "coverage", "recency", "total"}
    assert set(data["story"]) == {"members", "coverage"}
    assert data["verdict"] == "included"
    assert data["reason"] == "in the digest: #1 in Power Apps"
    assert data["article"]["url"] == urls["best"]
    assert [m["url"] for m in data["story"]["members"]] == [urls["best"]]


def test_the_link_is_found_under_another_spelling(
    urls: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    link = urls["best"].replace("https://", "http://www.") + "/?utm_source=newsletter"
    assert why_json(capsys, link)["article"]["url"] == urls["best"]


def test_each_exclusion_says_why(urls: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    weak = why_json(capsys, urls["weak"])
    assert weak["verdict"] == "excluded"
    assert "outranked in Power Apps" in weak["reason"]
    assert "“Forms get a new designer” (B)" in weak["reason"]
    old = why_json(capsys, urls["old"])
    assert old["verdict"] == "excluded"
    assert old["reason"] == "outside the window 2024-04-09 12:00 UTC → 2024-04-10 12:00 UTC"
    pulled = why_json(capsys, urls["pulled"])
    assert pulled["verdict"] == "excluded"
    assert "retired on 2024-04-11 (upstream marked it removed)" in pulled["reason"]
    other = why_json(capsys, urls["best"], "--topic", "Diablo 4")
    assert other["reason"].startswith("not in any subscribed topic")


def test_human_output_is_a_few_readable_lines(
    urls: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["why", urls["weak"], "--at", AT]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("A typo fixed in the docs — D, 2024-04-10")
    assert lines[1].startswith("EXCLUDED: outranked in Power Apps")
    assert lines[2].startswith("score ")
    assert len(lines) < 10


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://nowhere.example/story", "no article with the link https://nowhere.example/story"),
        ("not a link", "'not a link' is not a link"),
    ],
)
def test_unknown_links_get_one_line_and_exit_1(
    urls: dict[str, str], capsys: pytest.CaptureFixture[str], link: str, expected: str
) -> None:
    assert main(["why", link]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert expected in captured.err
    assert "newsbot search" in captured.err
    assert main(["why", link, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "unknown"
    assert data["article"] is None
