"""`bot.core.why`: every verdict a reader can get, and the verdict always agrees with the digest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.digest import build_pool, compose_digest
from bot.core.models import Article, Digest, GuildSettings
from bot.core.ranking import RankingWeights
from bot.core.why import Explanation, Retirement, explain, to_json
from bot.ingest.related import related_items
from tests.golden.articles import GOLDEN_NOW, guild, make_article, related_block

WEIGHTS = RankingWeights()
WINDOW = (GOLDEN_NOW - timedelta(hours=24), GOLDEN_NOW)


def why(
    article: Article,
    articles: Sequence[Article],
    settings: GuildSettings | None = None,
    *,
    posted: Mapping[str, datetime] | None = None,
    retired: Retirement | None = None,
    neighbours: Sequence[Article] = (),
) -> Explanation:
    return explain(
        article,
        articles=articles,
        settings=settings or guild(),
        now=GOLDEN_NOW,
        window=WINDOW,
        weights=WEIGHTS,
        posted=posted,
        retired=retired,
        neighbours=neighbours,
        related=related_items,
    )


def digest_of(
    articles: Sequence[Article],
    settings: GuildSettings | None = None,
    posted: Mapping[str, datetime] | None = None,
) -> Digest | None:
    pool = build_pool(articles, now=GOLDEN_NOW, weights=WEIGHTS, related=related_items)
    return compose_digest(
        pool,
        settings or guild(),
        posted_ids=frozenset(posted or ()),
        window_start=WINDOW[0],
        window_end=WINDOW[1],
    )


def four_ai_stories() -> list[Article]:
    return [
        make_article("Chip maker doubles output", quality=150, heat=900, provider="Alpha"),
        make_article("Robots learn to fold laundry", quality=130, heat=500, provider="Beta"),
        make_article("Regulators question chatbot", quality=110, heat=300, provider="Gamma"),
        make_article("A minor model update ships", quality=40, heat=10, provider="Delta"),
    ]


def test_an_article_in_the_digest_is_included_at_its_topic_and_rank() -> None:
    articles = four_ai_stories()
    digest = digest_of(articles)
    assert digest is not None
    second = digest.sections[0].items[1].article
    explanation = why(second, articles)
    assert explanation.verdict == "included"
    assert (explanation.topic, explanation.rank) == ("AI", 2)
    assert "#2 in AI" in explanation.reason
    assert explanation.score.total > 0
    assert [m.id for m in explanation.members] == [second.id]


def test_outranked_names_the_stories_that_beat_it() -> None:
    articles = four_ai_stories()
    explanation = why(articles[3], articles)
    assert (explanation.verdict, explanation.code) == ("excluded", "outranked")
    assert [r.title for r in explanation.rivals] == [a.title for a in articles[:3]]
    for article in articles[:3]:
        assert f"“{article.title}” ({article.provider.name})" in explanation.reason


def test_outside_the_window_says_the_window() -> None:
    old = make_article("Last week's chip news", hours_ago=30, quality=150, provider="Alpha")
    recent = four_ai_stories()
    # as the command line does: the pool holds the window's articles only
    explanation = why(old, recent)
    assert (explanation.verdict, explanation.code) == ("excluded", "outside_window")
    assert "2026-11-25 08:00 UTC → 2026-11-26 08:00 UTC" in explanation.reason
    assert explanation.score.total > 0  # still scored, and its story shown
    assert explanation.members[0].id == old.id
    # and in a wider pool (several servers' windows), the same answer
    assert why(old, [*recent, old]).code == "outside_window"


def test_a_copy_outside_the_window_points_to_its_story_in_the_digest() -> None:
    story = make_article("Chip maker doubles output", quality=150, provider="Alpha", hours_ago=2)
    old = make_article("Chip maker doubles output", quality=90, provider="Beta", hours_ago=26)
    explanation = why(old, [story], neighbours=[story])
    assert explanation.code == "outside_window"
    assert "its story is in the digest as “Chip maker doubles output” (Alpha)" in explanation.reason


def test_already_posted_says_when() -> None:
    articles = four_ai_stories()
    when = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    posted = {articles[0].id: when}
    explanation = why(articles[0], articles, posted=posted)
    assert (explanation.verdict, explanation.code) == ("excluded", "already_posted")
    assert "already posted to this channel on 2026-11-25" in explanation.reason
    assert explanation.posted_at == when


def test_below_min_quality_gives_both_numbers() -> None:
    articles = four_ai_stories()
    explanation = why(articles[3], articles, guild(min_quality=60))
    assert explanation.code == "below_min_quality"
    assert "(40 < 60)" in explanation.reason


def test_not_in_a_subscribed_topic_names_both_sides() -> None:
    space = make_article("Rocket lands upright", topics=("Space",), provider="Orbit")
    explanation = why(space, [*four_ai_stories(), space])
    assert explanation.code == "no_topic"
    assert "its topics: Space; subscribed: AI" in explanation.reason
    assert why(space, [space], guild(topics=())).reason == "the digest follows no topics yet"


def test_a_merged_copy_names_the_article_that_shows_its_story() -> None:
    best = make_article(
        "Chip maker doubles output", url="https://alpha.com/chips?utm_source=x", quality=150
    )
    copy = make_article(
        "Chip maker doubles output", url="https://www.alpha.com/chips", quality=60, provider="Beta"
    )
    explanation = why(copy, [best, copy])
    assert (explanation.verdict, explanation.code) == ("excluded", "merged")
    assert explanation.shown_as is not None
    assert explanation.shown_as.id == best.id
    assert "merged into the story “Chip maker doubles output” (Example News)" in explanation.reason
    assert {m.id for m in explanation.members} == {best.id, copy.id}
    assert [(c.provider, c.url) for c in explanation.coverage] == [
        ("Beta", "https://www.alpha.com/chips")
    ]


def test_coverage_carries_the_link_and_title_of_related_items() -> None:
    article = make_article(
        "Intel doubles chip output at its Arizona plant",
        quality=150,
        related_count=1,
        related_yaml=related_block(
            (
                "Intel doubles chip output at Arizona plant",
                "https://other.example/chips",
                "Other Daily",
            )
        ),
    )
    explanation = why(article, [article])
    assert explanation.verdict == "included"
    covered = {c.provider: (c.url, c.title) for c in explanation.coverage}
    assert covered.get("Other Daily") == (
        "https://other.example/chips",
        "Intel doubles chip output at Arizona plant",
    )


def test_retired_articles_say_why() -> None:
    article = make_article("Pulled story", quality=150)
    at = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    explanation = why(article, four_ai_stories(), retired=Retirement(at, removed=True))
    assert (explanation.verdict, explanation.code) == ("excluded", "retired")
    assert "retired on 2026-11-26 (upstream marked it removed)" in explanation.reason
    gone = why(article, four_ai_stories(), retired=Retirement(at, removed=False))
    assert "its files are gone" in gone.reason


def test_the_provider_cap_names_the_outlet_and_its_stories() -> None:
    articles = [
        make_article("Alpha first scoop", quality=150, heat=900, provider="Alpha"),
        make_article("Alpha second scoop", quality=140, heat=800, provider="Alpha"),
        make_article("Alpha third scoop", quality=130, heat=700, provider="Alpha"),
        make_article("A small note from Beta", quality=20, heat=1, provider="Beta"),
    ]
    digest = digest_of(articles)
    assert digest is not None
    explanation = why(articles[2], articles)
    assert explanation.code == "provider_cap"
    assert "2 stories from Alpha (max_per_provider 2)" in explanation.reason


def test_json_has_exactly_the_contract_keys() -> None:
    articles = four_ai_stories()
    data = to_json(why(articles[0], articles))
    assert set(data) == {"article", "score", "story", "verdict", "reason"}
    score, story = data["score"], data["story"]
    assert isinstance(score, dict)
    assert isinstance(story, dict)
    assert set(score) == {"quality", "heat", "coverage", "recency", "total"}
    assert set(story) == {"members", "coverage"}
    assert data["verdict"] == "included"


TITLES = (
    "Chip maker doubles output",
    "Chip maker doubles output this year",
    "Robots learn to fold laundry",
    "Regulators question chatbot",
    "Rocket lands upright",
)


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[list[Article], GuildSettings, dict[str, datetime]]:
    count = draw(st.integers(1, 10))
    articles = []
    for n in range(count):
        provider = draw(st.sampled_from(("Alpha", "Beta", "Gamma")))
        articles.append(
            make_article(
                draw(st.sampled_from(TITLES)),
                url=f"https://{provider.lower()}.com/{n}",
                provider=provider,
                topics=tuple(draw(st.sets(st.sampled_from(("AI", "Space")), max_size=2))),
                quality=draw(st.none() | st.integers(0, 150)),
                heat=draw(st.none() | st.integers(0, 1000)),
                hours_ago=draw(st.floats(0, 30)),
            )
        )
    topics = draw(st.sets(st.sampled_from(("AI", "Space")), min_size=1))
    settings_ = guild(
        sorted(topics),
        per_topic=draw(st.integers(1, 2)),
        min_quality=draw(st.sampled_from((0, 0, 0, 50, 100))),
        max_per_provider=draw(st.integers(1, 3)),
    )
    posted = {
        a.id: GOLDEN_NOW - timedelta(days=1) for a in articles if draw(st.integers(0, 5)) == 0
    }
    if draw(st.booleans()):  # as the command line: the pool holds the window's articles only
        articles = [a for a in articles if WINDOW[0] <= a.published < WINDOW[1]] or articles
    return articles, settings_, posted


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_verdict_is_included_exactly_when_the_digest_has_the_article(
    scenario: tuple[list[Article], GuildSettings, dict[str, datetime]],
) -> None:
    articles, settings_, posted = scenario
    digest = digest_of(articles, settings_, posted)
    shown = {a.id for a in digest.articles} if digest is not None else set()
    for article in articles:
        explanation = why(article, articles, settings_, posted=posted)
        assert (explanation.verdict == "included") == (article.id in shown)
        assert explanation.code != "undetermined", explanation.reason
        if explanation.code == "merged":
            assert explanation.shown_as is not None
            assert explanation.shown_as.id in shown
