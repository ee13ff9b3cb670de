"""Digest composition: group a window's articles into stories once, then pick per server.

`build_pool` does the expensive part once per window (stories by their stored story id, their
confirmed coverage, scoring, per-topic ordering); `compose_digest` is a cheap walk over that pool for one server's settings, so one
pool serves thousands of servers. Pure: no Discord, no SQLite, no clock (`now` is passed in).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core.models import Article, Coverage, Digest, DigestItem, DigestSection, GuildSettings
from bot.core.models import ScoreBreakdown as Score
from bot.core.ranking import RankingWeights, effective_quality, rank_key, score_article
from bot.core.stories import Vocabulary, confirmed_coverage, fingerprint, group_articles, outlet_key
from bot.core.topics import topic_key
from bot.core.urls import canonical_url

RelatedReader = Callable[[Article], Sequence[Coverage]]
"""Reads an article's `related` items (the parser lives in the ingest layer: injected)."""

MAX_ALSO_COVERED = 25
"""At most this many "also covered by" names per story."""
MAX_CATCH_UP = timedelta(days=7)
"""A window since the last digest never reaches further back than this (or the look-back)."""


@dataclass(frozen=True, slots=True)
class Story:
    """One story of a pool: its digest item (best article, score, other outlets) and its copies.

    `members` are its articles in the pool, best first; `covered` the `related` items confirmed
    to be the same story (other outlets' reports not in the store); `story_id` its stored id.
    `item.coverage` counts the distinct outlets among both, other than the best article's.
    """

    item: DigestItem
    member_ids: frozenset[str]
    member_published: tuple[datetime, ...]
    topic_keys: tuple[str, ...]  # most specific first
    provider_key: str
    quality: int
    members: tuple[Article, ...] = ()
    covered: tuple[Coverage, ...] = ()
    story_id: str = ""

    @property
    def article(self) -> Article:
        return self.item.article

    @property
    def score(self) -> Score:
        return self.item.score

    @property
    def coverage(self) -> int:
        return self.item.coverage

    @property
    def also_covered_by(self) -> tuple[str, ...]:
        return self.item.also_covered_by


@dataclass(frozen=True, slots=True)
class CandidatePool:
    """Stories of a window, collapsed and scored once at `now`, shared by many servers.

    `stories` is in rank order; `by_topic` maps a topic key (casefolded) to the positions of
    its stories in `stories`, ascending (so best first); `providers` to the outlets among them.
    """

    now: datetime
    stories: tuple[Story, ...]
    by_topic: Mapping[str, tuple[int, ...]]
    providers: Mapping[str, frozenset[str]]  # topic key -> provider keys of its stories

    def __len__(self) -> int:
        return len(self.stories)


def _provider_key(article: Article) -> str:
    return outlet_key(article.provider.name, article.provider.domain)


def _story(
    story_id: str,
    members: list[Article],
    *,
    now: datetime,
    weights: RankingWeights,
    vocab: Vocabulary | None,
    related: RelatedReader | None,
) -> tuple[Story, tuple[float, float, str]]:
    """One story from its member articles: best copy, confirmed coverage, score."""
    covered: dict[str, Coverage] = {}  # by link (or title): confirmed `related` items
    own_links = {canonical_url(m.url) for m in members}
    for member in members:
        items = member.coverage
        if member.story_id is None and related is not None and vocab is not None:
            # not grouped at ingest (an article built in memory): confirm its list now
            items = confirmed_coverage([member], related(member), vocab)
        for item in items:
            if item.published is not None and item.published > now:
                continue  # not yet published at `now` (a related list updated later)
            key = (canonical_url(item.url) if item.url else None) or item.title.casefold()
            if key not in own_links and key not in covered:
                covered[key] = item
    outlets = {_provider_key(m) for m in members}
    outlets.update(outlet_key(c.provider, c.domain) for c in covered.values())
    outlets.discard("")
    coverage = max(len(outlets) - 1, 0)
    scored = [(score_article(m, now=now, weights=weights, coverage=coverage), m) for m in members]
    scored.sort(key=lambda pair: rank_key(pair[0], pair[1]))
    score, best = scored[0]
    seen = {_provider_key(best)}
    names: list[str] = []
    others = [(_provider_key(m), m.provider.name) for _, m in scored[1:]]
    others += [(outlet_key(c.provider, c.domain), c.provider or c.domain) for c in covered.values()]
    for key, name in others:
        if key and key not in seen and name.strip() and len(names) < MAX_ALSO_COVERED:
            seen.add(key)
            names.append(name.strip())
    topics: list[str] = []
    for _, member in scored:
        for topic in member.topics:
            key = topic_key(topic)
            if key and key not in topics:
                topics.append(key)
    ordered = tuple(m for _, m in scored)
    story = Story(
        item=DigestItem(best, score, tuple(names), coverage),
        member_ids=frozenset(m.id for m in members),
        member_published=tuple(sorted(m.published for m in members)),
        topic_keys=tuple(topics),
        provider_key=_provider_key(best),
        quality=effective_quality(best),
        members=ordered,
        covered=tuple(covered.values()),
        story_id=story_id,
    )
    return story, rank_key(score, best)


