"""Article identity: a canonical URL and a short stable hash of it (pure)."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from bot.ingest.clean import clean_text, clean_url

_TRACKING = re.compile(r"utm_[a-z0-9_]*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|_ga", re.I)
_YOUTUBE_HOSTS = frozenset(
    ("youtube.com", "m.youtube.com", "music.youtube.com", "youtube-nocookie.com", "youtu.be")
)
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_YOUTUBE_PATH = re.compile(r"/(?:embed|v|shorts|live|e)/([A-Za-z0-9_-]{11})(?:[/?]|$)")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A clean URL without port, query or fragment: canonical form by slicing (the common case).
_SIMPLE = re.compile(r"(https?://)(?:www\.)?([a-z0-9.-]+)(/[^?#]*[^/?#])?/*")


def _youtube_id(host: str, path: str, query: str) -> str | None:
    if host not in _YOUTUBE_HOSTS:
        return None
    if host == "youtu.be":
        candidate = path.strip("/").split("/")[0]
        return candidate if _YOUTUBE_ID.fullmatch(candidate) else None
    if path.rstrip("/") == "/watch":
        for key, value in parse_qsl(query):
            if key == "v" and _YOUTUBE_ID.fullmatch(value):
                return value
        return None
    match = _YOUTUBE_PATH.match(path)
    return match.group(1) if match else None


def canonical_url(url: str) -> str:
    """The identity form of a URL: https, lowercase host without `www.`, no fragment, no
    trailing slash, no tracking parameters (utm_*, fbclid, gclid…), remaining parameters sorted;
    every YouTube form (watch, youtu.be, embed, shorts) becomes `https://youtube.com/watch?v=<id>`.
    Never raises: text that is not an http(s) URL comes back stripped.
    """
    cleaned = clean_url(url)
    if cleaned is None:
        return url.strip()
    simple = _SIMPLE.fullmatch(cleaned)
    if simple is not None and "youtu" not in simple.group(2):
        return f"https://{simple.group(2)}{simple.group(3) or ''}"
    parts = urlsplit(cleaned)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    video = _youtube_id(host, parts.path, parts.query)
    if video is not None:
        return f"https://youtube.com/watch?v={video}"
    netloc = host
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    params = sorted(
        param
        for param in parts.query.split("&")
        if param and not _TRACKING.fullmatch(param.split("=", 1)[0])
    )
    # http and https copies of a link are one article
    return urlunsplit(("https", netloc, parts.path.rstrip("/"), "&".join(params), ""))


def video_page_url(url: str) -> str:
    """The page of a video link, where people watch it: any YouTube form (embed, youtu.be,
    shorts…) becomes `https://youtube.com/watch?v=<id>`; other links come back as they are."""
    cleaned = clean_url(url)
    if cleaned is None or "youtu" not in cleaned:
        return url
    parts = urlsplit(cleaned)
    host = (parts.hostname or "").lower().removeprefix("www.")
    video = _youtube_id(host, parts.path, parts.query)
    return url if video is None else f"https://youtube.com/watch?v={video}"


def short_hash(text: str) -> str:
    """16 hex characters (64 bits) of SHA-256: plenty for a few million articles."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def article_id(url: str | None, *, domain: str, title: str) -> str:
    """Stable article id: hash of the canonical URL, else of provider domain + normalised title."""
    if url:
        return short_hash(canonical_url(url))
    normalised = " ".join(clean_text(title).casefold().split())
    return short_hash(f"{domain.strip().lower()}\n{normalised}")
