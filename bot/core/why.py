"""Why an article is, or is not, in a digest: its score, its story and the verdict (pure).

The verdict is read off the real digest: `explain` builds the same pool `compose_digest` gets,
composes the digest, and looks for the article in it, so an explanation can never disagree with
what would be posted. Only when the article is absent does it work out which rule left it out.
Built on the public API of `bot.core.digest` (pools, stories, composition); no Discord, no store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.core.digest import (
    CandidatePool,
    RelatedReader,
    Story,
    build_pool,
    compose_digest,
)
from bot.core.models import Article, Digest, GuildSettings, ScoreBreakdown
from bot.core.ranking import RankingWeights
from bot.core.topics import topic_key

Verdict = Literal["included", "excluded", "unknown"]
ReasonCode = Literal[
    "included",
    "merged",
    "retired",
    "outside_window",
    "already_posted",
    "below_min_quality",
    "no_topic",
    "outranked",
    "provider_cap",
    "undetermined",
]
MAX_RIVALS = 10
"""At most this many stories are named as having beaten an article."""


@dataclass(frozen=True, slots=True)
class StoryMember:
    """One copy of a story: an article the store holds."""

    id: str
    title: str
    url: str
    provider: str
    published: datetime


@dataclass(frozen=True, slots=True)
class CoverageLink:
    """Another outlet's report of the story (its link and title when known)."""

    url: str | None
    provider: str
    title: str | None


@dataclass(frozen=True, slots=True)
class Rival:
    """A story that took a place the article could have had."""

    title: str
    provider: str
    url: str
    topic: str
    rank: int


@dataclass(frozen=True, slots=True)
class Retirement:
    """The store retired the article: `removed` when upstream said `removed: true`, else its
    files are gone."""

    at: datetime
    removed: bool


@dataclass(frozen=True, slots=True)
class Explanation:
    """An article's place in one digest.

    `score` is the score its story was ranked with; `members` are the story's copies (the one
    the digest shows first); `coverage` the other outlets the story names. `verdict` is
    "included" or "excluded" ("unknown" is for links the store never saw, outside this module);
    `code` says which rule decided and `reason` says it in a sentence. `topic`/`rank` place an
    included story (or the story an excluded copy was merged into); `rivals` beat it.
    """

    article: Article
    score: ScoreBreakdown
    members: tuple[StoryMember, ...]
    coverage: tuple[CoverageLink, ...]
    verdict: Verdict
    code: ReasonCode
    reason: str
    window_start: datetime
    window_end: datetime
    topic: str | None = None
    rank: int | None = None
    shown_as: StoryMember | None = None
    rivals: tuple[Rival, ...] = ()
    posted_at: datetime | None = None


def _member(article: Article) -> StoryMember:
    url = article.url or article.original_url or article.video_url or ""
    return StoryMember(article.id, article.title, url, article.provider.name, article.published)


def _label(title: str, provider: str) -> str:
    return f"“{title}” ({provider})" if provider else f"“{title}”"


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _window(start: datetime, end: datetime) -> str:
    return f"{_when(start)} → {_when(end)}"


def _members(story: Story, by_id: Mapping[str, Article]) -> tuple[StoryMember, ...]:
    """The story's copies, the shown one first, then by publication time."""
    others = sorted(
        (by_id[i] for i in story.member_ids if i in by_id and i != story.article.id),
        key=lambda a: (a.published, a.id),
    )
    return tuple(_member(a) for a in (story.article, *others))


def _coverage(story: Story) -> tuple[CoverageLink, ...]:
    """The outlets the story names as also covering it, each with its link and title: its
    other copies first, then the `related` items confirmed to be the same story."""
    known: dict[str, CoverageLink] = {}
    for copy in story.members:
        if copy.id != story.article.id:
            known.setdefault(
                copy.provider.name.strip().casefold(),
                CoverageLink(copy.url or copy.original_url, copy.provider.name, copy.title),
            )
    for item in story.covered:
        known.setdefault(
            item.provider.strip().casefold(), CoverageLink(item.url, item.provider, item.title)
        )
    return tuple(
        known.get(name.strip().casefold(), CoverageLink(None, name, None))
        for name in story.also_covered_by
    )


def _story_of(pool: CandidatePool, article_id: str) -> tuple[int, Story] | None:
    for position, story in enumerate(pool.stories):
        if article_id in story.member_ids:
            return position, story
    return None


def _placed(digest: Digest | None) -> dict[str, tuple[str, int]]:
    """Article id -> (section topic, rank in the section from 1) of everything in `digest`."""
    if digest is None:
        return {}
    return {
        item.article.id: (section.topic, rank)
        for section in digest.sections
        for rank, item in enumerate(section.items, 1)
    }


