"""Formatting: every payload is one Discord accepts, reads well, links right and pings nobody."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.models import Article, Digest, DigestItem, DigestSection, Image, ScoreBreakdown
from bot.core.server_settings import build_settings
from bot.core.urls import safe_url
from bot.discord.formatting import (
    NO_MENTIONS,
    article_link,
    digest_messages,
    escape_markdown,
    fit,
    search_page,
    status_page,
    top_page,
    topic_colour,
    truncate,
)
from bot.search.index import SearchHit
from bot.store.guilds import GuildState
from tests.discord_limits import embed_length, validate_message_body
from tests.golden.articles import GOLDEN_NOW, make_article

SCORE = ScoreBreakdown(quality=0.4, heat=0.5, coverage=0.3, recency=0.5, total=1.7)


def item(article: Article, also: tuple[str, ...] = (), coverage: int = 0) -> DigestItem:
    return DigestItem(article, SCORE, also, coverage)


def digest(*sections: tuple[str, list[DigestItem]], timezone: str = "UTC") -> Digest:
    return Digest(
        window_start=GOLDEN_NOW - timedelta(hours=24),
        window_end=GOLDEN_NOW,
        timezone=timezone,
        sections=tuple(DigestSection(topic, tuple(items)) for topic, items in sections),
    )


def test_header_has_local_date_and_topics() -> None:
    late = Digest(
        window_start=GOLDEN_NOW,
        window_end=datetime(2026, 11, 26, 23, 30, tzinfo=UTC),
        timezone="Asia/Tokyo",
        sections=(
            DigestSection("AI", (item(make_article()),)),
            DigestSection("Space", (item(make_article("Rocket")),)),
        ),
    )
    content = digest_messages(late, topic_colors={})[0]["content"]
    assert content == "📰 **News digest** — Friday 27 November 2026 · AI, Space"


def test_one_embed_per_story_with_link_author_footer_and_coverage() -> None:
    article = make_article(
        "Big story", provider="TechCrunch", domain="techcrunch.com", quality=87, heat=97
    )
    embed = digest_messages(
        digest(("AI", [item(article, ("Reuters", "BBC"), coverage=11)])), topic_colors={}
    )[0]["embeds"][0]
    assert embed["title"] == "Big story"
    assert embed["url"] == article.url
    assert embed["author"]["name"] == "TechCrunch"
    assert embed["footer"]["text"] == "AI · quality 87 · heat 97 · 12 outlets"
    assert embed["fields"] == [
        {"name": "Also covered by", "value": "Reuters, BBC", "inline": False}
    ]
    assert embed["timestamp"] == article.published.isoformat()


def test_unknown_heat_and_quality_are_left_out_of_the_footer() -> None:
    article = make_article(quality=None, heat=None)
    embed = digest_messages(digest(("AI", [item(article)])), topic_colors={})[0]["embeds"][0]
    assert embed["footer"]["text"] == "AI"


def test_top_story_gets_a_large_image_the_others_thumbnails() -> None:
    picture = (Image("https://cdn.example.com/a.jpg", 1200, 630),)
    items = [item(make_article(f"Story {n}", images=picture)) for n in range(3)]
    embeds = digest_messages(digest(("AI", items)), topic_colors={})[0]["embeds"]
    assert "image" in embeds[0]
    assert "thumbnail" not in embeds[0]
    assert all("thumbnail" in e and "image" not in e for e in embeds[1:])


@pytest.mark.parametrize(
    "image",
    [
        Image("https://www.youtube.com/img/desktop/supported_browsers/dinosaur.png"),
        Image("https://cdn.example.com/icon.png", 50, 50),
        Image("ftp://cdn.example.com/a.jpg"),
        Image("not a url"),
    ],
)
def test_unusable_images_are_dropped(image: Image) -> None:
    embed = article_embed_of(make_article(images=(image,)))
    assert "image" not in embed
    assert "thumbnail" not in embed


def article_embed_of(article: Article) -> dict[str, Any]:
    embed: dict[str, Any] = digest_messages(digest(("AI", [item(article)])), topic_colors={})[0][
        "embeds"
    ][0]
    return embed


def test_video_links_to_the_video_and_is_marked() -> None:
    video = make_article(
        "Trailer",
        kind="video",
        url="https://www.youtube.com/watch?v=abc",
        video_url="https://www.youtube.com/embed/abc",
    )
    embed = article_embed_of(video)
    assert embed["title"] == "▶ Trailer"
    assert embed["url"] == "https://www.youtube.com/embed/abc"


def test_unusable_link_falls_back_to_other_urls_never_broken() -> None:
    broken = make_article(url="javascript:alert(1)", original_url="https://example.com/real story")
    assert article_link(broken) == "https://example.com/real%20story"
    nothing = make_article(url="not a link")
    assert "url" not in article_embed_of(nothing)


def test_colour_from_config_else_stable_from_name() -> None:
    assert topic_colour("AI", {"AI": "#5865F2"}) == 0x5865F2
    assert topic_colour("ai", {"AI": "#5865F2"}) == 0x5865F2
    assert topic_colour("Space", {}) == topic_colour("Space", {"AI": "#000000"})
    assert topic_colour("Space", {}) != topic_colour("Gardening", {})
    assert 0 <= topic_colour("Space", {}) <= 0xFFFFFF


def test_markdown_in_titles_and_excerpts_is_escaped() -> None:
    assert escape_markdown("*bold* _it_ ~~s~~ |sp| `c`") == (
        r"\*bold\* \_it\_ \~\~s\~\~ \|sp\| \`c\`"
    )
    assert escape_markdown("# Heading\n> quote\n- item\n1. one") == (
        "\\# Heading\n\\> quote\n\\- item\n1\\. one"
    )
    assert escape_markdown("[link](http://x)") == r"\[link\]\(http://x\)"


def test_nothing_can_ping() -> None:
    article = make_article("@everyone look <@123> @here", excerpt="<@&456> @Everyone")
    for payload in digest_messages(digest(("@here", [item(article)])), topic_colors={}):
        assert payload["allowed_mentions"] == NO_MENTIONS
        text = visible_text(payload)
        assert "@everyone" not in text.lower()
        assert "@here" not in text
        assert "<@" not in text


def visible_text(payload: dict[str, Any]) -> str:
    parts = [payload.get("content") or ""]
    for embed in payload.get("embeds", []):
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [embed.get("footer", {}).get("text", ""), embed.get("author", {}).get("name", "")]
        parts += [f["name"] + f["value"] for f in embed.get("fields", [])]
    return "\n".join(parts)


def test_silent_flag_on_every_message() -> None:
    items = [item(make_article(f"Story {n}")) for n in range(25)]
    messages = digest_messages(digest(("AI", items)), topic_colors={}, silent=True)
    assert len(messages) == 3
    assert all(m["flags"] == 4096 for m in messages)
    assert all("flags" not in m for m in digest_messages(digest(("AI", items)), topic_colors={}))


def test_truncation_is_on_a_word_boundary_with_an_ellipsis() -> None:
    text = "The quick brown fox jumps over the lazy dog"
    assert truncate(text, 20) == "The quick brown fox…"
    assert truncate(text, 100) == text
    assert fit("a*b " * 200, 50).endswith("…")
    assert len(fit("a*b " * 200, 50)) <= 50


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://exämple.com/ü?q=ä b", "https://xn--exmple-cua.com/%C3%BC?q=%C3%A4%20b"),
        ("HTTP://Example.com", "http://example.com/"),
        ("https://example.com/100%", "https://example.com/100%25"),
        ("https://example.com/%20ok", "https://example.com/%20ok"),
        ("mailto:someone@example.com", None),
        ("https://user:pw@example.com/", None),
        ("https://exa mple.com/", None),
        ("https://example.com/" + "a" * 2100, None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(raw: str | None, expected: str | None) -> None:
    assert safe_url(raw) == expected


def test_search_page_lists_numbered_linked_results() -> None:
    hits = [
        SearchHit(make_article(f"Result {n}", topics=("Power Apps",)), 1.0 / (n + 1))
        for n in range(5)
    ]
    payload = search_page(hits, query="power apps", page=2, pages=3, total=14)
    embed = payload["embeds"][0]
    assert payload["allowed_mentions"] == NO_MENTIONS
    assert embed["title"] == "🔎 power apps"
    assert embed["footer"]["text"] == "Page 2/3 · 14 results"
    lines = embed["description"].split("\n\n")
    assert lines[0].startswith(f"**6.** [Result 0]({hits[0].article.url})\nExample News · <t:")
    assert lines[0].endswith(" · Power Apps")
    assert len(lines) == 5


def test_search_page_says_when_nothing_matched() -> None:
    embed = search_page([], query="zzz", page=1, pages=1, total=0)["embeds"][0]
    assert "No articles match zzz" in embed["description"]


def test_top_page_shows_signals() -> None:
    items = [item(make_article("Top one", quality=90, heat=None), coverage=4)]
    embed = top_page(items, topic="AI", page=1, pages=1)["embeds"][0]
    assert embed["title"] == "🏆 Top stories — AI"
    assert embed["description"].endswith("· quality 90 · 5 outlets")
    assert embed["footer"]["text"] == "Page 1/1"


# --- every payload within every limit, whatever the articles look like -------------------------

MARKDOWN = "*_~|>#[]()`\\-<@"
nasty_text = st.text(
    alphabet=st.sampled_from(
        [*(string.ascii_letters + " " + MARKDOWN + "\n\t"), "é", "😀", "\u200b", "\u00a0"]
    ),
    max_size=400,
)
odd_url = st.one_of(
    st.just("https://example.com/a b/ü?x=1 2#frag"),
    st.just("http://exämple.com/%zz/(paren)"),
    st.just("https://example.com/" + "x" * 2050),
    st.just("not a url"),
    st.just("javascript:alert(1)"),
    st.builds(lambda s: f"https://example.com/{s}", st.text(max_size=40)),
)


@st.composite
def extreme_article(draw: st.DrawFn) -> Article:
    title = draw(st.one_of(nasty_text.map(lambda t: t[:180]), st.just(MARKDOWN * 12)))
    excerpt = draw(st.one_of(nasty_text, st.just("word " * 3000), st.just("")))
    images = draw(
        st.lists(
            st.builds(
                Image,
                odd_url,
                st.one_of(st.none(), st.integers(1, 3000)),
                st.one_of(st.none(), st.integers(1, 3000)),
            ),
            max_size=3,
        )
    )
    return make_article(
        title,
        url=draw(odd_url),
        original_url=draw(st.one_of(st.none(), odd_url)),
        excerpt=excerpt,
        provider=draw(st.one_of(nasty_text.map(lambda t: t[:300]), st.just("x" * 300))),
        icon_url=draw(st.one_of(st.none(), odd_url)),
        kind=draw(st.sampled_from(["article", "video"])),
        quality=draw(st.one_of(st.none(), st.integers(0, 189))),
        heat=draw(st.one_of(st.none(), st.integers(0, 4000))),
        images=tuple(images),
        hours_ago=draw(st.floats(0, 100)),
    )


@st.composite
def extreme_digest(draw: st.DrawFn) -> Digest:
    topics = draw(
        st.lists(
            st.one_of(nasty_text.map(lambda t: t[:100] or "T"), st.just("AI")),
            min_size=1,
            max_size=9,
        )
    )
    sections = []
    for topic in topics:
        articles = draw(st.lists(extreme_article(), min_size=1, max_size=4))
        also = draw(st.lists(nasty_text.map(lambda t: t[:120] or "x"), max_size=179))
        sections.append(
            (topic, [item(a, tuple(also), draw(st.integers(0, 500))) for a in articles])
        )
    return digest(*sections, timezone=draw(st.sampled_from(["UTC", "Pacific/Kiritimati"])))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extreme_digest(), st.booleans())
def test_every_digest_payload_is_valid_for_discord(
    discord_spec: dict[str, Any], value: Digest, silent: bool
) -> None:
    messages = digest_messages(value, topic_colors={"AI": "#5865F2"}, silent=silent)
    embeds = [e for m in messages for e in m.get("embeds", [])]
    assert len(embeds) == len(value.articles)  # nothing dropped
    for message in messages:
        assert validate_message_body(message, discord_spec) == []
        assert message["allowed_mentions"] == NO_MENTIONS
        assert sum(embed_length(e) for e in message.get("embeds", [])) <= 6000
    for embed, article in zip(embeds, value.articles, strict=True):
        if article_link(article) is not None:
            assert embed["url"] == article_link(article)  # never drop a usable link


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(extreme_article(), max_size=10), nasty_text, st.integers(1, 50))
def test_every_list_payload_is_valid_for_discord(
    discord_spec: dict[str, Any], articles: list[Article], query: str, page: int
) -> None:
    hits = [SearchHit(a, 1.0) for a in articles]
    payloads = [
        search_page(hits, query=query, page=page, pages=50, total=len(hits)),
        top_page([item(a, coverage=3) for a in articles], topic=query, page=page, pages=50),
    ]
    for payload in payloads:
        assert validate_message_body(payload, discord_spec) == []
        assert payload["allowed_mentions"] == NO_MENTIONS


def test_validator_catches_what_discord_refuses(discord_spec: dict[str, Any]) -> None:
    bad = {
        "content": "x" * 2001,
        "nonce": "n" * 26,
        "embeds": [{"title": "t" * 257, "url": "https://example.com/a b"}]
        + [{"description": "d" * 4000} for _ in range(10)],
    }
    problems = validate_message_body(bad, discord_spec)
    text = "\n".join(problems)
    for expected in ("content", "nonce", "embeds[0].title", "embeds: 11", "in total", "uri"):
        assert expected in text, expected


def test_the_status_page_names_the_deliverer_only_when_told(
    discord_spec: dict[str, Any],
) -> None:
    state = GuildState(build_settings(1, {"channel_id": 2, "topics": ("AI",)}))
    shown = "process `host-a:100:abcdef` (shards 0-3 of 8) — the one answering you"
    page = status_page(state, guild_name="Acme", delivered_by=shown)
    fields = {f["name"]: f["value"] for f in page["embeds"][0]["fields"]}
    assert fields["Delivered by"] == shown
    assert validate_message_body(page, discord_spec) == []
    alone = status_page(state, guild_name="Acme")  # one process: nothing to say
    assert "Delivered by" not in {f["name"] for f in alone["embeds"][0]["fields"]}
