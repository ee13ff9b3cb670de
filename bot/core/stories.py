"""Same-story grouping by content: which articles (and `related` items) report one story.

Pure: it knows articles' text, outlets and times, nothing of Discord, the store or search.

Two items are the same story when their *content* says so:
- the same canonical link (one article copied), or
- close in time (at most MAX_GAP apart) and either a reprint (near-identical excerpts, by
  rapidfuzz's normalised Indel similarity) or sharing the story's rare words: the cosine of
  their title-and-excerpt word vectors weighted by inverse document frequency (IDF) is at
  least SAME_COSINE. Words every article of a feed shares ("Azure", "Diablo 4") weigh almost
  nothing; names, numbers and events weigh much. Items published together need less of this
  evidence than items a day apart (`_near`).
- Items without a usable excerpt, titles whose numbers clash ("part 1" / "part 2") and two
  items of one outlet (a series shares boilerplate) must also pass the title test: nearly the
  same wording (rapidfuzz token_sort_ratio) or the same rare title words.

Grouping (`StoryGrouper.assign`) is leader clustering, never a transitive closure: articles are
visited oldest first; one joins the story whose *leader* (first article) it matches, or whose
members it matches for more than a third (JOIN_SHARE), or one member of which it matches
strongly (STRONG), and never a story whose leader is more than MAX_SPAN older (unless by
link); otherwise it starts its own story, named by its id. A chain of pairwise matches cannot
glue weeks of loosely related news into one story.

A `related` item (title, link, outlet, date; no excerpt) is coverage of a story only when its
link is a member's or its title passes the title test against a member (`confirmed_coverage`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import snowballstemmer
from rapidfuzz import fuzz

from bot.core.models import Article, Coverage
from bot.core.urls import canonical_url

RULE_VERSION = 2
"""Bump whenever the rule below changes: stored story ids are then rebuilt from the store."""

MAX_GAP = timedelta(days=4)
"""Items further apart in time are different stories (unless the same link)."""
MAX_SPAN = timedelta(days=7)
"""An article never joins a story whose leader is older than this."""
SAME_COSINE = 0.18
"""IDF-weighted cosine of title+excerpt words at or above which two outlets report one story..."""
SAME_TITLE_COSINE = 0.25
"""...or IDF-weighted cosine of their titles alone."""
NEAR_TIME = timedelta(hours=24)
NEAR_SHARE = 0.5
"""Items published together need this share of the cosines above, all of it from NEAR_TIME
apart on (linear in between; `_near`)."""
TITLE_ONLY_RATIO = 90.0
"""rapidfuzz token_sort_ratio of titles (0-100) needed when an excerpt is missing."""
TITLE_CLOSE_RATIO = 80.0
TITLE_SAME_COSINE = 0.8
"""Titles this close in wording (rapidfuzz) whose differing words are each side's own need an
IDF title cosine this high: "auditing for MariaDB" and "auditing for MySQL" are two things."""
TITLE_MIN_RATIO = 60.0
TITLE_ONLY_COSINE = 0.5
"""Otherwise: a ratio of at least TITLE_MIN_RATIO and an IDF-weighted title cosine this high."""
REPRINT_RATIO = 90.0
"""rapidfuzz ratio of the excerpts' first REPRINT_CHARS characters for a reprint..."""
REPRINT_TITLE_COSINE = 0.5
"""...whose titles share at least this much (a template opening alone is no reprint)."""
REPRINT_CHARS = 300
MIN_EXCERPT_CHARS = 40
"""Shorter excerpts are not compared (titles only)."""
EXCERPT_WORDS = 60
"""Words of an excerpt that count (its opening carries the story)."""
RARE_SHARE = 0.05
"""Candidate search: words in at most this share of the documents (or RARE_MIN) index pairs."""
RARE_MIN = 20
MAX_POSTINGS = 60
"""A word already carried by more articles than this in reach finds no candidates (bounds the
comparisons per article; the article's rarer words still do)."""
CANDIDATE_WORDS = 8
"""Candidate search: an article is indexed by this many of its rarest title words and as many
of its rarest excerpt words."""
SAME_LINK = 1000.0
"""The strength of a shared link (one article); content gives 1.0 (just enough) and more."""
STRONG = 2.0
"""A content match this strong (twice the evidence needed) with any member of a story joins
it, like a shared link, though never beyond MAX_SPAN from its leader."""
JOIN_SHARE = 1 / 3
"""An article joins a story whose leader it does not match when it matches more than this
share of the members (a follow-up told in other words matches some reports, not the first)."""
PRIOR_DOCS = 50
"""Documents assumed besides the known ones when weighing words (a small pool is not a feed)."""
SMALL_FEED_DOUBT = 0.5
"""How much a cosine threshold rises toward 1 when few documents are known (`demand`)."""