def _settings_topics(settings: GuildSettings) -> dict[str, str]:
    shown: dict[str, str] = {}
    for topic in settings.topics:
        key = topic_key(topic)
        if key and key not in shown:
            shown[key] = topic.strip()
    return shown


@dataclass(frozen=True, slots=True)
class _Outcome:
    verdict: Verdict
    code: ReasonCode
    reason: str
    topic: str | None = None
    rank: int | None = None
    rivals: tuple[Rival, ...] = ()
    posted_at: datetime | None = None


def _already_posted(
    story: Story, article: Article, posted: Mapping[str, datetime], by_id: Mapping[str, Article]
) -> _Outcome | None:
    """The story (this article or a copy of it) is in the channel's ledger: never posted twice."""
    already = sorted((posted[i], i) for i in story.member_ids if i in posted)
    if not already:
        return None
    when, copy_id = already[0]
    copy = by_id.get(copy_id)
    how = (
        ""
        if copy_id == article.id or copy is None
        else f" as its copy {_label(copy.title, copy.provider.name)}"
    )
    return _Outcome(
        "excluded",
        "already_posted",
        f"already posted to this channel on {when:%Y-%m-%d}{how}",
        posted_at=when,
    )


def _why_not(
    pool: CandidatePool,
    position: int,
    story: Story,
    digest: Digest | None,
    settings: GuildSettings,
    window: tuple[datetime, datetime],
) -> _Outcome:
    """Which rule of `compose_digest` left `story` out of `digest` (it is not in it)."""
    start, end = window
    subscribed = _settings_topics(settings)
    mine = [key for key in story.topic_keys if key in subscribed]
    if not mine:
        if not subscribed:
            return _Outcome("excluded", "no_topic", "the digest follows no topics yet")
        topics = ", ".join(story.article.topics) or "none"
        return _Outcome(
            "excluded",
            "no_topic",
            f"not in any subscribed topic (its topics: {topics}; "
            f"subscribed: {', '.join(subscribed.values())})",
        )
    if not any(start <= p < end for p in story.member_published):
        return _Outcome("excluded", "outside_window", f"outside the window {_window(start, end)}")
    if story.quality < settings.min_quality:
        return _Outcome(
            "excluded",
            "below_min_quality",
            f"below min quality ({story.quality} < {settings.min_quality})",
        )
    position_of = {s.article.id: n for n, s in enumerate(pool.stories)}
    sections = {topic_key(s.topic): s for s in digest.sections} if digest is not None else {}
    rivals: list[Rival] = []
    outranked = True
    for key in mine:
        section = sections.get(key)
        items = section.items if section is not None else ()
        ahead = [
            (rank, item)
            for rank, item in enumerate(items, 1)
            if position_of.get(item.article.id, len(pool.stories)) < position
        ]
        if len(ahead) < settings.per_topic:
            outranked = False
        topic = section.topic if section is not None else subscribed[key]
        rivals.extend(
            Rival(item.article.title, item.article.provider.name, item.article.url, topic, rank)
            for rank, item in ahead
        )
    if outranked:
        shown = rivals[:MAX_RIVALS]
        names = "; ".join(_label(r.title, r.provider) for r in shown)
        more = f" and {len(rivals) - len(shown)} more" if len(rivals) > len(shown) else ""
        topics = ", ".join(dict.fromkeys(r.topic for r in rivals))
        return _Outcome(
            "excluded",
            "outranked",
            f"outranked in {topics} (full at {settings.per_topic} per topic) by {names}{more}",
            rivals=tuple(rivals),
        )
    same_outlet = [
        s
        for s in (pool.stories[position_of[a]] for a in _placed(digest) if a in position_of)
        if s.provider_key == story.provider_key and position_of[s.article.id] < position
    ]
    if len(same_outlet) >= settings.max_per_provider:
        names = "; ".join(_label(s.article.title, s.article.provider.name) for s in same_outlet)
        return _Outcome(
            "excluded",
            "provider_cap",
            f"provider cap: the digest already has {len(same_outlet)} stories from "
            f"{story.article.provider.name} (max_per_provider {settings.max_per_provider}): {names}",
        )
    return _Outcome("excluded", "undetermined", "not picked by the digest (no single rule found)")


