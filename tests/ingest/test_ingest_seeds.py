"""Every shipped sample article in seeds/ parses into an article."""

from __future__ import annotations

from pathlib import Path

from bot.ingest import ParsedFile, parse_file, parse_related


def test_every_seed_parses(seeds_dir: Path) -> None:
    paths = sorted(p for p in seeds_dir.iterdir() if p.is_file())
    assert len(paths) >= 13
    results = [parse_file(path) for path in paths]
    assert [r for r in results if not isinstance(r, ParsedFile)] == []
    articles = [r.article for r in results if isinstance(r, ParsedFile)]
    assert len({a.id for a in articles}) == len(articles)
    assert {"AI", "Diablo 4", "Power Apps", "Space"} <= {t for a in articles for t in a.topics}
    assert any(a.kind == "video" and a.video_url for a in articles)
    assert any(a.images for a in articles)
    assert any(not a.images for a in articles)


def test_two_seed_outlets_list_each_other(seeds_dir: Path) -> None:
    results = [parse_file(p) for p in sorted(seeds_dir.glob("2026-*.md"))]
    articles = {r.article.url: r.article for r in results if isinstance(r, ParsedFile)}
    pairs = [
        (a, c.url)
        for a in articles.values()
        for c in parse_related(a.related_yaml)
        if c.url in articles
        and any(x.url == a.url for x in parse_related(articles[c.url].related_yaml))
    ]
    assert len(pairs) == 2