_WORD = re.compile(r"[^\W_]+(?:[.'’][^\W_]+)*")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "nor",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "by",
        "at",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "has",
        "have",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "must",
        "do",
        "does",
        "did",
        "done",
        "not",
        "no",
        "but",
        "if",
        "so",
        "than",
        "then",
        "too",
        "very",
        "just",
        "also",
        "only",
        "about",
        "into",
        "over",
        "after",
        "before",
        "via",
        "vs",
        "versus",
        "up",
        "out",
        "off",
        "new",
        "now",
        "more",
        "most",
        "all",
        "any",
        "some",
        "each",
        "every",
        "one",
        "two",
        "three",
        "you",
        "your",
        "we",
        "our",
        "us",
        "they",
        "their",
        "them",
        "he",
        "she",
        "his",
        "her",
        "i",
        "me",
        "my",
        "what",
        "why",
        "when",
        "who",
        "whom",
        "which",
        "where",
        "how",
        "here",
        "there",
        "get",
        "gets",
        "got",
        "says",
        "said",
        "say",
    ]
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


_STEMMER = snowballstemmer.stemmer("english")


_ROMAN = {
    "ii": "2",
    "iii": "3",
    "iv": "4",
    "vii": "7",
    "viii": "8",
    "ix": "9",
    "xii": "12",
    "xiii": "13",
    "xiv": "14",
    "xv": "15",
    "xvi": "16",
    "xvii": "17",
    "xviii": "18",
}
"""Roman numerals as sequels and parts are named ("Diablo IV" = "Diablo 4"); "i", "v", "x",
"vi", "xi" are too often words or names to read as numbers."""


@lru_cache(maxsize=262144)
def _stem(word: str) -> str:
    return _ROMAN.get(word) or str(_STEMMER.stemWord(word.removesuffix("'s")))


class _Stems(dict[str, str | None]):
    """Folded word -> its stem, or None for a stop word (a plain dict look-up per word once
    seen; emptied when it reaches STEMS_KEPT words, so memory stays bounded)."""

    def __missing__(self, word: str) -> str | None:
        if len(self) >= STEMS_KEPT:
            self.clear()
        stem = self[word] = None if word in _STOP else _stem(word.replace("’", "'"))
        return stem


STEMS_KEPT = 262144
_STEMS = _Stems()


@lru_cache(maxsize=16384)  # the texts of the articles in reach (bounded memory: texts are long)
def words(text: str) -> tuple[str, ...]:
    """Content words of a text: NFKC, casefolded, stop words dropped, English stems (Snowball:
    "dates" = "date", "delayed" = "delay"); "3.2" and "it's" stay whole words."""
    return tuple([s for s in map(_STEMS.__getitem__, _WORD.findall(_fold(text))) if s is not None])


def word_set(text: str) -> frozenset[str]:
    """The distinct `words` of a text, each stemmed once (uncached: for long or one-off texts,
    such as all the item titles of a `related` block joined by newlines)."""
    found = set(map(_STEMS.__getitem__, set(_WORD.findall(_fold(text)))))
    return frozenset(s for s in found if s is not None)


