"""Give every stored article a story id, once, incrementally (the rule is `bot.core.stories`).

Run at the end of each ingest. Articles without a story id (new ones, and ones whose words,
time or `related` list changed) are grouped oldest first, a slice of CHUNK at a time, against
the stored articles around them (within the rule's reach: MAX_SPAN + MAX_GAP before, MAX_GAP
after). Word weights come from the stored articles nearest in time (at least VOCAB_MIN_DOCS of
them, when the store has that many; one set of weights per run), so a cold ingest and an
incremental one weigh words much alike.
Each grouped article also gets its confirmed coverage: the items of its `related` list that pass
the same-story test against it. When the code's rule version differs from the one the store
records, every story id is forgotten first and rebuilt.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.models import Article, Provider
from bot.core.stories import (
    MAX_GAP,
    MAX_SPAN,
    RULE_VERSION,
    Fingerprint,
    StoryGrouper,
    Vocabulary,
    article_terms,
    confirmed_coverage,
    fingerprint,
    word_set,
    words,
)
from bot.ingest.related import parse_related
from bot.store.db import encode_coverage

if TYPE_CHECKING:
    from bot.store.db import Store

# uncached: each block is read once here, and the cache would keep the biggest blocks alive
_parse_related = parse_related.__wrapped__

CHUNK = timedelta(days=14)
VOCAB_MIN_DOCS = 2000
VOCAB_WINDOW = timedelta(days=30)
"""The word weights are counted from the store a window of this many days at a time."""
_VOCAB_REACH = (timedelta(days=30), timedelta(days=90), timedelta(days=365), timedelta(days=3650))


@dataclass(frozen=True, slots=True)
class GroupingReport:
    grouped: int
    rebuilt: bool


def _article(
    row: tuple[str, str, str, str, str | None, str | None, str, str, datetime, str | None],
) -> Article:
    aid, title, excerpt, url, original_url, video_url, name, domain, published, story_id = row
    return Article(
        id=aid,
        title=title,
        excerpt=excerpt,
        url=url,
        published=published,
        kind="article",
        provider=Provider(name, domain),
        topics=(),
        original_url=original_url,
        video_url=video_url,
        story_id=story_id,
    )


_RELATED_TITLE = re.compile(r"^\s*-?\s*title:\s*(.+)$", re.MULTILINE)


def _may_cover(article: Article, block: str, vocab: Vocabulary) -> bool:
    """Whether any item title of a raw `related` block shares a word with the article's title
    that is not one of the feed's everyday words (confirming coverage needs one in practice):
    most topical lists are refused without being parsed."""
    own = {w for w in words(article.title) if vocab.is_rare(w)}
    # the titles' words all at once: each distinct word stemmed once (titles hold no newline,
    # and no word spans one)
    return bool(own) and not own.isdisjoint(word_set("\n".join(_RELATED_TITLE.findall(block))))


def _vocabulary(store: Store, start: datetime, end: datetime) -> Vocabulary:
    """Word weights from the stored articles around [start, end), widened until enough."""
    for reach in _VOCAB_REACH:
        if store.count_between(start - reach, end + reach) >= VOCAB_MIN_DOCS:
            break
    vocab = Vocabulary()
    window, stop = start - reach, end + reach
    while window < stop:  # a window at a time: memory stays flat whatever the store's size
        following = min(window + VOCAB_WINDOW, stop)
        for row in store.story_texts_between(window, following):
            vocab.add_terms(article_terms(row[1], row[2]))
        window = following
    return vocab


def group_stories(store: Store, *, progress: Callable[[int], None] | None = None) -> GroupingReport:
    """Assign story ids (and confirmed coverage) to every active article that lacks one."""
    rebuilt = store.story_rule() != RULE_VERSION
    if rebuilt:
        store.reset_stories(RULE_VERSION)
    oldest, newest = store.ungrouped_span()
    if oldest is None or newest is None:
        return GroupingReport(grouped=0, rebuilt=rebuilt)
    # one set of word weights for the whole run: the articles around the ungrouped ones
    vocab = _vocabulary(store, oldest, newest + CHUNK)
    prints: dict[str, Fingerprint] = {}  # this run's fingerprints of the stored articles in reach
    prepared: dict[str, object] = {}  # and their vectors (StoryGrouper's cache)
    grouped = 0
    while (oldest := store.oldest_ungrouped()) is not None:
        end = oldest + CHUNK
        first = oldest - MAX_SPAN - MAX_GAP
        grouper = StoryGrouper(vocab, prepared)
        new: list[Article] = []
        seen: set[str] = set()
        for row in store.story_texts_between(first, end + MAX_GAP):
            article_id, published, story_id = row[0], row[8], row[9]
            seen.add(article_id)
            fp = prints.get(article_id)
            if fp is None:  # the store's texts do not change during a run
                fp = prints[article_id] = fingerprint(_article(row))
            if story_id is not None:
                grouper.add_known(fp, story_id)
            elif published < end:
                new.append(_article(row))
        for stale in [k for k in prints if k not in seen]:  # out of reach from now on
            del prints[stale]
            prepared.pop(stale, None)
        assigned = grouper.assign(prints[a.id] for a in new)
        related = store.related_blocks([a.id for a in new])
        writes: list[tuple[str, str, str | None]] = []
        for article in new:
            block = related.get(article.id, "")
            items = _parse_related(block) if block and _may_cover(article, block, vocab) else ()
            covered = confirmed_coverage([article], items, vocab) if items else ()
            writes.append((article.id, assigned[article.id], encode_coverage(covered)))
        store.set_stories(writes)
        grouped += len(writes)
        if progress is not None:
            progress(grouped)
    return GroupingReport(grouped=grouped, rebuilt=rebuilt)
