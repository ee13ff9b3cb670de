"""`newsbot preview` end to end: real article files, ingested into a real store, previewed."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.store import Store
from bot.store.ingest import ingest_folders
from tests.discord_limits import validate_message_body

ARTICLE = """---
category: news
title: "{title}"
excerpt: "Excerpt of {title} with *stars* and @everyone."
publishedDateTime: {published}
webUrl: "{url}"
type: article
quality: {quality}
heat: {heat}
published: false

provider:
  name: {provider}
  domain: {domain}

topics:
{topics}
images:
  - url: "https://cdn.{domain}/img/{slug}.jpg"
    width: 1200
    height: 630
{related}
secured: "opaque"
---
"""

RELATED_ITEM = """  - title: "{title}"
    excerpt: "Same story."
    publishedDateTime: 2024-04-10T06:00:00Z
    webUrl: "{url}"
    type: article
    provider:
      name: {provider}
      domain: {domain}
"""


def write(
    folder: Path,
    slug: str,
    title: str,
    *,
    provider: str = "Example News",
    domain: str = "example.com",
    topics: tuple[str, ...] = ("Power Apps",),
    quality: int = 90,
    heat: int = -1,
    published: str = "2024-04-10T08:30:00Z",
    related: tuple[tuple[str, str, str], ...] = (),
) -> str:
    url = f"https://{domain}/news/{slug}"
    block = ""
    if related:
        block = "related:\n" + "".join(
            RELATED_ITEM.format(title=t, url=u, provider=p, domain=u.split("/")[2])
            for t, u, p in related
        )
    text = ARTICLE.format(
        title=title,
        published=published,
        url=url,
        quality=quality,
        heat=heat,
        provider=provider,
        domain=domain,
        slug=slug,
        topics="".join(f"  - {t}\n" for t in topics),
        related=block,
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{published[:10]}-{slug}.md").write_text(text, encoding="utf-8")
    return url


@pytest.fixture
def env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seeds_dir: Path, database: Path | str
) -> Path:
    """Articles in two source folders, ingested into a store under tmp_path."""
    config = tmp_path / "newsbot.yaml"
    config.write_text("digest:\n  per_topic: 3\n  max_per_provider: 2\n", encoding="utf-8")
    first, second = tmp_path / "articles" / "one", tmp_path / "articles" / "two"
    wire = write(
        second, "wire", "Copilot arrives in Power Apps!", provider="Wire", domain="wire.net"
    )
    write(
        first,
        "copilot",
        "Copilot arrives in Power Apps",
        quality=150,
        heat=800,
        related=(
            ("Copilot arrives in Power Apps!", wire, "Wire"),
            ("Copilot arrives in Power Apps", "https://blog.example.org/copilot", "Example Blog"),
            # topical, not the same story: no coverage
            ("Power Platform pricing for 2024", "https://elsewhere.example.net/p", "Elsewhere"),
        ),
    )
    shutil.copytree(first, second, dirs_exist_ok=True)  # the same files in a second folder
    for n in range(3):
        write(first, f"minor-{n}", f"Minor Power Apps fix number {n}", quality=40 + n)
    write(
        first,
        "druid",
        "Druids return to Diablo 4",
        topics=("Diablo 4", "Druid"),
        provider="Game News",
        domain="games.example.com",
        heat=300,
    )
    write(
        first,
        "season",
        "A new Diablo 4 season starts",
        topics=("Diablo 4",),
        provider="Other",
        domain="other.example.com",
    )
    write(first, "old", "An old story", published="2024-03-01T08:00:00Z")
    seed = sorted(seeds_dir.glob("000_*.txt"))[0]  # the project's seed article (2021)
    shutil.copy(seed, first / "000_seed.txt")
    store = Store.open(database)
    try:
        report = ingest_folders(
            store,
            None,
            [tmp_path / "articles"],
            max_file_bytes=1_048_576,
            now=datetime(2024, 4, 11, tzinfo=UTC),
        )
    finally:
        store.close()
    assert report.rejected == ()
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    monkeypatch.setenv("NEWSBOT_DATABASE", str(database))
    return tmp_path


def preview(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--log-level", "WARNING", "preview", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_human_preview_ranks_collapses_and_caps(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = preview(capsys, "--at", "2024-04-10T12:00:00+00:00")
    assert code == 0
    assert out.startswith("News digest — Wednesday 10 April 2024 · ")
    # the druid story goes under the more specific of its two topics
    sections = {part.split("\n", 1)[0]: part for part in out.split("\n## ")[1:]}
    assert "Druids return" in sections["Druid"]
    assert "Druids return" not in sections["Diablo 4"]
    assert "A new Diablo 4 season starts" in sections["Diablo 4"]
    assert out.count("Copilot") == 1  # the wire copy collapsed into the best article
    assert "also covered by: Wire, Example Blog" in out
    assert "Elsewhere" not in out
    assert "3 outlets" in out
    assert "heat unknown" in out
    # max_per_provider is 2, but no other outlet has Power Apps stories: the cap yields
    # rather than leave the section short
    assert out.count("Example News ·") == 3
    assert "An old story" not in out  # outside the 24 h look-back
    assert "https://example.com/news/copilot" in out


def test_json_preview_is_valid_discord_payloads(
    env: Path, capsys: pytest.CaptureFixture[str], discord_spec: dict[str, Any]
) -> None:
    code, out, _ = preview(
        capsys, "--at", "2024-04-10T12:00:00Z", "--topic", "power apps", "--limit", "1", "--json"
    )
    assert code == 0
    messages = json.loads(out)["messages"]
    assert len(messages) == 1
    [message] = messages
    assert validate_message_body(message, discord_spec) == []
    assert message["allowed_mentions"] == {"parse": []}
    assert message["content"] == "📰 **News digest** — Wednesday 10 April 2024 · power apps"
    [embed] = message["embeds"]
    assert embed["title"] == "Copilot arrives in Power Apps"
    assert embed["description"].startswith(
        "Excerpt of Copilot arrives in Power Apps with \\*stars\\*"
    )
    assert "@\u200beveryone" in embed["description"]
    assert embed["image"] == {"url": "https://cdn.example.com/img/copilot.jpg"}


def test_latest_previews_historic_folders(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = preview(capsys, "--at", "latest", "--limit", "5")
    assert code == 0
    assert "Wednesday 10 April 2024" in out.splitlines()[0]
    assert "Minor Power Apps fix number 2" in out


def test_empty_window_says_so_and_names_the_newest_article(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = preview(capsys, "--at", "2030-01-01T00:00:00Z")
    assert code == 0
    assert out.startswith("Nothing to post: no articles between 2029-12-31 00:00")
    assert "the newest article is from 2024-04-10 08:30 UTC" in out
    code, out, err = preview(capsys, "--at", "2030-01-01T00:00:00Z", "--json")
    assert code == 0
    assert json.loads(out) == {"messages": []}
    assert "2024-04-10" in err


def test_unknown_topic_is_refused_with_the_closest_topics(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = preview(capsys, "--at", "latest", "--topic", "Diablo4")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "newsbot preview: unknown topic 'Diablo4'; closest: Diablo 4 (`newsbot topics` lists "
        "them all)"
    ]
    code, out, err = preview(capsys, "--at", "latest", "--topic", "Gardening")
    assert code == 1
    assert "unknown topic 'Gardening'" in err
    code, out, _ = preview(capsys, "--at", "latest", "--topic", "diablo 4")  # case is free
    assert code == 0
    assert "Druids return to Diablo 4" in out


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59+00:00"])
def test_moments_out_of_range_are_refused_in_one_line(
    env: Path, capsys: pytest.CaptureFixture[str], moment: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        preview(capsys, "--at", moment)
    assert exit_info.value.code == 2
    assert "is out of range: give a moment between 1900-01-01 and 9998-12-31" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("moment", ["1900-01-01T00:00:00", "9998-12-30T12:00:00-12:00"])
def test_the_edges_of_the_range_preview_without_a_traceback(
    env: Path, capsys: pytest.CaptureFixture[str], moment: str
) -> None:
    code, out, _ = preview(capsys, "--at", moment)
    assert code == 0
    assert out.startswith("Nothing to post: no articles between")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--at", "yesterday"], "is not a date and time"),
        (["--limit", "0"], "between 1 and 10"),
    ],
)
def test_bad_arguments_are_refused_clearly(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        preview(capsys, *argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_empty_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "newsbot.yaml"
    config.write_text("{}\n", encoding="utf-8")
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    monkeypatch.setenv("NEWSBOT_DATABASE", str(tmp_path / "empty.sqlite3"))
    code, out, _ = preview(capsys)
    assert code == 0
    assert "the store has no articles: run `newsbot ingest` first" in out


def test_preview_of_the_project_seeds_is_valid_for_discord(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    seeds_dir: Path,
    discord_spec: dict[str, Any],
) -> None:
    database = tmp_path / "seeds.sqlite3"
    store = Store.open(database)
    try:
        ingest_folders(store, None, [seeds_dir], max_file_bytes=1_048_576, now=datetime.now(UTC))
    finally:
        store.close()
    config = tmp_path / "newsbot.yaml"
    config.write_text("{}\n", encoding="utf-8")
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    monkeypatch.setenv("NEWSBOT_DATABASE", str(database))
    code, out, _ = preview(capsys, "--at", "latest", "--limit", "10", "--json")
    assert code == 0
    messages = json.loads(out)["messages"]
    assert messages
    for message in messages:
        assert validate_message_body(message, discord_spec) == []