_YEAR = re.compile(r"(?:19|20)\d\d")
_EVERGREEN = re.compile(
    r"\b(guides?|how to|how do|how does|how can|(?<!our )(?<!its )(?<!their )(?<!'s )(?<!s' )best|build guide|tier list|explained|"
    r"everything we know|what is|what are|what we know|when is|where to|tips|faq|frequently asked|"
    r"cheat sheet|opinion|exam|certification|roundup|recap|everything announced|"
    r"(?:biggest|top|all the) (?:\w+ )?announcements|what (?:it|they) means?|market (?:size|share|report|analysis|growth|overview|research|"
    r"forecast|outlook))\b",
)


_REVIEW = re.compile(r"^reviews?\b|\breviews?\s*(?:$|[:|–—(-])")
"""A review is named so at a title's start or end ("Diablo 4 review: ..."); "a judge allows a
review of the deal" is news."""


def is_evergreen(title: str) -> bool:
    """Guides, explainers, reviews, market-research reports: pages about a subject, not reports
    of one event. Two of them, or one and a news item, are one story only when near-identical.
    "Best" counts as a listicle's ("best builds"), not as a possessive's ("our best look yet")."""
    folded = _fold(title).strip()
    return (
        _EVERGREEN.search(folded) is not None
        or _REVIEW.search(folded) is not None
        or folded.endswith("?")
    )


@lru_cache(maxsize=65536)
def _numbers(tokens: tuple[str, ...]) -> frozenset[str]:
    """The numbers of a title, by their digits ("$10B" and "10 billion" both give "10"); years
    left out ("delayed into 2023" and "out of 2022" may well be one story)."""
    found = (("".join(c for c in t if c.isdigit())) for t in tokens)
    return frozenset(m for m in found if m and not _YEAR.fullmatch(m))


def _numbers_clash(a: Fingerprint, b: Fingerprint) -> bool:
    """Each title has a number the other lacks ("part 1" / "part 2", "patch 1.1" / "1.2")."""
    x, y = _numbers(a.title_words), _numbers(b.title_words)
    return bool(x - y) and bool(y - x)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the rule compares of one item: its words, outlet, time and links."""

    id: str
    title_words: tuple[str, ...]
    excerpt_words: tuple[str, ...]
    excerpt: str  # normalised opening, for reprint detection ("" when too short)
    outlet: str
    published: datetime | None
    links: frozenset[str]
    evergreen: bool = False

    @property
    def terms(self) -> frozenset[str]:
        return frozenset(self.title_words) | frozenset(self.excerpt_words)


def outlet_key(name: str, domain: str) -> str:
    """An outlet's identity: its domain without `www.`, else its folded name."""
    folded = domain.strip().casefold().removeprefix("www.")
    return folded or name.strip().casefold()


def _source(name: str, domain: str) -> str:
    """Who published an item, for the one-outlet guard: its outlet and its own name, so that
    channels of one platform or outlets syndicated by one portal (youtube.com, msn.com) are
    each their own."""
    return f"{outlet_key(name, domain)}/{name.strip().casefold()}"


def _links(*urls: str | None) -> frozenset[str]:
    return frozenset(key for url in urls if url and (key := canonical_url(url)) is not None)


def _excerpt_opening(excerpt: str) -> str:
    text = " ".join(_WORD.findall(_fold(excerpt)))
    return text[:REPRINT_CHARS] if len(text) >= MIN_EXCERPT_CHARS else ""


def fingerprint(article: Article) -> Fingerprint:
    """The fingerprint of an article."""
    opening = _excerpt_opening(article.excerpt)
    return Fingerprint(
        id=article.id,
        title_words=words(article.title),
        excerpt_words=words(article.excerpt)[:EXCERPT_WORDS] if opening else (),
        excerpt=opening,
        outlet=_source(article.provider.name, article.provider.domain),
        published=article.published,
        links=_links(article.url, article.original_url, article.video_url),
        evergreen=is_evergreen(article.title),
    )


