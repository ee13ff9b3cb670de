"""The one URL policy: cleaning, identity (canonical form) and embed safety (pure, stdlib only).

- `clean_url`: what is stored: only http(s), percent-encoded (spaces, non-ASCII), IDNA host, at
  most 2,048 characters (Discord's limit for every URL in an embed), else None.
- `canonical_url`: what identifies an article: https, lowercase host without `www.`, no
  fragment, no trailing slash, no tracking parameters, remaining parameters sorted; every
  YouTube form becomes `https://youtube.com/watch?v=<id>` (`video_page_url` does that alone).
- `safe_url`: what may go into an embed: a clean URL whose host is a plain DNS name, that
  carries no user name or password, with brackets encoded and at least the root path.
Each is idempotent (a hypothesis property checks it) and never raises.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048

INVISIBLE = re.compile(
    "[\u00ad\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufffc\ufffd"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)
"""Characters that are never meant to be seen: soft hyphens, zero-width, bidi and control."""
SPACES = re.compile("[\\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
"""Runs of any kind of space."""
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Already clean: what the slow path would return unchanged (lowercase host, no port, no fragment).
_SIMPLE_URL = re.compile(
    r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)+"
    r"(?:/(?:[A-Za-z0-9/:@!$&'()*+,;=~._\[\]-]++|%[0-9A-Fa-f]{2})*+)?"
    r"(?:\?(?:[A-Za-z0-9/:@!$&'()*+,;=~._?\[\]-]++|%[0-9A-Fa-f]{2})++)?"
)
_URL_SAFE = "/:@!$&'()*+,;=%~-._?#[]"
_TRACKING = re.compile(r"utm_[a-z0-9_]*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|_ga", re.I)
_YOUTUBE_HOSTS = frozenset(
    ("youtube.com", "m.youtube.com", "music.youtube.com", "youtube-nocookie.com", "youtu.be")
)
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_YOUTUBE_PATH = re.compile(r"/(?:embed|v|shorts|live|e)/([A-Za-z0-9_-]{11})(?:[/?]|$)")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A clean URL without port, query or fragment: canonical form by slicing (the common case).
_SIMPLE = re.compile(r"(https?://)(?:www\.)?([a-z0-9.-]+)(/[^?#]*[^/?#])?/*")
_DNS_HOST = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.?$"
)


def clean_url(value: str | None) -> str | None:
    """A valid, percent-encoded http(s) URL of at most 2,048 characters, else None."""
    if not isinstance(value, str):
        return None
    if len(value) <= MAX_URL_LENGTH and _SIMPLE_URL.fullmatch(value):
        return value
    value = SPACES.sub(" ", INVISIBLE.sub("", value)).strip()
    if not value or len(value) > 4 * MAX_URL_LENGTH:
        return None
    try:
        parts = urlsplit(value)
        scheme = parts.scheme.lower()
        host = parts.hostname
        if scheme not in ("http", "https") or not host:
            return None
        port = parts.port  # raises ValueError on a bad port
        if not host.isascii():
            host = host.encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        return None
    if any(c in host for c in " %/\\@") or ("." not in host.strip("[]") and host != "localhost"):
        return None
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    if parts.username is not None:
        userinfo = quote(parts.username, safe="%!$&'()*+,;=")
        if parts.password is not None:
            userinfo += ":" + quote(parts.password, safe="%!$&'()*+,;=")
        netloc = f"{userinfo}@{netloc}"

    def encode(part: str) -> str:
        return quote(_LONE_PERCENT.sub("%25", part), safe=_URL_SAFE.replace("#", ""))

    path = encode(parts.path.replace("\\", "/"))
    query = encode(parts.query)
    fragment = encode(parts.fragment)
    url = urlunsplit((scheme, netloc, path, query, fragment))
    return url if len(url) <= MAX_URL_LENGTH else None


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
    # http and https are one article, so either default port is no part of the identity
    if port is not None and port not in _DEFAULT_PORTS.values():
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


def safe_url(url: str | None) -> str | None:
    """`url` if it may go into an embed: clean (see `clean_url`), a plain DNS host, and no user
    name or password in it; else None."""
    cleaned = clean_url(url)
    if cleaned is None:
        return None
    parts = urlsplit(cleaned)
    if "@" in parts.netloc or not _DNS_HOST.match(parts.hostname or ""):
        return None
    # brackets may stand only around an IPv6 host: elsewhere an embed wants them encoded
    tail = [part.replace("[", "%5B").replace("]", "%5D") for part in parts[2:]]
    return urlunsplit((parts.scheme, parts.netloc, tail[0] or "/", tail[1], tail[2]))
