"""Full-text search over articles: a tantivy index kept beside the database, derived from it.

The index holds active articles only and is synced incrementally from the store by `rev`; a
missing, foreign or unreadable index is rebuilt. User text never reaches tantivy's query
parser: it is tokenised with the index's own analyzer and turned into term queries, so any
input is safe. BM25 picks the candidates (topic and day filters inside the query); the final
order blends relevance with quality and recency.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import tantivy

from bot.core.models import QUALITY_MAX, Article, Image, Provider
from bot.core.topics import topic_key
from bot.store.db import Store, from_us, to_us

log = logging.getLogger(__name__)

INDEX_FORMAT = 2
_META_FILE = "newsbot-index.json"
_TOKENIZER = "newsbot_text"
_MAX_QUERY_CHARS = 1000
_MAX_TERMS = 16
_CANDIDATES = 100
_MAX_LIMIT = 100
_WRITER_HEAP = 32_000_000
_SYNC_BATCH = 2000

# weights of the final blend: relevance (BM25 relative to the best hit) dominates
_W_RELEVANCE = 1.0
_W_QUALITY = 0.3
_W_RECENCY = 0.2
_RECENCY_HALF_LIFE_DAYS = 30.0
_QUALITY_UNKNOWN = 67  # the median: an article without a quality is neither rewarded nor punished

# All searchable text goes into one field, the title three times and the topics twice (a
# boost by term frequency): one term query per word keeps tantivy's block-max WAND pruning,
# which per-field boosted sub-queries lose (measured 2-5x slower on common words at 100k).
_TITLE_REPEAT = 3
_TOPICS_REPEAT = 2


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: an article (its story's best-matching copy) and, once results are grouped
    by story (`search_stories`), the other outlets whose copies matched too."""

    article: Article
    score: float
    also: tuple[str, ...] = ()


MAX_ALSO = 5
"""At most this many "also: …" outlets per result."""


def collapse_stories(hits: Sequence[SearchHit], story_ids: Mapping[str, str]) -> list[SearchHit]:
    """One hit per story, in the given (best first) order: the story's first hit, with the
    other copies' outlets as `also`. An article without a story id is its own story."""
    first: dict[str, int] = {}
    grouped: list[tuple[SearchHit, list[str], set[str]]] = []
    for hit in hits:
        story = story_ids.get(hit.article.id, hit.article.id)
        name = hit.article.provider.name.strip()
        if story not in first:
            first[story] = len(grouped)
            grouped.append((hit, [], {name.casefold()}))
            continue
        _, names, seen = grouped[first[story]]
        if name and name.casefold() not in seen and len(names) < MAX_ALSO:
            seen.add(name.casefold())
            names.append(name)
    return [replace(hit, also=tuple(names)) for hit, names, _ in grouped]


def search_stories(
    index: SearchIndex,
    store: Store,
    query: str,
    *,
    now: datetime,
    topic: str | None = None,
    days: int | None = None,
    limit: int = 10,
    offset: int = 0,
) -> list[SearchHit]:
    """Like `SearchIndex.search`, but one result per story (stored story ids): its best copy
    with "also: …" outlets; `limit` and `offset` count stories."""
    limit, offset = max(0, min(int(limit), _MAX_LIMIT)), max(0, int(offset))
    # copies of one story take several article hits: ask for a few more than needed, and
    # more again only when copies left the page short
    wanted = min(_MAX_LIMIT, offset + limit + 5)
    while True:
        hits = index.search(query, now=now, topic=topic, days=days, limit=wanted)
        stories = collapse_stories(hits, store.story_ids([hit.article.id for hit in hits]))
        if len(stories) >= offset + limit or len(hits) < wanted or wanted >= _MAX_LIMIT:
            return stories[offset : offset + limit]
        wanted = min(_MAX_LIMIT, wanted * 2)