def article_terms(title: str, excerpt: str) -> frozenset[str]:
    """`fingerprint(article).terms` from the title and excerpt alone: what `Vocabulary` counts,
    without the links, outlet and vectors a fingerprint also prepares."""
    opening = _excerpt_opening(excerpt)
    return frozenset(words(title)) | frozenset(words(excerpt)[:EXCERPT_WORDS] if opening else ())


def coverage_fingerprint(item: Coverage) -> Fingerprint:
    """The fingerprint of a `related` item (a title and a link, no excerpt)."""
    return Fingerprint(
        id=item.url or item.title,
        title_words=words(item.title),
        excerpt_words=(),
        excerpt="",
        outlet=_source(item.provider, item.domain),
        published=item.published,
        links=_links(item.url),
        evergreen=is_evergreen(item.title),
    )


class Vocabulary:
    """Document frequencies of words over a set of fingerprints (the feed around the items)."""

    def __init__(self, prints: Iterable[Fingerprint] = ()) -> None:
        self.docs = 0
        self.df: dict[str, int] = {}
        self._idf: dict[str, float] = {}  # memo, valid until the next `add`
        self._rare_max = float(RARE_MIN)
        for fp in prints:
            self.add(fp)

    def add(self, fp: Fingerprint) -> None:
        self.add_terms(fp.terms)

    def add_terms(self, terms: Iterable[str]) -> None:
        """Count one document of these distinct terms (`article_terms`)."""
        self.docs += 1
        df = self.df
        for term in terms:
            df[term] = df.get(term, 0) + 1
        if self._idf:
            self._idf = {}
        self._rare_max = max(RARE_MIN, RARE_SHARE * self.docs)

    def idf(self, term: str) -> float:
        """ln((N + PRIOR_DOCS) / (df + 1)): unseen words weigh most, a feed's common words
        ~0; the prior keeps weights sane when few documents are known."""
        value = self._idf.get(term)
        if value is None:
            value = self._idf[term] = math.log(
                (self.docs + PRIOR_DOCS) / (self.df.get(term, 0) + 1)
            )
        return value

    def demand(self, base: float) -> float:
        """A cosine threshold, raised when few documents are known (then even a feed's
        everyday words look rare): `base` at thousands of documents, more below."""
        doubt = PRIOR_DOCS / (self.docs + PRIOR_DOCS)
        return base + (1.0 - base) * SMALL_FEED_DOUBT * doubt

    @property
    def rare_max(self) -> float:
        """The most documents a rare word is in (`is_rare`)."""
        return self._rare_max

    def is_rare(self, term: str) -> bool:
        return self.df.get(term, 0) <= self._rare_max

    def vector(self, fp: Fingerprint, *, title_only: bool = False) -> dict[str, float]:
        """Unit-length IDF vector: excerpt words once, title words once more."""
        vec: dict[str, float] = {}
        if not title_only:
            for term in set(fp.excerpt_words):
                vec[term] = self.idf(term)
        for term in set(fp.title_words):
            vec[term] = vec.get(term, 0.0) + self.idf(term)
        norm = math.sqrt(sum(v * v for v in vec.values()))
        return {k: v / norm for k, v in vec.items()} if norm else {}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b[k] for k, v in a.items() if k in b)


def _close(a: Fingerprint, b: Fingerprint) -> bool:
    if a.published is None or b.published is None:
        return True  # a related item without a date: judged on its content
    return abs(a.published - b.published) <= MAX_GAP


def _near(a: Fingerprint, b: Fingerprint) -> float:
    """The share of the word evidence two items need by their distance in time: NEAR_SHARE
    when published together, rising linearly to all of it at NEAR_TIME apart (outlets report
    one event within hours, in their own words; days later like words mean less)."""
    if a.published is None or b.published is None:
        return 1.0
    apart = abs(a.published - b.published) / NEAR_TIME
    return NEAR_SHARE + (1.0 - NEAR_SHARE) * min(1.0, apart)


