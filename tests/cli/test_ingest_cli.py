"""`newsbot ingest`, `newsbot search` and `newsbot check` through `bot.cli.main`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.store import Store

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
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: Path | str) -> Path:
    """A config and an articles folder under tmp_path, and a database (each engine in turn)."""
    config = tmp_path / "newsbot.yaml"
    config.write_text("digest:\n  per_topic: 3\n", encoding="utf-8")
    articles = tmp_path / "articles"
    write_article(articles, "copilot", "Copilot arrives in Power Apps")
    write_article(articles, "druid", "Druids return to Diablo 4", topic="Diablo 4")
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    monkeypatch.setenv("NEWSBOT_DATABASE", str(database))
    monkeypatch.setenv("NEWSBOT_ARTICLES_DIR", str(articles))
    return articles


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
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
    assert set(first) == {
        "scanned",
        "added",
        "updated",
        "unchanged",
        "retired",
        "rejected",
        "held",
        "seconds",
    }
    assert (first["retired"], first["held"]) == (0, [])
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
    assert len(both["results"]) == 1
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


def test_ingest_json_counts_retired_and_holds_an_emptied_folder(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_article(env, "licensing", "Dataverse licensing explained")
    run_json(capsys, "ingest")
    (env / "2024-04-10-licensing.md").unlink()  # one of three: retired
    assert run_json(capsys, "ingest")["retired"] == 1
    for path in env.iterdir():  # the other two: the whole folder, held
        path.unlink()
    held = run_json(capsys, "ingest")
    assert held["retired"] == 0
    [entry] = held["held"]
    assert set(entry) == {"path", "would_retire", "reason"}
    assert (entry["path"], entry["would_retire"]) == (str(env.resolve()), 2)
    assert "--allow-retire" in entry["reason"]
    capsys.readouterr()
    assert main(["ingest"]) == 0
    out = capsys.readouterr().out
    assert "0 retired" in out
    assert f"not retired {env.resolve()}: the files of 2 of its 2 articles are gone" in out
    assert "--allow-retire" in out
    assert main(["search", "copilot"]) == 0
    assert "Copilot arrives in Power Apps" in capsys.readouterr().out
    allowed = run_json(capsys, "ingest", "--allow-retire")
    assert (allowed["retired"], allowed["held"]) == (2, [])


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing", "missing: no such folder or file"),
        ("README.md", "README.md is not an article file: no front matter"),
    ],
)
def test_ingest_refuses_a_missing_path_or_a_file_that_is_not_an_article(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    (tmp_path / "README.md").write_text("# My news site\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["ingest", str(tmp_path / name)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("newsbot ingest: ")
    assert message in captured.err
    assert "Traceback" not in captured.err


def test_a_single_article_file_is_ingested_as_itself(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_article(tmp_path / "inbox", "single", "A single article")
    write_article(tmp_path / "inbox", "neighbour", "Its neighbour is not read")
    data = run_json(capsys, "ingest", str(path))
    assert (data["scanned"], data["added"], data["rejected"]) == (1, 1, [])
    assert run_json(capsys, "ingest", str(path))["unchanged"] == 1
    titles = [r["title"] for r in run_json(capsys, "search", "single")["results"]]
    assert titles == ["A single article"]
    assert run_json(capsys, "search", "neighbour")["results"] == []
    # its folder's other files were neither read nor recorded
    assert run_json(capsys, "ingest", str(tmp_path / "inbox"))["added"] == 1


def test_an_out_of_range_number_is_one_rejected_file_not_a_crash(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_article(env, "overflow", "Overflowing heat")
    bad.write_text(
        bad.read_text(encoding="utf-8").replace("heat: -1", "heat: 123456789012345678901234567890"),
        encoding="utf-8",
    )
    data = run_json(capsys, "ingest")
    assert data["added"] == 2
    assert data["rejected"] == [
        {
            "path": str(bad.resolve()),
            "error": "heat is out of range: a number beyond 64 bits (97 bits) "
            "(expected 0 to 1,000,000, or -1 for unknown)",
        }
    ]


def test_preview_text_and_embeds_show_the_same_clean_title_and_video_link(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixtures = Path(__file__).resolve().parent.parent / "fixtures" / "articles" / "quirky"
    for name in ("video.md", "hostile_text.md"):
        shutil.copy(fixtures / name, env / name)
    assert main(["ingest"]) == 0
    preview = run_json(capsys, "preview", "--at", "latest")
    messages = preview["messages"]
    assert isinstance(messages, list)
    embeds = [embed for message in messages for embed in message.get("embeds", [])]
    by_title = {embed["title"]: embed for embed in embeds}
    video = next(embed for title, embed in by_title.items() if "Season of the Reaper" in title)
    assert video["url"] == "https://youtube.com/watch?v=AbCdEfGhIjK"
    assert any(title.endswith("Breaking: Copilot comes to Power Apps") for title in by_title)
    text_body = json.dumps(preview)
    for leftover in ("\\u001b", "[31m", "[0m", "<b>", "\\\\<b", "templates\\\\<"):
        assert leftover not in text_body
    capsys.readouterr()
    assert main(["preview", "--at", "latest"]) == 0
    text = capsys.readouterr().out
    assert "    https://youtube.com/watch?v=AbCdEfGhIjK" in text
    assert "/embed/" not in text
    assert "Breaking: Copilot comes to Power Apps" in text


def test_a_failing_database_is_one_line_and_exit_1(
    env: Path, database: Path | str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The store failing itself (not one bad row) ends the ingest with one line, no traceback."""
    from tests.store.test_ingest_isolation import PG_BROKEN, script

    with Store.open(database) as store:
        sqlite_sql = (
            "CREATE TRIGGER broken BEFORE INSERT ON articles BEGIN SELECT no_such_function(); END;"
        )
        script(store, sqlite_sql, PG_BROKEN)
    assert main(["ingest"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("newsbot ingest: the database ")
    assert "no_such_function" in line
