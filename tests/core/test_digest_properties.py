"""Properties of a composed digest, for any pool and any server settings (Hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.digest import build_pool, compose_digest
from bot.core.models import Article, GuildSettings
from bot.core.ranking import RankingWeights
from bot.core.topics import topic_key
from bot.ingest.related import related_items
from tests.golden.articles import GOLDEN_NOW, make_article

TOPICS = ("AI", "Space", "Druid", "Diablo 4")
OUTLETS = ("A", "B", "C", "D")


@st.composite
def articles(draw: st.DrawFn) -> list[Article]:
    count = draw(st.integers(0, 30))
    made = []
    for n in range(count):
        topics = draw(st.lists(st.sampled_from(TOPICS), min_size=1, max_size=2, unique=True))
        article = make_article(
            f"Story {n}",
            url=f"https://news.example.com/{n}",
            provider=draw(st.sampled_from(OUTLETS)),
            topics=tuple(topics),
            quality=draw(st.one_of(st.none(), st.integers(0, 189))),
            heat=draw(st.one_of(st.none(), st.integers(0, 3700))),
            hours_ago=draw(st.floats(-2, 60)),
        )
        # stories are grouped at ingest; here every article is its own story, and a few
        # share one (several copies of one story)
        story = draw(st.integers(0, count + 5))
        made.append(replace(article, story_id=f"s{story}" if story < count // 3 else article.id))
    return made


@settings(max_examples=150, deadline=None)
@given(
    articles(),
    st.lists(st.sampled_from(TOPICS), min_size=1, max_size=4, unique=True),
    st.integers(1, 5),
    st.integers(1, 4),
    st.integers(0, 120),
    st.integers(1, 48),
    st.data(),
)
def test_digest_properties(
    items: list[Article],
    topics: list[str],
    per_topic: int,
    cap: int,
    min_quality: int,
    window_hours: int,
    data: st.DataObject,
) -> None:
    pool = build_pool(items, now=GOLDEN_NOW, weights=RankingWeights(), related=related_items)
    posted = set(data.draw(st.lists(st.sampled_from([a.id for a in items] or ["x"]))))
    start, end = GOLDEN_NOW - timedelta(hours=window_hours), GOLDEN_NOW
    guild = GuildSettings(
        guild_id=1,
        channel_id=2,
        topics=tuple(topics),
        time=time(8),
        timezone="UTC",
        weekdays=frozenset(range(7)),
        per_topic=per_topic,
        min_quality=min_quality,
        max_per_provider=cap,
        lookback_hours=24,
    )
    digest = compose_digest(pool, guild, posted_ids=posted, window_start=start, window_end=end)
    chosen = [] if digest is None else [i for s in digest.sections for i in s.items]
    by_best = {s.article.id: s for s in pool.stories}
    stories = [by_best[item.article.id] for item in chosen]
    # a story appears once
    assert len({s.story_id for s in stories}) == len(stories)
    # every section holds at most per_topic, and only subscribed topics
    for section in digest.sections if digest else ():
        assert 1 <= len(section.items) <= per_topic
        assert topic_key(section.topic) in {topic_key(t) for t in topics}
    for story in stories:
        # something of it is inside the window, and nothing of it was posted already
        assert any(start <= p < end for p in story.member_published)
        assert story.member_ids.isdisjoint(posted)
        assert story.quality >= min_quality

    # sections are full when enough eligible stories exist: a short section leaves no
    # eligible story of its topic out of the digest
    def eligible(story_index: int) -> bool:
        story = pool.stories[story_index]
        return (
            story.quality >= min_quality
            and any(start <= p < end for p in story.member_published)
            and story.member_ids.isdisjoint(posted)
        )

    placed = {s.story_id for s in stories}
    sizes = {topic_key(s.topic): len(s.items) for s in (digest.sections if digest else ())}
    for topic in {topic_key(t) for t in topics}:
        if sizes.get(topic, 0) >= per_topic:
            continue
        left_out = [
            i
            for i in pool.by_topic.get(topic, ())
            if eligible(i) and pool.stories[i].story_id not in placed
        ]
        assert left_out == [], f"section {topic} short while eligible stories were left out"
