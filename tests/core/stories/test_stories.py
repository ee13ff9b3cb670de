"""The same-story rule (bot.core.stories) on small, readable cases."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.models import Article, Coverage
from bot.core.stories import (
    MAX_SPAN,
    Vocabulary,
    confirmed_coverage,
    fingerprint,
    group_articles,
    is_evergreen,
    words,
)
from tests.golden.articles import GOLDEN_NOW, make_article

# a feed's background: many articles about one subject, so its everyday words weigh little
BACKGROUND = [
    make_article(
        f"Azure {thing} update number {n} for cloud developers",
        provider=f"Outlet {n % 7}",
        excerpt=f"Microsoft Azure cloud news about {thing} for developers and IT teams, item {n}.",
        hours_ago=24 * (n % 20) + n / 10,
    )
    for n, thing in enumerate(
        ["storage", "networking", "databases", "security", "containers", "functions", "AI"] * 15
    )
]

FEDEX = (
    "FedEx and Microsoft are joining forces in a multiyear collaboration that combines FedEx "
    "logistics data with Microsoft Azure to give shippers package tracking insight."
)


def same(a: Article, b: Article) -> bool:
    ids = group_articles([*BACKGROUND, a, b])
    return ids[a.id] == ids[b.id]


def test_words_are_folded_stemmed_and_without_stop_words() -> None:
    assert words("The Dates of the Diablo 4 Beta, Delayed!") == (
        "date",
        "diablo",
        "4",
        "beta",
        "delay",
    )
    assert words("Patch 3.2 is out") == ("patch", "3.2")


def test_one_event_told_by_two_outlets_is_one_story() -> None:
    a = make_article("FedEx and Microsoft form a new partnership", provider="Fool", excerpt=FEDEX)
    b = make_article(
        "FedEx, Microsoft team up to improve package tracking",
        provider="Fox",
        excerpt="FedEx and Microsoft partner on package tracking for shippers, combining FedEx "
        "logistics with Azure analytics in a multiyear deal.",
        hours_ago=3,
    )
    assert same(a, b)


def test_a_reprint_of_one_press_release_is_one_story() -> None:
    a = make_article("Smarsh launches Enterprise Archive on Azure", provider="Wire", excerpt=FEDEX)
    b = make_article("Smarsh launches Enterprise Archive on Azure", provider="CRM", excerpt=FEDEX)
    assert same(a, b)


def test_two_announcements_about_one_product_are_two_stories() -> None:
    a = make_article(
        "Database auditing for Azure Database for MariaDB is now available",
        provider="Microsoft",
        excerpt="",
    )
    b = make_article(
        "Database auditing for Azure Database for MySQL is now available",
        provider="Microsoft",
        excerpt="",
    )
    assert not same(a, b)


def test_other_numbers_in_the_same_wording_are_other_stories() -> None:
    a = make_article("Office Licensing Service and Cosmos DB part 1", provider="Microsoft")
    b = make_article("Office Licensing Service and Cosmos DB part 2", provider="Microsoft")
    assert not same(a, b)


def test_guides_are_not_news_and_not_each_other() -> None:
    assert is_evergreen("The best Diablo 4 Druid builds")
    assert is_evergreen("How to play Diablo 4's open beta")
    assert not is_evergreen("Diablo 4 open beta patch fixes queue times")
    a = make_article("The best Diablo 4 Rogue builds", provider="Polygon", excerpt=FEDEX)
    b = make_article("The best Diablo 4 Sorcerer builds", provider="Dexerto", excerpt=FEDEX)
    assert not same(a, b)


def test_far_apart_in_time_is_not_one_story() -> None:
    a = make_article("FedEx and Microsoft form a new partnership", provider="Fool", excerpt=FEDEX)
    b = make_article(
        "FedEx and Microsoft form a new partnership",
        provider="Fox",
        excerpt=FEDEX,
        hours_ago=24 * 30,
    )
    assert not same(a, b)


def test_a_chain_of_matches_does_not_glue_weeks_into_one_story() -> None:
    """Each article matches the one before it; none may join a story whose leader is more
    than MAX_SPAN older."""
    chain = [
        make_article(
            f"Contoso cloud dispute continues day {n}",
            provider=f"Outlet {n}",
            excerpt="Contoso and Fabrikam keep fighting over the Contoso cloud contract award.",
            hours_ago=24 * 30 - 40 * n,
        )
        for n in range(15)
    ]
    ids = group_articles([*BACKGROUND, *chain])
    for story in {ids[a.id] for a in chain}:
        times = [a.published for a in chain if ids[a.id] == story]
        assert max(times) - min(times) <= MAX_SPAN


@settings(max_examples=20, deadline=None)
@given(st.permutations(range(6)))
def test_grouping_does_not_depend_on_input_order(order: list[int]) -> None:
    items = [
        make_article("FedEx and Microsoft form a new partnership", provider="A", excerpt=FEDEX),
        make_article("FedEx, Microsoft team up on package tracking", provider="B", excerpt=FEDEX),
        make_article("Smarsh launches Enterprise Archive on Azure", provider="C"),
        make_article("Smarsh launches Enterprise Archive on Azure!", provider="D"),
        make_article("The best Diablo 4 Rogue builds", provider="E"),
        make_article("Diablo 4 open beta patch fixes queue times", provider="F"),
    ]
    base = group_articles([*BACKGROUND, *items])
    shuffled = group_articles([*BACKGROUND, *(items[i] for i in order)])
    assert shuffled == base


def test_related_items_count_as_coverage_only_when_their_title_says_so() -> None:
    article = make_article(
        "Sweden's data watchdog slaps police for unlawful use of Clearview AI", provider="TC"
    )
    when = article.published - timedelta(hours=2)
    related = [
        Coverage(
            "Sweden's data watchdog slaps police over unlawful use of Clearview AI",
            "https://t.example/a",
            "Telecompaper",
            "telecompaper.com",
            when,
        ),
        Coverage("13 ways Microsoft Azure beats AWS", "https://x.example/b", "X", "x.com", when),
        Coverage(
            "Swedish watchdog slaps police for unlawful use of Clearview AI",
            "https://t.example/c",
            "Old",
            "old.com",
            when - timedelta(days=60),
        ),
    ]
    vocab = Vocabulary(fingerprint(a) for a in BACKGROUND)
    found = confirmed_coverage([article], related, vocab)
    assert [c.provider for c in found] == ["Telecompaper"]


def test_stored_story_ids_are_kept() -> None:
    a = make_article("Anything at all here", provider="A")
    b = make_article("Something else entirely", provider="B")
    from dataclasses import replace

    ids = group_articles([replace(a, story_id="s1"), replace(b, story_id="s1")])
    assert ids == {a.id: "s1", b.id: "s1"}
    assert GOLDEN_NOW.tzinfo is not None


def test_outlets_reporting_within_hours_need_fewer_shared_words() -> None:
    """The same few rare words ("Contoso", "Fabrikam", "$31 a share") are one story when two
    outlets publish them an hour apart, not when they are three days apart."""
    first = make_article(
        "Contoso to buy Fabrikam for $2 billion",
        provider="Reuters",
        excerpt="Contoso confirmed on Tuesday that it will buy Fabrikam, the maker of Northwind "
        "routers, for $2 billion in cash.",
    )

    def later(hours: float) -> Article:
        return make_article(
            "Router maker gets a new owner",
            provider="Bloomberg",
            excerpt="Fabrikam shareholders will get $31 a share as Contoso expands into "
            "networking hardware, analysts said.",
            hours_ago=1 + hours,
        )

    assert same(first, later(1))
    assert not same(first, later(70))


def test_channels_of_one_platform_are_different_outlets() -> None:
    """Two YouTube channels posting one trailer are two outlets, not one outlet's series."""
    a = make_article(
        "Diablo IV Announce Cinematic | By Three They Come",
        provider="Diablo",
        domain="youtube.com",
        excerpt="Lilith returns in the announce cinematic for Diablo IV, revealed at BlizzCon.",
    )
    b = make_article(
        "Reaction: the Diablo 4 announce cinematic, By Three They Come",
        provider="Game Clips",
        domain="youtube.com",
        excerpt="My reaction to the Lilith announce cinematic from BlizzCon for Diablo 4.",
    )
    assert same(a, b)


def test_sequel_numerals_are_numbers() -> None:
    assert words("Diablo IV beta") == words("Diablo 4 beta")
    assert words("Final Fantasy XVI") == words("Final Fantasy 16")
    assert words("Xi visits") == ("xi", "visit")  # a name, not 11


def test_news_mentioning_a_review_or_the_best_is_not_a_guide() -> None:
    assert is_evergreen("Diablo 4 review: a darker take on the devil")
    assert is_evergreen("Diablo 4 Beta: Best Barbarian Build")
    assert not is_evergreen("Judge allows DoD to review JEDI contract award")
    assert not is_evergreen("Massive Diablo 4 leak gives us our best look at the game yet")