def _own_news(a: Fingerprint, b: Fingerprint) -> bool:
    """Each title has a word the other item never uses: near-identical texts about two
    things ("auditing for Azure Database for MariaDB" / "... for MySQL")."""
    a_text = set(b.title_words) | set(b.excerpt_words)
    b_text = set(a.title_words) | set(a.excerpt_words)
    return any(w not in a_text for w in a.title_words) and any(
        w not in b_text for w in b.title_words
    )


def _titles_match(
    a: Fingerprint, b: Fingerprint, vocab: Vocabulary, similar: float | None = None
) -> bool:
    """Titles alone: near-identical wording, or much wording and the same rare words
    (`similar`: their IDF title cosine, when already known); never clashing numbers."""
    if not a.title_words or not b.title_words or _numbers_clash(a, b):
        return False
    ratio = fuzz.token_sort_ratio(" ".join(a.title_words), " ".join(b.title_words))
    if ratio < TITLE_MIN_RATIO:
        return False
    if similar is None:
        similar = cosine(vocab.vector(a, title_only=True), vocab.vector(b, title_only=True))
    if ratio >= TITLE_CLOSE_RATIO and _own_news(a, b):
        # the same wording around other names: two things ("for MariaDB" / "for MySQL")
        return similar >= vocab.demand(TITLE_SAME_COSINE)
    if ratio >= TITLE_ONLY_RATIO:
        return True
    if a.evergreen or b.evergreen or min(len(a.title_words), len(b.title_words)) < 4:
        return False
    return similar >= vocab.demand(TITLE_ONLY_COSINE)


@dataclass(slots=True)
class _Item:
    fp: Fingerprint
    vec: dict[str, float]
    title_vec: dict[str, float]
    keys: list[str] | None = None  # candidate-search words (StoryGrouper._keys), once known

    @classmethod
    def of(cls, fp: Fingerprint, vocab: Vocabulary) -> _Item:
        return cls(fp, vocab.vector(fp), vocab.vector(fp, title_only=True))


def _same(a: _Item, b: _Item, vocab: Vocabulary) -> float:
    """How strongly two articles are one story (≥ 1.0 means they are; 0.0 that they are not)."""
    x, y = a.fp, b.fp
    if x.links & y.links:
        return SAME_LINK
    if not _close(x, y):
        return 0.0
    title_similar = cosine(a.title_vec, b.title_vec)
    clash = _numbers_clash(x, y)
    if (
        x.excerpt
        and y.excerpt
        and not clash
        and title_similar >= vocab.demand(REPRINT_TITLE_COSINE)
        and not _own_news(x, y)
        and fuzz.ratio(x.excerpt, y.excerpt) >= REPRINT_RATIO
    ):
        return 1.5  # a reprint (boilerplate openings alone do not count: titles must agree)
    titles = _titles_match(x, y, vocab, title_similar)
    if not x.excerpt or not y.excerpt:
        return 1.0 if titles else 0.0
    own = x.outlet == y.outlet
    if (own or x.evergreen or y.evergreen) and not titles:
        # one outlet's series shares boilerplate; guides and explainers are not event reports
        return 0.0
    if clash and fuzz.token_sort_ratio(" ".join(x.title_words), " ".join(y.title_words)) >= 75:
        return 0.0  # the same wording with other numbers: "season 3" / "season 4"
    near = _near(x, y)
    # time lowers the base thresholds, not the doubt of a small store (`demand`)
    by_text = cosine(a.vec, b.vec) / vocab.demand(SAME_COSINE * near)
    by_title = title_similar / vocab.demand(SAME_TITLE_COSINE * near)
    best = max(by_text, by_title)
    return best if best >= 1.0 else 0.0


def same_story(a: Fingerprint, b: Fingerprint, vocab: Vocabulary) -> bool:
    """The pairwise rule: are these two articles one story?"""
    return _same(_Item.of(a, vocab), _Item.of(b, vocab), vocab) >= 1.0


def is_coverage(story: Sequence[Fingerprint], item: Fingerprint, vocab: Vocabulary) -> bool:
    """Is a `related` item (no excerpt) coverage of the story of these member articles?"""
    for member in story:
        if member.links & item.links:
            return True
    return any(_close(m, item) and _titles_match(m, item, vocab) for m in story)


