"""Shared checks: our parse of a file against python-frontmatter's, value by value and type by type."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import frontmatter
import yaml

from bot.ingest import (
    ParsedFile,
    Rejection,
    clean_text,
    load_front_matter,
    parse_bytes,
    parse_related,
)
from bot.ingest.parse import DROPPED_RELATED_KEYS
from bot.ingest.related import load_related_yaml


def same(ours: Any, theirs: Any, where: str = "$") -> list[str]:
    """Differences between two YAML values, strict about types (True is not 1)."""
    if type(ours) is not type(theirs):
        return [f"{where}: {type(ours).__name__} {ours!r} != {type(theirs).__name__} {theirs!r}"]
    if isinstance(ours, dict):
        if ours.keys() != theirs.keys():
            return [f"{where}: keys {sorted(map(str, ours))} != {sorted(map(str, theirs))}"]
        return [d for key in ours for d in same(ours[key], theirs[key], f"{where}.{key}")]
    if isinstance(ours, list):
        if len(ours) != len(theirs):
            return [f"{where}: {len(ours)} items != {len(theirs)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
            for d in same(a, b, f"{where}[{i}]")
        ]
    if isinstance(ours, datetime) and ours.tzinfo != theirs.tzinfo:
        return [f"{where}: tz {ours.tzinfo!r} != {theirs.tzinfo!r}"]
    return [] if ours == theirs else [f"{where}: {ours!r} != {theirs!r}"]


def _without_dropped(items: Any) -> Any:
    if not isinstance(items, list):
        return items
    return [
        {k: v for k, v in item.items() if k not in DROPPED_RELATED_KEYS}
        if isinstance(item, dict)
        else item
        for item in items
    ]


def check_file(data: bytes, name: str) -> list[str]:
    """Every difference between our reading of `data` and python-frontmatter's."""
    text = data.decode("utf-8")
    reference: dict[str, Any] = dict(frontmatter.loads(text).metadata)
    problems = same(load_front_matter(text), reference)
    result = parse_bytes(data, name)
    if isinstance(result, Rejection):
        return [f"{name}: {p}" for p in [*problems, f"rejected: {result.error}"]]
    assert isinstance(result, ParsedFile)
    article = result.article
    related = reference.get("related") or []
    if article.related_count != len(related):
        problems.append(f"related_count {article.related_count} != {len(related)}")
    if related:
        # the kept block leaves out keys nothing reads; everything else is the same, and so is
        # the coverage read from it
        ours = load_related_yaml(article.related_yaml)
        problems += same(_without_dropped(ours), _without_dropped(related), "$.related")
        full = yaml.dump({"related": related}, Dumper=yaml.CSafeDumper, allow_unicode=True)
        if parse_related(article.related_yaml) != parse_related(full):
            problems.append("coverage read from the kept related block differs")
    expected_title = clean_text(reference["title"])
    if article.title != expected_title:
        problems.append(f"title {article.title!r} != {expected_title!r}")
    published = reference["publishedDateTime"]
    if article.published != published.astimezone(UTC) or article.published.tzinfo is not UTC:
        problems.append(f"published {article.published!r} != {published!r}")
    quality, heat = reference.get("quality"), reference.get("heat")
    if article.quality != (quality if quality is not None and quality >= 0 else None):
        problems.append(f"quality {article.quality} != {quality}")
    if article.heat != (heat if heat is not None and heat >= 0 else None):
        problems.append(f"heat {article.heat} != {heat}")
    if article.trending is not bool(reference.get("published")):
        problems.append(f"trending {article.trending} != {reference.get('published')}")
    if result.removed is not (reference.get("removed") is True):
        problems.append("removed flag differs")
    if article.kind != reference["type"]:
        problems.append(f"kind {article.kind} != {reference['type']}")
    if article.provider.domain != reference["provider"]["domain"].strip().lower():
        problems.append(f"provider domain {article.provider.domain!r}")
    return [f"{name}: {p}" for p in problems]
