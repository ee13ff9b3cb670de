"""Digest composition: collapse a window's articles into stories once, then pick per server.

`build_pool` does the expensive part once per window (story collapse, scoring, per-topic
ordering); `compose_digest` is a cheap walk over that pool for one server's settings, so one
pool serves thousands of servers. Pure: no Discord, no SQLite, no clock (`now` is passed in).
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core.models import Article, Coverage, Digest, DigestItem, DigestSection, GuildSettings
from bot.core.models import ScoreBreakdown as Score
from bot.core.ranking import RankingWeights, effective_quality, rank_key, score_article
from bot.ingest import canonical_url
from bot.ingest.related import parse_related

TITLE_SIMILARITY = 0.8
"""Token Jaccard similarity at or above which two titles are the same story."""
TITLE_MIN_TOKENS = 4
"""Shorter titles collapse only when their token sets are equal."""
SAME_STORY_MAX_APART = timedelta(days=3)
"""Articles further apart in time than this are different stories (unless the same URL)."""
MAX_ALSO_COVERED = 25
"""At most this many "also covered by" names per story."""
MAX_CATCH_UP = timedelta(days=7)
"""A window since the last digest never reaches further back than this (or the look-back)."""

_TOKEN = re.compile(r"\w+(?:[.,:]\w+)*")


@dataclass(frozen=True, slots=True)
class Story:
    """One story of a pool: its digest item (best article, score, other outlets) and its copies."""

    item: DigestItem
    member_ids: frozenset[str]
    member_published: tuple[datetime, ...]
    topic_keys: tuple[str, ...]  # most specific first
    provider_key: str
    quality: int

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


def topic_key(topic: str) -> str:
    """How topics are matched: case-insensitive, surrounding spaces ignored."""
    return topic.strip().casefold()


def _provider_key(article: Article) -> str:
    domain = article.provider.domain.strip().casefold().removeprefix("www.")
    return domain or article.provider.name.strip().casefold()


def _canon(url: str | None) -> str | None:
    return canonical_url(url) if url else None  # never raises (bot.ingest contract)


def _related(article: Article) -> tuple[Coverage, ...]:
    return parse_related(article.related_yaml)  # cached; "" or unusable -> ()


def title_tokens(title: str) -> frozenset[str]:
    """Normalised word set of a title (NFKC, casefolded, punctuation dropped; "3.2" is one word)."""
    return frozenset(_TOKEN.findall(unicodedata.normalize("NFKC", title).casefold()))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b| (0.0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _similar_title_pairs(articles: Sequence[Article]) -> Iterator[tuple[int, int]]:
    """Pairs with near-identical titles, found by prefix filtering (no all-pairs scan)."""
    tokens = [title_tokens(a.title) for a in articles]
    numbers = [frozenset(t for t in toks if any(c.isdigit() for c in t)) for toks in tokens]
    frequency: dict[str, int] = {}
    for toks in tokens:
        for tok in toks:
            frequency[tok] = frequency.get(tok, 0) + 1
    index: dict[str, list[int]] = {}
    for i, toks in enumerate(tokens):
        if not toks:
            continue
        ordered = sorted(toks, key=lambda t: (frequency[t], t))
        # J >= t needs |A ∩ B| >= t·|A|: B must share one of A's rarest |A| - ceil(t·|A|) + 1.
        prefix = ordered[: len(ordered) - math.ceil(TITLE_SIMILARITY * len(ordered)) + 1]
        candidates: set[int] = set()
        for tok in prefix:
            candidates.update(index.get(tok, ()))
            index.setdefault(tok, []).append(i)
        for j in sorted(candidates):
            a, b = tokens[i], tokens[j]
            if numbers[i] != numbers[j]:  # "season 3" vs "season 4": other stories
                same = False
            elif min(len(a), len(b)) < TITLE_MIN_TOKENS:
                same = a == b
            else:
                same = jaccard(a, b) >= TITLE_SIMILARITY
            if same:
                yield j, i


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _collapse(
    articles: Sequence[Article], *, now: datetime, weights: RankingWeights
) -> list[list[int]]:
    """Groups of article positions that are the same story, best article first.

    1. Copies merge transitively: the same canonical URL, or near-identical titles.
    2. Copy groups linked by a `related` list merge by leader clustering, not transitively:
       groups are visited best first and join the best story they are directly linked to,
       else start one. Related lists chain loosely related news; a closure would merge weeks.
    Links other than the same URL only count between articles at most SAME_STORY_MAX_APART apart.
    """

    def close(i: int, j: int) -> bool:
        return abs(articles[i].published - articles[j].published) <= SAME_STORY_MAX_APART

    copies = _UnionFind(len(articles))
    by_url: dict[str, list[int]] = {}
    for i, article in enumerate(articles):
        for url in (article.url, article.original_url, article.video_url):
            key = _canon(url)
            if key is not None:
                same = by_url.setdefault(key, [])
                if same:
                    copies.union(same[0], i)
                same.append(i)
    for i, j in _similar_title_pairs(articles):
        if close(i, j):
            copies.union(i, j)
    root = [copies.find(i) for i in range(len(articles))]
    related: dict[int, set[int]] = {}
    for i, article in enumerate(articles):
        for coverage in _related(article):
            key = _canon(coverage.url)
            for j in by_url.get(key, ()) if key is not None else ():
                if root[i] != root[j] and close(i, j):
                    related.setdefault(root[i], set()).add(root[j])
                    related.setdefault(root[j], set()).add(root[i])
    own = [
        rank_key(score_article(a, now=now, weights=weights, coverage=a.related_count), a)
        for a in articles
    ]
    members: dict[int, list[int]] = {}
    for i in sorted(range(len(articles)), key=own.__getitem__):
        members.setdefault(root[i], []).append(i)
    rank = {r: n for n, r in enumerate(members)}  # copy groups, best first
    groups: dict[int, list[int]] = {}
    for r, copy_group in members.items():
        heads = [h for h in related.get(r, ()) if h in groups]
        if heads:
            groups[min(heads, key=rank.__getitem__)].extend(copy_group)
        else:
            groups[r] = list(copy_group)
    return list(groups.values())


def _story(
    members: list[Article], *, now: datetime, weights: RankingWeights
) -> tuple[Story, tuple[float, float, str]]:
    urls: set[str] = set()
    related: list[Coverage] = []
    for member in members:
        key = _canon(member.url)
        if key is not None:
            urls.add(key)
        for item in _related(member):
            related.append(item)
            key = _canon(item.url)
            if key is not None:
                urls.add(key)
    coverage = max(len(urls) - 1, max(m.related_count for m in members), len(members) - 1, 0)
    scored = [(score_article(m, now=now, weights=weights, coverage=coverage), m) for m in members]
    scored.sort(key=lambda pair: rank_key(pair[0], pair[1]))
    score, best = scored[0]
    seen = {best.provider.name.strip().casefold()}
    names: list[str] = []
    for name in [m.provider.name for _, m in scored[1:]] + [c.provider for c in related]:
        folded = name.strip().casefold()
        if folded and folded not in seen and len(names) < MAX_ALSO_COVERED:
            seen.add(folded)
            names.append(name.strip())
    topics: list[str] = []
    for member in [best] + [m for _, m in scored[1:]]:
        for topic in member.topics:
            key = topic_key(topic)
            if key and key not in topics:
                topics.append(key)
    story = Story(
        item=DigestItem(best, score, tuple(names), coverage),
        member_ids=frozenset(m.id for m in members),
        member_published=tuple(sorted(m.published for m in members)),
        topic_keys=tuple(topics),
        provider_key=_provider_key(best),
        quality=effective_quality(best),
    )
    return story, rank_key(score, best)


def build_pool(
    articles: Sequence[Article], *, now: datetime, weights: RankingWeights
) -> CandidatePool:
    """Collapse `articles` into stories, score each once at `now`, and index them by topic.

    Articles with the same id (the same canonical URL, e.g. copied into two source folders)
    count once.
    """
    if now.tzinfo is None:
        raise ValueError("build_pool needs a timezone-aware `now`")
    unique: dict[str, Article] = {}
    for article in articles:
        unique.setdefault(article.id, article)
    ordered = sorted(unique.values(), key=lambda a: a.id)
    ranked = sorted(
        (
            _story([ordered[i] for i in group], now=now, weights=weights)
            for group in _collapse(ordered, now=now, weights=weights)
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
    `max_per_provider` per outlet across the digest. Sections are ordered by their best story.
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
    open_sections = len(sections)
    exhausted = 0
    providers = -1  # outlets present in the subscribed topics; counted on first need
    stories = pool.stories
    previous = -1
    for position in _walk(
        pool, [key for key in display if key in pool.by_topic], sections, per_topic
    ):
        if position == previous:
            continue
        previous = position
        story = stories[position]
        provider = story.provider_key
        taken = per_provider.get(provider, 0)
        if taken >= cap or story.quality < min_quality:
            continue
        published = story.member_published
        if published[0] >= window_end or published[-1] < window_start:
            continue
        if len(published) > 1 and not any(window_start <= p < window_end for p in published):
            continue
        if posted_ids and not story.member_ids.isdisjoint(posted_ids):
            continue
        home = next(
            (k for k in story.topic_keys if k in sections and len(sections[k]) < per_topic),
            None,
        )
        if home is None:
            continue
        items = sections[home]
        if not items:
            first_position[home] = position
        items.append(story.item)
        per_provider[provider] = taken + 1
        if len(items) == per_topic:
            open_sections -= 1
            if open_sections == 0:
                break
        if taken + 1 == cap:  # stop early once every outlet of these topics is used up
            exhausted += 1
            if providers < 0:
                providers = len(
                    frozenset().union(
                        *(pool.providers[key] for key in display if key in pool.providers)
                    )
                )
            if exhausted >= providers:
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