@dataclass(slots=True)
class _Story:
    leader: _Item
    members: list[_Item]


class StoryGrouper:
    """Assigns story ids to articles, incrementally, by leader clustering (see module doc).

    `vocab` gives the word weights (document frequencies of the feed around the articles).
    Seed it with stored articles and their ids (`known`), then `assign` new ones.
    """

    def __init__(self, vocab: Vocabulary, cache: dict[str, object] | None = None) -> None:
        self.vocab = vocab
        # article id -> its prepared item, shared between groupers with the same `vocab`
        self._cache: dict[str, object] = {} if cache is None else cache
        self._stories: dict[str, _Story] = {}
        self._story_of: dict[str, str] = {}
        self._items: list[tuple[_Item, str]] = []  # (item, story id)
        self._by_term: dict[str, list[int]] = {}
        self._by_link: dict[str, list[int]] = {}
        self._times: list[float | None] = []  # publish timestamp by position

    def _keys(self, item: _Item) -> list[str]:
        """The words an article is found by: its CANDIDATE_WORDS rarest title words and as many
        rarest excerpt words (a same-story pair shares some of them)."""
        if item.keys is None:
            item.keys = self._find_keys(item.fp)
        return item.keys

    def _find_keys(self, fp: Fingerprint) -> list[str]:
        df, most = self.vocab.df, self.vocab.rare_max

        def rarest(words: Iterable[str]) -> list[str]:
            rare = {t for t in words if df.get(t, 0) <= most}  # Vocabulary.is_rare, inlined
            return sorted(rare, key=lambda t: (df.get(t, 0), t))[:CANDIDATE_WORDS]

        title = rarest(fp.title_words)
        return title + [t for t in rarest(fp.excerpt_words) if t not in title]

    def _index(self, item: _Item, story_id: str) -> None:
        position = len(self._items)
        self._items.append((item, story_id))
        self._story_of[item.fp.id] = story_id
        for term in self._keys(item):
            self._by_term.setdefault(term, []).append(position)
        for link in item.fp.links:
            self._by_link.setdefault(link, []).append(position)
        self._times.append(item.fp.published.timestamp() if item.fp.published else None)

    def _item(self, fp: Fingerprint) -> _Item:
        cached = self._cache.get(fp.id)
        if isinstance(cached, _Item) and cached.fp is fp:
            return cached
        item = self._cache[fp.id] = _Item.of(fp, self.vocab)
        return item

    def add_known(self, fp: Fingerprint, story_id: str) -> None:
        """A stored article with its stored story id (its leader is its story's oldest member)."""
        item = self._item(fp)
        story = self._stories.get(story_id)
        if story is None:
            self._stories[story_id] = _Story(item, [item])
        else:
            story.members.append(item)
            if _older(item.fp, story.leader.fp):
                story.leader = item
        self._index(item, story_id)

    def story_of(self, article_id: str) -> str | None:
        return self._story_of.get(article_id)

    def assign(self, prints: Iterable[Fingerprint]) -> dict[str, str]:
        """Story ids of new articles (oldest first; each may join a story or start one)."""
        result: dict[str, str] = {}
        for fp in sorted(prints, key=_order):
            if fp.id in self._story_of:
                result[fp.id] = self._story_of[fp.id]
                continue
            item = self._item(fp)
            story_id = self._best_story(item)
            if story_id is None:
                story_id, n = fp.id, 0
                while story_id in self._stories:  # its id names a story it has left
                    n += 1
                    story_id = f"{fp.id}~{n}"
                self._stories[story_id] = _Story(item, [item])
            else:
                self._stories[story_id].members.append(item)
            self._index(item, story_id)
            result[fp.id] = story_id
        return result

    def _best_story(self, item: _Item) -> str | None:
        candidates: set[int] = set()
        for term in self._keys(item):
            postings = self._by_term.get(term, ())
            if len(postings) <= MAX_POSTINGS:  # else too common around here to tell stories apart
                candidates.update(postings)
        if item.fp.published is not None:
            # no link shared (those are added below) and further apart than MAX_GAP: `_same`
            # would say 0.0, so they are not compared at all (a second's slack: it decides)
            at, gap, times = item.fp.published.timestamp(), MAX_GAP.total_seconds() + 1, self._times
            candidates = {p for p in candidates if (t := times[p]) is None or abs(t - at) <= gap}
        for link in item.fp.links:
            candidates.update(self._by_link.get(link, ()))
        strength: dict[str, float] = {}
        known: dict[int, float] = {}  # _same(item, other) by id(other): computed once per pair
        for position in sorted(candidates):
            other, story_id = self._items[position]
            if story_id in strength and strength[story_id] >= SAME_LINK:
                continue
            value = known[id(other)] = _same(item, other, self.vocab)
            if value >= 1.0:
                strength[story_id] = max(strength.get(story_id, 0.0), value)
        best: tuple[float, str] | None = None
        for story_id, value in strength.items():
            story = self._stories[story_id]
            if not self._may_join(item, story, value, known):
                continue
            if best is None or (value, story_id) > best:
                best = (value, story_id)
        return None if best is None else best[1]

    def _may_join(
        self, item: _Item, story: _Story, value: float, known: dict[int, float] | None = None
    ) -> bool:
        if value >= SAME_LINK:  # the same link: one article
            return True
        leader = story.leader
        published, first = item.fp.published, leader.fp.published
        if published is not None and first is not None and abs(published - first) > MAX_SPAN:
            return False
        if value >= STRONG:
            return True
        known = {} if known is None else known

        def same(other: _Item) -> float:
            found = known.get(id(other))
            return _same(item, other, self.vocab) if found is None else found

        if same(leader) >= 1.0:
            return True
        matches = sum(1 for m in story.members if same(m) >= 1.0)
        return matches > JOIN_SHARE * len(story.members)


