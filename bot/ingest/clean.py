"""Text and URL cleaning for article fields (pure, stdlib only).

Text: HTML entities (also double-escaped, `&amp;#39;`), UTF-8 read as Windows-1252 (`â€™`, the
mis-decoded BOM `ï»¿`), NBSP and other odd spaces, soft hyphens, zero-width and control characters,
and runs of whitespace (`\\r\\n`, tabs) collapse to one space. This is stdlib `html.unescape`
plus a targeted cp1252 round trip on mojibake-looking runs only, rather than `ftfy`: ftfy is not a
dependency, runs a general multi-step pipeline on every string, and what real folders hold (`â€™`,
`ï»¿`, `Ã©`) is covered here at the cost of one regex search on clean text.
URLs: only http(s), percent-encoded (spaces, non-ASCII), IDNA host, at most 2,048 characters.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from functools import cache
from urllib.parse import quote, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048

# Typical mojibake: UTF-8 lead bytes C2-C3, E0-EF, F0-F4 decoded as cp1252/latin-1,
# followed by a continuation byte (0x80-0xBF) decoded the same way.
_CONTINUATION = "\x80-\xbf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ\x81\x8d\x8f\x90\x9d"
_MOJIBAKE = re.compile(
    f"[\u00c2\u00c3][{_CONTINUATION}]"
    f"|[\u00e0-\u00ef][{_CONTINUATION}]{{2}}"
    f"|[\u00f0-\u00f4][{_CONTINUATION}]{{3}}"
)
_INVISIBLE = re.compile(
    "[\u00ad\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufffc\ufffd"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)
_SPACES = re.compile("[\\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Already clean: what the slow path would return unchanged (lowercase host, no port, no fragment).
_SIMPLE_URL = re.compile(
    r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)+"
    r"(?:/(?:[A-Za-z0-9/:@!$&'()*+,;=~._\[\]-]++|%[0-9A-Fa-f]{2})*+)?"
    r"(?:\?(?:[A-Za-z0-9/:@!$&'()*+,;=~._?\[\]-]++|%[0-9A-Fa-f]{2})++)?"
)
_URL_SAFE = "/:@!$&'()*+,;=%~-._?#[]"


@cache
def _cp1252_bytes() -> dict[str, int]:
    """Character -> byte of Windows-1252, with latin-1 for its five undefined bytes."""
    table: dict[str, int] = {}
    for byte in range(256):
        try:
            char = bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:
            char = chr(byte)
        table[char] = byte
    return table


def _repair_match(match: re.Match[str]) -> str:
    chunk = match.group(0)
    table = _cp1252_bytes()
    try:
        return bytes(table[c] for c in chunk).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return chunk


def _unescape(value: str) -> str:
    for _ in range(3):  # `&amp;amp;#39;` at worst: bounded, never loops forever
        if "&" not in value:
            break
        unescaped = html.unescape(value)
        if unescaped == value:
            break
        value = unescaped
    return value


def clean_text(value: str) -> str:
    """One readable line: entities decoded, mojibake repaired, invisibles gone, spaces collapsed."""
    if (
        value.isprintable()  # no controls, line breaks, tabs, odd spaces or invisibles
        and "&" not in value
        and "  " not in value
        and value[:1] != " "
        and value[-1:] != " "
        and (value.isascii() or not _MOJIBAKE.search(value))
    ):
        return value
    for _ in range(4):  # until nothing changes (removing a character can reveal an entity)
        cleaned = _unescape(value)
        if _MOJIBAKE.search(cleaned):
            cleaned = _MOJIBAKE.sub(_repair_match, cleaned)
        cleaned = _SPACES.sub(" ", _INVISIBLE.sub("", cleaned)).strip()
        if cleaned == value:
            break
        value = cleaned
    return value


def clean_url(value: str | None) -> str | None:
    """A valid, percent-encoded http(s) URL of at most 2,048 characters, else None."""
    if not isinstance(value, str):
        return None
    if len(value) <= MAX_URL_LENGTH and _SIMPLE_URL.fullmatch(value):
        return value
    value = _SPACES.sub(" ", _INVISIBLE.sub("", value)).strip()
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


def as_utc(value: object) -> datetime | None:
    """An aware UTC datetime from what YAML gives (datetime, date, ISO text); None if unusable
    (also when it has no UTC time: the first or last hours of years 1 and 9999).

    Naive datetimes and bare dates are taken as UTC.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            try:
                value = date.fromisoformat(text)
            except ValueError:
                return None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00:00+01:00 has no UTC time
            return None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None