def _analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("text", tokenizer_name=_TOKENIZER, index_option="freq")
    builder.add_text_field("topic", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("published", indexed=True, fast=True)
    builder.add_integer_field("quality", fast=True)
    builder.add_bytes_field("doc", stored=True)
    return builder.build()


# compact `json.dumps`, without building an encoder per call
_TO_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _encode(article: Article) -> bytes:
    """The stored copy of an article (without its `related` block, which search never shows)."""
    data = [
        article.id,
        article.title,
        article.excerpt,
        article.url,
        to_us(article.published),
        article.kind,
        [article.provider.name, article.provider.domain, article.provider.icon_url],
        list(article.topics),
        article.quality,
        article.heat,
        article.trending,
        [[i.url, i.width, i.height] for i in article.images],
        article.original_url,
        article.video_url,
        article.related_count,
    ]
    return _TO_JSON(data).encode("utf-8")


def _decode(blob: bytes) -> Article:
    (
        aid,
        title,
        excerpt,
        url,
        published,
        kind,
        provider,
        topics,
        quality,
        heat,
        trending,
        images,
        original_url,
        video_url,
        related_count,
    ) = json.loads(blob)
    return Article(
        id=aid,
        title=title,
        excerpt=excerpt,
        url=url,
        published=from_us(published),
        kind=kind,
        provider=Provider(*provider),
        topics=tuple(topics),
        quality=quality,
        heat=heat,
        trending=trending,
        images=tuple(Image(*image) for image in images),
        original_url=original_url,
        video_url=video_url,
        related_count=related_count,
    )


def _document(article: Article) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("id", article.id)
    topics = " ".join(article.topics)
    parts = [article.title] * _TITLE_REPEAT + [topics] * _TOPICS_REPEAT
    parts += [article.excerpt, article.provider.name, article.provider.domain]
    doc.add_text("text", "\n".join(parts))
    for topic in article.topics:
        doc.add_text("topic", topic_key(topic))
    doc.add_integer("published", to_us(article.published))
    doc.add_integer("quality", _QUALITY_UNKNOWN if article.quality is None else article.quality)
    doc.add_bytes("doc", _encode(article))
    return doc


class SearchIndex:
    """The tantivy index in one folder. Many readers; a writer only while syncing."""

    def __init__(self, path: Path, index: tantivy.Index, schema: tantivy.Schema) -> None:
        self.path = path
        self._index = index
        self._schema = schema
        self._analyzer = _analyzer()

    @classmethod
    def open(cls, path: Path) -> SearchIndex:
        """Open the index folder, creating it, or recreating it when it is unreadable."""
        schema = _schema()
        meta = _read_meta(path)
        usable = meta is not None and meta.get("format") == INDEX_FORMAT
        if usable:
            try:
                index = tantivy.Index(schema, path=str(path), reuse=True)
            except BaseException as exc:  # tantivy panics on damaged files (PanicException)
                if not _is_tantivy_failure(exc):
                    raise
                log.warning("search index %s is unreadable (%s): rebuilding it", path, exc)
                usable = False
        if not usable:
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True, exist_ok=True)
            index = tantivy.Index(schema, path=str(path), reuse=False)
            _write_meta(path, store_id=None, rev=0)
        index.register_tokenizer(_TOKENIZER, _analyzer())
        return cls(path, index, schema)

    def close(self) -> None:
        """Nothing to flush: the index is committed after every sync."""

    # -- syncing ----------------------------------------------------------------------------

    def sync(self, store: Store) -> int:
        """Bring the index up to date with the store; returns how many documents changed.

        Returns 0 without waiting when another process holds the index writer (the next sync
        catches up).
        """
        with self.syncing(store) as session:
            session.pull()
        return session.changed

    @contextmanager
    def syncing(self, store: Store) -> Iterator[IndexSync]:
        """A sync spread over a longer job (an ingest): call `pull()` after each batch written
        to the store, so tantivy indexes on its own thread while the job goes on; committed on
        exit (dropped on error: the next sync catches up)."""
        session = IndexSync(self, store)
        try:
            yield session
        except BaseException:
            session.abort()
            raise
        session.finish()

    def _writer(self) -> tantivy.IndexWriter | None:
        try:
            return self._index.writer(heap_size=_WRITER_HEAP, num_threads=1)
        except ValueError as exc:
            log.info("search index %s is being written by someone else (%s)", self.path, exc)
            return None

    def _reload(self) -> None:
        self._index.reload()

    # -- searching --------------------------------------------------------------------------

    def terms(self, text: str) -> list[str]:
        """The index terms of user text: tokenised like the documents, deduplicated, capped."""
        try:
            tokens = self._analyzer.analyze(text[:_MAX_QUERY_CHARS])
        except (ValueError, UnicodeError):
            return []
        return list(dict.fromkeys(t for t in tokens if t))[:_MAX_TERMS]

    def search(
        self,
        query: str,
        *,
        now: datetime,
        topic: str | None = None,
        days: int | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[SearchHit]:
        """Best matches first; any text is safe (no match -> [])."""
        limit = max(0, min(int(limit), _MAX_LIMIT))
        offset = max(0, int(offset))
        terms = self.terms(query)
        if not terms or limit == 0:
            return []
        try:
            return self._search(terms, now=now, topic=topic, days=days, limit=limit, offset=offset)
        except BaseException as exc:  # ValueError, or a PanicException on a damaged index
            if not _is_tantivy_failure(exc):
                raise
            log.warning("search for %r failed: %s", query[:100], exc)
            return []

    def _search(
        self,
        terms: list[str],
        *,
        now: datetime,
        topic: str | None,
        days: int | None,
        limit: int,
        offset: int,
    ) -> list[SearchHit]:
        schema = self._schema
        term_queries = [
            tantivy.Query.term_query(schema, "text", term, index_option="freq") for term in terms
        ]
        text_query = (
            term_queries[0]
            if len(term_queries) == 1
            else tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in term_queries])
        )
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = [(tantivy.Occur.Must, text_query)]
        if topic is not None and topic.strip():
            clauses.append(
                (tantivy.Occur.Must, tantivy.Query.term_query(schema, "topic", topic_key(topic)))
            )
        if days is not None:
            since = now - timedelta(days=max(0, min(int(days), 36_500)))
            clauses.append(
                (
                    tantivy.Occur.Must,
                    tantivy.Query.range_query(
                        schema, "published", tantivy.FieldType.Integer, lower_bound=to_us(since)
                    ),
                )
            )
        searcher = self._index.searcher()
        query = text_query if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)
        result = searcher.search(
            query,
            limit=max(_CANDIDATES, offset + limit),
            count=False,
        )
        hits: list[tuple[float, Any]] = result.hits
        if not hits or offset >= len(hits):
            return []
        addresses = [address for _, address in hits]
        published = searcher.fast_field_values("published", addresses)
        quality = searcher.fast_field_values("quality", addresses)
        page = blend(hits, published, quality, now_us=to_us(now))[offset : offset + limit]
        return [
            SearchHit(_decode(searcher.doc(addresses[pos])["doc"][0]), round(score, 6))
            for score, pos in page
        ]

    def doc_count(self) -> int:
        return int(self._index.searcher().num_docs)