def story_groups(
    articles: Sequence[Article],
) -> tuple[dict[str, list[Article]], Vocabulary | None]:
    """Articles by story id, in the given order. Stored ids are used as they are; articles
    without one (not ingested, e.g. built in memory) are grouped here with `bot.core.stories`."""
    vocab: Vocabulary | None = None
    if all(a.story_id is not None for a in articles):
        ids = {a.id: str(a.story_id) for a in articles}
    else:
        vocab = Vocabulary(fingerprint(a) for a in articles)
        ids = group_articles(articles, vocab=vocab)
    groups: dict[str, list[Article]] = {}
    for article in articles:
        groups.setdefault(ids[article.id], []).append(article)
    return groups, vocab


def build_pool(
    articles: Sequence[Article],
    *,
    now: datetime,
    weights: RankingWeights,
    related: RelatedReader | None = None,
) -> CandidatePool:
    """Group `articles` into stories, score each once at `now`, and index them by topic.

    Articles with the same id (the same canonical URL, e.g. copied into two source folders)
    count once; articles with the same story id (`bot.core.stories`, stored at ingest) are one story.
    `related` reads an article's `related` items (`bot.ingest.parse_related`): used only for
    articles not grouped at ingest, whose coverage is confirmed here.
    """
    if now.tzinfo is None:
        raise ValueError("build_pool needs a timezone-aware `now`")
    unique: dict[str, Article] = {}
    for article in articles:
        unique.setdefault(article.id, article)
    ordered = sorted(unique.values(), key=lambda a: a.id)
    groups, vocab = story_groups(ordered)
    ranked = sorted(
        (
            _story(story_id, group, now=now, weights=weights, vocab=vocab, related=related)
            for story_id, group in groups.items()
        ),
        key=lambda pair: pair[1],
    )
    counts: dict[str, int] = {}
    for story, _ in ranked:
        for key in story.topic_keys:
            counts[key] = counts.get(key, 0) + 1
    stories: list[Story] = []
    by_topic: dict[str, list[int]] = {}
    for position, (story, _) in enumerate(ranked):
        # most specific first: the topic with fewer stories in this pool, then the article's order
        order = {key: n for n, key in enumerate(story.topic_keys)}
        specific = tuple(sorted(story.topic_keys, key=lambda k: (counts[k], order[k])))
        stories.append(replace(story, topic_keys=specific))
        for key in specific:
            by_topic.setdefault(key, []).append(position)
    return CandidatePool(
        now=now,
        stories=tuple(stories),
        by_topic={key: tuple(positions) for key, positions in by_topic.items()},
        providers={
            key: frozenset(stories[p].provider_key for p in positions)
            for key, positions in by_topic.items()
        },
    )


def _walk(
    pool: CandidatePool, keys: list[str], sections: Mapping[str, list[DigestItem]], room: int
) -> Iterator[int]:
    """Positions of the stories of `keys`, best first, dropping a topic once its section is full
    (a story that could still go elsewhere is also in that other topic's list)."""
    lists = [pool.by_topic[key] for key in keys]
    heap = [(positions[0], n, 0) for n, positions in enumerate(lists) if positions]
    heapq.heapify(heap)
    while heap:
        position, n, i = heap[0]
        if len(sections[keys[n]]) >= room:
            heapq.heappop(heap)
            continue
        if i + 1 < len(lists[n]):
            heapq.heapreplace(heap, (lists[n][i + 1], n, i + 1))
        else:
            heapq.heappop(heap)
        yield position


def _eligible(
    story: Story,
    min_quality: int,
    posted_ids: Collection[str],
    window_start: datetime,
    window_end: datetime,
) -> bool:
    if story.quality < min_quality:
        return False
    published = story.member_published
    if published[0] >= window_end or published[-1] < window_start:
        return False
    if len(published) > 1 and not any(window_start <= p < window_end for p in published):
        return False
    return not (posted_ids and not story.member_ids.isdisjoint(posted_ids))