def explain(
    article: Article,
    *,
    articles: Sequence[Article],
    settings: GuildSettings,
    now: datetime,
    window: tuple[datetime, datetime],
    weights: RankingWeights,
    posted: Mapping[str, datetime] | None = None,
    retired: Retirement | None = None,
    neighbours: Sequence[Article] = (),
    related: RelatedReader | None = None,
) -> Explanation:
    """Explain `article`'s place in the digest `settings` would get at `now`.

    `articles` are the ones the digest is composed from (the window's active articles, as
    `build_pool` gets them); `posted` maps the ids already posted to the channel to when;
    `retired` is set when the store has retired the article. `neighbours` (articles near the
    article's own time) only serve to show its story when it is outside the window; `related`
    is passed on to `build_pool`.
    """
    posted = posted or {}
    start, end = window
    pool = build_pool(articles, now=now, weights=weights, related=related)
    found = _story_of(pool, article.id)
    context = pool
    if found is None:  # not a candidate: still show its score and story, around its own time
        extra = {a.id: a for a in (*articles, *neighbours)}
        extra[article.id] = article
        context = build_pool(list(extra.values()), now=now, weights=weights, related=related)
    located = found or _story_of(context, article.id)
    if located is None:  # cannot happen: `context` holds the article
        raise ValueError(f"article {article.id} is in no story of its own pool")
    position, story = located
    by_id = {a.id: a for a in (*articles, *neighbours, article)}
    members, coverage = _members(story, by_id), _coverage(story)

    def done(outcome: _Outcome, shown_as: StoryMember | None = None) -> Explanation:
        return Explanation(
            article=article,
            score=story.score,
            members=members,
            coverage=coverage,
            verdict=outcome.verdict,
            code=outcome.code,
            reason=outcome.reason,
            window_start=start,
            window_end=end,
            topic=outcome.topic,
            rank=outcome.rank,
            shown_as=shown_as,
            rivals=outcome.rivals,
            posted_at=outcome.posted_at,
        )

    if retired is not None:
        cause = "upstream marked it removed" if retired.removed else "its files are gone"
        return done(
            _Outcome(
                "excluded",
                "retired",
                f"retired on {retired.at:%Y-%m-%d} ({cause}): it is left out of digests and search",
            )
        )
    digest = compose_digest(
        pool, settings, posted_ids=frozenset(posted), window_start=start, window_end=end
    )
    placed = _placed(digest)
    if article.id not in placed:
        already = _already_posted(story, article, posted, by_id)
        if already is not None:
            return done(already)
    if found is None:
        if start <= article.published < end:
            return done(
                _Outcome("excluded", "undetermined", "it was not among the window's articles")
            )
        reason = f"outside the window {_window(start, end)}"
        carried = [m for m in members if m.id in placed]
        if carried:
            topic, rank = placed[carried[0].id]
            reason += (
                f"; its story is in the digest as {_label(carried[0].title, carried[0].provider)}"
                f" (#{rank} in {topic})"
            )
        return done(_Outcome("excluded", "outside_window", reason))
    if article.id in placed:
        topic, rank = placed[article.id]
        return done(
            _Outcome("included", "included", f"in the digest: #{rank} in {topic}", topic, rank)
        )
    shown_as = members[0] if story.article.id != article.id else None
    if shown_as is not None and shown_as.id in placed:
        topic, rank = placed[shown_as.id]
        return done(
            _Outcome(
                "excluded",
                "merged",
                f"merged into the story {_label(shown_as.title, shown_as.provider)}, which the "
                f"digest shows instead (#{rank} in {topic})",
                topic,
                rank,
            ),
            shown_as,
        )
    outcome = _why_not(pool, position, story, digest, settings, window)
    if shown_as is not None:
        note = f" (it is a copy of the story led by {_label(shown_as.title, shown_as.provider)})"
        outcome = _Outcome(
            outcome.verdict,
            outcome.code,
            outcome.reason + note,
            rivals=outcome.rivals,
            posted_at=outcome.posted_at,
        )
    return done(outcome, shown_as)


def to_json(explanation: Explanation) -> dict[str, object]:
    """The stable `newsbot why --json` object."""
    article = explanation.article
    score = explanation.score
    return {
        "article": {
            "id": article.id,
            "title": article.title,
            "url": article.url or article.original_url or article.video_url or "",
            "provider": article.provider.name,
            "published": article.published.isoformat(),
            "topics": list(article.topics),
            "quality": article.quality,
            "heat": article.heat,
        },
        "score": {
            "quality": score.quality,
            "heat": score.heat,
            "coverage": score.coverage,
            "recency": score.recency,
            "total": score.total,
        },
        "story": {
            "members": [
                {
                    "id": m.id,
                    "title": m.title,
                    "url": m.url,
                    "provider": m.provider,
                    "published": m.published.isoformat(),
                }
                for m in explanation.members
            ],
            "coverage": [
                {"url": c.url, "provider": c.provider, "title": c.title}
                for c in explanation.coverage
            ],
        },
        "verdict": explanation.verdict,
        "reason": explanation.reason,
    }


def unknown_json(reason: str) -> dict[str, object]:
    """The `--json` object for a link the store does not hold."""
    return {"article": None, "score": None, "story": None, "verdict": "unknown", "reason": reason}
