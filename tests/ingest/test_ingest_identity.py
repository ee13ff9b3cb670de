"""canonical_url: one identity per story URL, whatever upstream does to the link."""

from __future__ import annotations

import pytest

from bot.ingest import canonical_url
from bot.ingest.identity import article_id


@pytest.mark.parametrize(
    "variant",
    [
        "https://example.com/news/story",
        "HTTPS://WWW.Example.com/news/story/",
        "https://www.example.com/news/story#comments",
        "https://example.com/news/story?utm_source=feed&utm_medium=rss",
        "https://example.com/news/story/?fbclid=abc&gclid=def",
        "  https://example.com:443/news/story  ",
    ],
)
def test_link_variants_share_one_identity(variant: str) -> None:
    assert canonical_url(variant) == "https://example.com/news/story"


@pytest.mark.parametrize(
    "variant",
    [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtube.com/watch?v=dQw4w9WgXcQ&t=42s",
        "https://m.youtube.com/watch?feature=share&v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ",
        "https://www.youtube.com/embed/dQw4w9WgXcQ?autoplay=1",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        "https://www.youtube.com/shorts/dQw4w9WgXcQ",
    ],
)
def test_youtube_forms_become_one_video(variant: str) -> None:
    assert canonical_url(variant) == "https://youtube.com/watch?v=dQw4w9WgXcQ"


def test_meaningful_query_parameters_are_kept_in_a_stable_order() -> None:
    assert canonical_url("https://example.com/item?b=2&a=1&utm_campaign=x") == (
        "https://example.com/item?a=1&b=2"
    )
    assert canonical_url("https://example.com/item?id=1") != canonical_url(
        "https://example.com/item?id=2"
    )


def test_different_stories_differ_and_junk_never_raises() -> None:
    assert canonical_url("https://example.com/a") != canonical_url("https://example.com/b")
    for junk in ("", "   ", "not a url", "https://[broken", "mailto:a@b.c"):
        assert isinstance(canonical_url(junk), str)


def test_article_id_without_url_uses_domain_and_title() -> None:
    first = article_id(None, domain="Example.com", title="  Big  News&amp;more ")
    again = article_id("", domain="example.com", title="big news&more")
    assert first == again
    assert len(first) == 16
    assert first != article_id(None, domain="other.example", title="big news&more")
    assert article_id("https://www.example.com/x/", domain="", title="") == article_id(
        "https://example.com/x", domain="z", title="y"
    )


def test_http_and_https_copies_are_one_article() -> None:
    assert canonical_url("http://www.example.com/a/b/") == canonical_url("https://example.com/a/b")
    assert canonical_url("HTTP://Example.com/x?b=2&a=1&utm_source=feed") == (
        "https://example.com/x?a=1&b=2"
    )