def compose_digest(
    pool: CandidatePool,
    settings: GuildSettings,
    *,
    posted_ids: Collection[str],
    window_start: datetime,
    window_end: datetime,
) -> Digest | None:
    """One server's digest from a shared pool; None when there is nothing new to post.

    A story is eligible when one of its copies was published in [window_start, window_end),
    none of its copies is in `posted_ids` (pass a set), and its quality (missing = neutral)
    is at least `min_quality`. Stories are taken best first; each goes under its most
    specific subscribed topic that still has room, at most `per_topic` per topic and
    `max_per_provider` per outlet across the digest. The outlet cap is for diversity, never
    for emptiness: when a section is left short while eligible stories remain only from
    capped outlets, a second pass fills it from them (best first). A story appears once.
    Sections are ordered by their best story.
    """
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise ValueError("compose_digest needs timezone-aware window bounds")
    display: dict[str, str] = {}
    for topic in settings.topics:
        key = topic_key(topic)
        if key and key not in display:
            display[key] = topic.strip()
    if not display or settings.per_topic < 1:
        return None
    sections: dict[str, list[DigestItem]] = {key: [] for key in display}
    first_position: dict[str, int] = {}
    per_provider: dict[str, int] = {}
    per_topic, cap, min_quality = (
        settings.per_topic,
        settings.max_per_provider,
        settings.min_quality,
    )
    keys = [key for key in display if key in pool.by_topic]
    open_sections = len(sections)
    stories = pool.stories
    taken: set[int] = set()

    def place(position: int, story: Story) -> bool:
        """Put a story in its most specific subscribed section with room; False if none."""
        nonlocal open_sections
        home = next(
            (k for k in story.topic_keys if k in sections and len(sections[k]) < per_topic),
            None,
        )
        if home is None:
            return False
        items = sections[home]
        first_position[home] = min(first_position.get(home, position), position)
        items.append(story.item)
        taken.add(position)
        if len(items) == per_topic:
            open_sections -= 1
        return True

    exhausted = 0
    providers = -1  # outlets present in the subscribed topics; counted on first need
    previous = -1
    passed_over: list[int] = []  # stories skipped only for their outlet's cap, best first
    walker = _walk(pool, keys, sections, per_topic)
    for position in walker:
        if position == previous:
            continue
        previous = position
        story = stories[position]
        provider = story.provider_key
        taken_here = per_provider.get(provider, 0)
        if taken_here >= cap:
            passed_over.append(position)
            continue
        if not _eligible(story, min_quality, posted_ids, window_start, window_end):
            continue
        if not place(position, story):
            continue
        per_provider[provider] = taken_here + 1
        if open_sections == 0:
            break
        if taken_here + 1 == cap:  # every outlet of these topics used up: the rest is capped
            exhausted += 1
            if providers < 0:
                providers = len(frozenset().union(*(pool.providers[key] for key in keys)))
            if exhausted >= providers:
                break
    if open_sections and (passed_over or exhausted):
        # second pass: sections still short, and only capped outlets' stories remain: those
        # passed over (best first), then the ones the first pass did not reach
        seen: set[int] = set()  # (the last position of the first pass may be passed over)
        for position in itertools.chain(passed_over, walker):
            if position in taken or position in seen:
                continue
            seen.add(position)
            story = stories[position]
            if not _eligible(story, min_quality, posted_ids, window_start, window_end):
                continue
            if place(position, story) and open_sections == 0:
                break
    filled = sorted((key for key in sections if sections[key]), key=first_position.__getitem__)
    if not filled:
        return None
    return Digest(
        window_start=window_start,
        window_end=window_end,
        timezone=settings.timezone,
        sections=tuple(DigestSection(display[key], tuple(sections[key])) for key in filled),
    )


def digest_window(
    last_digest_at: datetime | None, now: datetime, lookback_hours: int
) -> tuple[datetime, datetime]:
    """The window [start, now) of a channel's next digest.

    First digest: the last `lookback_hours`. Later: since the last digest, but never further
    back than the look-back or MAX_CATCH_UP, whichever is longer (a server resuming after a
    month gets recent news, not a month of it).
    """
    if now.tzinfo is None or (last_digest_at is not None and last_digest_at.tzinfo is None):
        raise ValueError("digest_window needs timezone-aware datetimes")
    if lookback_hours < 1:
        raise ValueError(f"lookback_hours must be at least 1, not {lookback_hours}")
    lookback = timedelta(hours=lookback_hours)
    if last_digest_at is None:
        return now - lookback, now
    earliest = now - max(lookback, MAX_CATCH_UP)
    return min(max(last_digest_at, earliest), now), now
