"""`newsbot ingest`, `newsbot search` and `newsbot check` through `bot.cli.main`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main

ARTICLE = """---
category: news
title: "{title}"
excerpt: "{excerpt}"
publishedDateTime: 2024-04-10T08:30:00Z
originalUrl: "https://news.example.com/{slug}"
webUrl: "https://news.example.com/{slug}"
type: article
quality: 90
heat: -1
published: false

provider:
  name: Example News
  domain: example.com

topics:
  - {topic}

secured: "opaque"
---
"""


def write_article(folder: Path, slug: str, title: str, topic: str = "Power Apps") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"2024-04-10-{slug}.md"
    text = ARTICLE.format(title=title, excerpt=f"About {title}.", slug=slug, topic=topic)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config, a database and an articles folder, all under tmp_path."""
    config = tmp_path / "newsbot.yaml"
    config.write_text("digest:\n  per_topic: 3\n", encoding="utf-8")
    articles = tmp_path / "articles"
    write_article(articles, "copilot", "Copilot arrives in Power Apps")
    write_article(articles, "druid", "Druids return to Diablo 4", topic="Diablo 4")
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    monkeypatch.setenv("NEWSBOT_DATABASE", str(tmp_path / "data" / "newsbot.sqlite3"))
    monkeypatch.setenv("NEWSBOT_ARTICLES_DIR", str(articles))
    return articles


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, dict)
    return data


def test_ingest_json_has_exactly_the_documented_keys(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "broken.md").write_text("---\ntitle: [oops\n---\n", encoding="utf-8")
    first = run_json(capsys, "ingest")
    assert set(first) == {"scanned", "added", "updated", "unchanged", "rejected", "seconds"}
    assert (first["scanned"], first["added"], first["updated"], first["unchanged"]) == (3, 2, 0, 0)
    rejected = first["rejected"]
    assert isinstance(rejected, list)
    assert [set(r) for r in rejected] == [{"path", "error"}]
    assert rejected[0]["path"].endswith("broken.md")
    second = run_json(capsys, "ingest")
    assert (second["added"], second["unchanged"]) == (0, 2)


def test_ingest_explicit_folders_and_human_output(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    write_article(other, "licensing", "Dataverse licensing explained")
    assert main(["ingest", str(other)]) == 0
    out = capsys.readouterr().out
    assert "scanned 1 files" in out
    assert "1 added" in out


def test_search_json_results(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest"]) == 0
    data = run_json(capsys, "search", "copilot")
    results = data["results"]
    assert isinstance(results, list)
    assert len(results) == 1
    hit = results[0]
    # the documented keys, plus "also": the other outlets of the same story
    assert set(hit) == {
        "id",
        "title",
        "url",
        "topics",
        "published",
        "quality",
        "heat",
        "score",
        "also",
    }
    assert hit["also"] == []
    assert hit["title"] == "Copilot arrives in Power Apps"
    assert hit["topics"] == ["Power Apps"]
    assert hit["published"] == "2024-04-10T08:30:00+00:00"
    assert (hit["quality"], hit["heat"]) == (90, None)
    assert isinstance(hit["score"], float)


def test_search_topic_limit_and_no_results(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest"]) == 0
    assert run_json(capsys, "search", "druids", "--topic", "power apps")["results"] == []
    both = run_json(capsys, "search", "power", "apps", "diablo", "--limit", "1")
    assert len(both["results"]) == 1  # type: ignore[arg-type]
    capsys.readouterr()
    assert main(["search", '"AND OR -*:']) == 0
    assert "no articles match" in capsys.readouterr().out


def test_search_on_an_empty_store_says_so(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "anything"]) == 0
    assert "run `newsbot ingest` first" in capsys.readouterr().out


def test_search_limit_is_validated(env: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["search", "x", "--limit", "0"])
    assert exc.value.code == 2


def test_check_passes_on_good_articles_and_writes_nothing(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check"]) == 0
    assert "no problems found" in capsys.readouterr().out
    assert not (tmp_path / "data" / "newsbot.sqlite3").exists()


def test_check_lists_problems_with_paths_and_fails(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = env / "sub" / "bad.md"
    bad.parent.mkdir()
    bad.write_text(
        ARTICLE.replace("Example News", "DM: Diablo Immortal").format(
            title="t", excerpt="e", slug="s", topic="AI"
        ),
        encoding="utf-8",
    )
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert f"problem: {bad}:" in out
    assert "1 problem(s) found" in out


def test_check_fails_on_a_missing_articles_folder(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(env)
    assert main(["check"]) == 1
    assert "does not exist" in capsys.readouterr().out
