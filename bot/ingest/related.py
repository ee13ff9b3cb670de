"""The `related` list of an article (other outlets' coverage), parsed on demand.

Ingest keeps the block as raw YAML text (`Article.related_yaml`): parsing it is most of the cost of
reading a file, and only the articles that reach a digest need it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from bot.core.models import QUALITY_MAX, Article, Coverage
from bot.core.urls import clean_url
from bot.ingest.bounds import in_scale, published_in_range
from bot.ingest.clean import as_utc, clean_text
from bot.ingest.fastyaml import fast_load


def load_related_yaml(related_yaml: str) -> Any:
    """The raw `related` value (as YAML would give it) of a `related:` block; None if unusable."""
    if not related_yaml.strip():
        return None
    data = fast_load(related_yaml)
    if data is None:
        try:
            data = yaml.load(related_yaml, Loader=yaml.CSafeLoader)
        except (yaml.YAMLError, RecursionError, ValueError):
            return None
    return data.get("related") if isinstance(data, dict) else None


def _coverage(item: Any) -> Coverage | None:
    if not isinstance(item, dict):
        return None
    title = item.get("title")
    if not isinstance(title, str) or not (title := clean_text(title)):
        return None
    provider = item.get("provider")
    name = domain = ""
    if isinstance(provider, dict):
        raw_name, raw_domain = provider.get("name"), provider.get("domain")
        domain = clean_text(raw_domain).lower() if isinstance(raw_domain, str) else ""
        name = clean_text(raw_name) if isinstance(raw_name, str) else domain
    try:
        quality = in_scale(item.get("quality"), QUALITY_MAX)
    except ValueError:  # out of its scale: unknown, like a missing one
        quality = None
    published = as_utc(item.get("publishedDateTime"))
    return Coverage(
        title=title,
        url=clean_url(item.get("webUrl")) or clean_url(item.get("originalUrl")),
        provider=name,
        domain=domain,
        published=published if published is not None and published_in_range(published) else None,
        quality=quality,
    )


@lru_cache(maxsize=4096)
def parse_related(related_yaml: str) -> tuple[Coverage, ...]:
    """Coverage items of a raw `related:` block, in file order; "" (or anything unusable) -> ().

    Items without a title are skipped; values are cleaned like the article's own fields, and a
    quality or date out of its range (see `bot.ingest.bounds`) is unknown (None).
    """
    items = load_related_yaml(related_yaml)
    if not isinstance(items, list):
        return ()
    return tuple(c for c in map(_coverage, items) if c is not None)


def related_items(article: Article) -> tuple[Coverage, ...]:
    """An article's `related` items (`bot.core.digest.RelatedReader`, injected into the core)."""
    return parse_related(article.related_yaml)