def _order(fp: Fingerprint) -> tuple[float, str]:
    return (fp.published.timestamp() if fp.published else 0.0, fp.id)


def _older(a: Fingerprint, b: Fingerprint) -> bool:
    return _order(a) < _order(b)


def group_articles(
    articles: Sequence[Article], *, vocab: Vocabulary | None = None
) -> dict[str, str]:
    """Story id of each article, grouped from scratch (words weighted over these articles,
    unless `vocab` is given). Articles carrying a story id already keep it and seed the rest."""
    prints = [fingerprint(a) for a in articles]
    grouper = StoryGrouper(vocab if vocab is not None else Vocabulary(prints))
    new: list[Fingerprint] = []
    for article, fp in zip(articles, prints, strict=True):
        if article.story_id:
            grouper.add_known(fp, article.story_id)
        else:
            new.append(fp)
    result = grouper.assign(new)
    for article in articles:
        if article.story_id:
            result[article.id] = article.story_id
    return result


def confirmed_coverage(
    members: Sequence[Article], related: Iterable[Coverage], vocab: Vocabulary
) -> tuple[Coverage, ...]:
    """The `related` items of a story's members that are the same story (by link or title),
    one per link, in the order given."""
    prints = [fingerprint(m) for m in members]
    own = set().union(*(fp.links for fp in prints)) if prints else set()
    seen: set[str] = set()
    found: list[Coverage] = []
    title_words = set().union(*(fp.title_words for fp in prints)) if prints else set()
    for item in related:
        # cheap refusals first: most items of a topical list share no title word, or are far
        # apart in time (the title test needs both)
        if (
            prints
            and item.published is not None
            and all(
                fp.published is not None and abs(fp.published - item.published) > MAX_GAP
                for fp in prints
            )
        ):
            continue
        if title_words.isdisjoint(words(item.title)):
            continue
        fp = coverage_fingerprint(item)
        key = next(iter(sorted(fp.links)), item.title)
        if key in seen or fp.links & own:
            continue
        if is_coverage(prints, fp, vocab):
            seen.add(key)
            found.append(item)
    return tuple(found)
