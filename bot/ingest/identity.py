"""Article identity: a canonical URL and a short stable hash of it (pure)."""

from __future__ import annotations

import hashlib

from bot.core.urls import canonical_url, video_page_url
from bot.ingest.clean import clean_text

__all__ = ["article_id", "canonical_url", "short_hash", "video_page_url"]


def short_hash(text: str) -> str:
    """16 hex characters (64 bits) of SHA-256: plenty for a few million articles."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def article_id(url: str | None, *, domain: str, title: str) -> str:
    """Stable article id: hash of the canonical URL, else of provider domain + normalised title."""
    if url:
        return short_hash(canonical_url(url))
    normalised = " ".join(clean_text(title).casefold().split())
    return short_hash(f"{domain.strip().lower()}\n{normalised}")