def blend(
    hits: list[tuple[float, Any]],
    published: list[Any],
    quality: list[Any],
    *,
    now_us: int,
) -> list[tuple[float, int]]:
    """(final score, candidate position), best first: BM25 relative to the best candidate,
    plus quality (0..1 of 189) and recency (halving every 30 days), weighted."""
    inv_best = 1.0 / (max(score for score, _ in hits) or 1.0)
    decay = math.log(2) / (_RECENCY_HALF_LIFE_DAYS * 86_400e6)
    quality_scale = _W_QUALITY / QUALITY_MAX
    exp = math.exp
    ranked: list[tuple[float, int, int]] = []
    for position in range(len(hits)):
        when = published[position] or 0
        age = now_us - when
        score = (
            _W_RELEVANCE * hits[position][0] * inv_best
            + quality_scale * min(quality[position] or 0, QUALITY_MAX)
            + _W_RECENCY * (exp(-age * decay) if age > 0 else 1.0)
        )
        ranked.append((score, when, -position))
    ranked.sort(reverse=True)
    return [(score, -negative) for score, _, negative in ranked]


class IndexSync:
    """One sync of the index from the store (see `SearchIndex.syncing`).

    The writer is taken on the first `pull()` that finds something to do, so an up-to-date
    index costs one small file read; when another process holds it, the sync does nothing.
    """

    def __init__(self, index: SearchIndex, store: Store) -> None:
        self._index = index
        self._store = store
        self._writer: tantivy.IndexWriter | None = None
        self._locked = False
        self._rebuild = False
        self._rev = 0
        self.changed = 0

    def _begin(self) -> tantivy.IndexWriter | None:
        """The writer, taken on first need; None when there is nothing to do or it is busy."""
        if self._locked:
            return None
        if self._writer is not None:
            return self._writer
        store = self._store
        meta = _read_meta(self._index.path) or {}
        current = meta.get("format") == INDEX_FORMAT and meta.get("store_id") == store.store_id
        if current and meta.get("rev") == store.current_rev():
            return None
        self._writer = self._index._writer()
        if self._writer is None:
            self._locked = True
            return None
        meta = _read_meta(self._index.path) or {}  # as left by the last writer
        self._rebuild = meta.get("store_id") != store.store_id or (
            meta.get("format") != INDEX_FORMAT
        )
        self._rev = 0 if self._rebuild else int(meta.get("rev") or 0)
        if self._rebuild:
            self._writer.delete_all_documents()
        return self._writer

    def push(self, before_rev: int, after_rev: int, articles: Sequence[Article]) -> int:
        """Index what one store write did, from the written values (no re-read of the store).

        The caller promises that the write took the store from `before_rev` to `after_rev` by
        inserting exactly `articles` (active, absent before). When the index is not at
        `before_rev` (behind, or another process wrote), this falls back to `pull()`.
        """
        writer = self._begin()
        if writer is None:
            return 0
        if self._rev != before_rev:
            return self.pull()
        for article in articles:  # new to the store, so not in the index: nothing to delete
            writer.add_document(_document(article))
        self._rev = after_rev
        self._rebuild = False  # from now on an id may be in the index already
        self.changed += len(articles)
        return len(articles)

    def pull(self) -> int:
        """Add what changed in the store since the last pull; returns how many documents."""
        writer = self._begin()
        if writer is None:
            return 0
        store = self._store
        pulled = 0
        while True:
            changes = store.changes_since(self._rev, limit=_SYNC_BATCH, related=False)
            if not changes:
                break
            for change in changes:
                if not self._rebuild:
                    writer.delete_documents_by_term("id", change.article_id)
                if change.article is not None:
                    writer.add_document(_document(change.article))
                pulled += int(change.article is not None or not self._rebuild)
                self._rev = change.rev
        # only the first pull after emptying the index may skip deletes: a later one can meet
        # an article added before (a newer copy written in a later batch)
        self._rebuild = False
        self.changed += pulled
        return pulled

    def finish(self) -> None:
        """Commit what was pulled and record the rev it reflects."""
        writer, self._writer = self._writer, None
        if writer is None:
            return
        try:
            writer.commit()
            writer.wait_merging_threads()
            _write_meta(self._index.path, store_id=self._store.store_id, rev=self._rev)
        finally:
            del writer
        self._index._reload()

    def abort(self) -> None:
        """Drop what was pulled (nothing is committed)."""
        writer, self._writer = self._writer, None
        del writer


def _is_tantivy_failure(exc: BaseException) -> bool:
    """An error raised by tantivy (as opposed to KeyboardInterrupt and the like)."""
    return isinstance(exc, ValueError | OSError) or type(exc).__name__ == "PanicException"


def _read_meta(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((path / _META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_meta(path: Path, *, store_id: str | None, rev: int) -> None:
    """Record what the index reflects; atomic, so a reader never sees half a file."""
    target = path / _META_FILE
    temporary = path / f".{_META_FILE}.{os.getpid()}.tmp"
    temporary.write_text(
        json.dumps({"format": INDEX_FORMAT, "store_id": store_id, "rev": rev}), encoding="utf-8"
    )
    with contextlib.suppress(OSError):
        os.replace(temporary, target)
