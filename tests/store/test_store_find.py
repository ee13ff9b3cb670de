"""`Store.find_article`: a pasted link finds its article, active or retired, under any spelling."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bot.ingest.identity import article_id
from bot.store import Store
from tests.golden.articles import make_article

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def test_links_of_an_article_find_it(database: Path | str) -> None:
    url = "https://www.example.com/news/story"
    article = make_article("Story", url=url, original_url="https://origin.example.org/s?id=7")
    article = replace(article, id=article_id(url, domain="", title=""))
    with Store.open(database) as store:
        store.put_article(article, source_path=None, source_digest=None)
        for link in (
            url,
            "http://example.com/news/story/",
            "https://www.example.com/news/story?utm_source=feed#top",
            "https://origin.example.org/s?id=7",
        ):
            found = store.find_article(link)
            assert found is not None, link
            assert found.article.id == article.id
            assert found.retired_at is None
        assert store.find_article("https://example.com/other") is None
        store.retire_article(article.id, NOW)
        retired = store.find_article(url)
        assert retired is not None
        assert retired.retired_at == NOW
        assert not retired.removed  # no file said `removed: true`: its files are gone
