"""Text and URL cleaning for article fields (pure, stdlib only).

Text: HTML entities (also double-escaped, `&amp;#39;`), UTF-8 read as Windows-1252 (`â€™`, the
mis-decoded BOM `ï»¿`), NBSP and other odd spaces, soft hyphens, zero-width and control characters,
and runs of whitespace (`\\r\\n`, tabs) collapse to one space. This is stdlib `html.unescape`
plus a targeted cp1252 round trip on mojibake-looking runs only, rather than `ftfy`: ftfy is not a
dependency, runs a general multi-step pipeline on every string, and what real folders hold (`â€™`,
`ï»¿`, `Ã©`) is covered here at the cost of one regex search on clean text.
Markup: HTML tags go and their text stays (`<b>templates</b>`, also written `\\<b\\>` or
`&lt;b&gt;`; a script's or style's text goes too). The standard library's `html.parser` reads
them; only the names of HTML elements count as tags, with attributes that look like attributes
(`Vec<T>` and `a<b && c>d` stay as they are). Terminal colour codes go, with or without their
ESC byte (`\\x1b[31mred\\x1b[0m`, and `[31mred[0m` when the ESC was stripped upstream).
URLs are cleaned by `bot.core.urls` (the one URL policy).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from functools import cache
from html.parser import HTMLParser

from bot.core.urls import INVISIBLE as _INVISIBLE
from bot.core.urls import SPACES as _SPACES

# Typical mojibake: UTF-8 lead bytes C2-C3, E0-EF, F0-F4 decoded as cp1252/latin-1,
# followed by a continuation byte (0x80-0xBF) decoded the same way.
_CONTINUATION = "\x80-\xbf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ\x81\x8d\x8f\x90\x9d"
_MOJIBAKE = re.compile(
    f"[\u00c2\u00c3][{_CONTINUATION}]"
    f"|[\u00e0-\u00ef][{_CONTINUATION}]{{2}}"
    f"|[\u00f0-\u00f4][{_CONTINUATION}]{{3}}"
)
# ANSI escape sequences (CSI with ESC or as the C1 byte, OSC, two-byte escapes), and what a
# colour code leaves when the ESC byte was stripped upstream (`[31m`, `[0m`, `[1;33m`)
_ANSI = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\[(?:[0-9]{1,3}(?:;[0-9]{1,3})*)?m(?!\])"
)
_MAYBE_TAG = re.compile(r"<[A-Za-z/!?]")
_ESCAPED_ANGLE = re.compile(r"\\([<>])")  # `\<b\>`: markdown-escaped brackets
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_:][-A-Za-z0-9_:.]*")
_DROPPED_WITH_TEXT = frozenset(("script", "style"))
# HTML elements: a block one's tag leaves a space between words, an inline one's nothing
_BLOCK_NAMES = (
    "address article aside blockquote br dd details div dl dt figcaption figure footer h1 h2 "
    "h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody td tfoot th thead "
    "tr ul"
)
_INLINE_NAMES = (
    "a abbr audio b bdi bdo big body caption center cite code col colgroup del dfn em embed "
    "font head html i iframe img input ins kbd label link mark meta object picture q s samp "
    "noscript small source span strike strong sub sup template time title u var video wbr"
)
_BLOCKS = frozenset(_BLOCK_NAMES.split())
_HTML_TAGS = _BLOCKS | frozenset(_INLINE_NAMES.split()) | _DROPPED_WITH_TEXT


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


class _TagStripper(HTMLParser):
    """Text without its HTML tags: an HTML element's tag goes (a block one leaves a space), its
    text stays; anything else that looks like a tag is kept as written."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        # inside <script> or <style>: their text goes too, once they are closed
        self.dropped: list[str] | None = None

    def _is_tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        return tag in _HTML_TAGS and all(_ATTRIBUTE_NAME.fullmatch(name) for name, _ in attrs)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._is_tag(tag, attrs):
            self.handle_data(self.get_starttag_text() or "")
        elif tag in _DROPPED_WITH_TEXT:
            self.dropped = [self.get_starttag_text() or ""]
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._is_tag(tag, attrs):
            self.handle_data(self.get_starttag_text() or "")
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag not in _HTML_TAGS:
            self.handle_data(f"</{tag}>")
        elif tag in _DROPPED_WITH_TEXT:
            self.dropped = None
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        (self.parts if self.dropped is None else self.dropped).append(data)

    def text(self) -> str:
        """All that was fed, without its tags (a <script> or <style> never closed: as written)."""
        self.close()
        if self.dropped is not None:  # `How to use <style> tags`: not markup after all
            self.parts += self.dropped
            self.parts.append(self.rawdata)  # (what the parser kept back, waiting for the end)
            self.dropped = None
        return "".join(self.parts)


def strip_markup(value: str) -> str:
    """`value` without terminal escape codes and HTML tags (see the module docstring)."""
    if "[" in value or "\x1b" in value or "\x9b" in value:
        value = _ANSI.sub("", value)
    if "<" in value:
        if "\\" in value:
            value = _ESCAPED_ANGLE.sub(r"\1", value)
        if _MAYBE_TAG.search(value):
            stripper = _TagStripper()
            stripper.feed(value)
            value = stripper.text()
    return value


def clean_text(value: str) -> str:
    """One readable line: entities decoded, mojibake repaired, tags and terminal codes gone,
    invisibles gone, spaces collapsed."""
    if (
        value.isprintable()  # no controls, line breaks, tabs, odd spaces or invisibles
        and "&" not in value
        and "<" not in value
        and "  " not in value
        and value[:1] != " "
        and value[-1:] != " "
        and (value.isascii() or not _MOJIBAKE.search(value))
        and ("[" not in value or not _ANSI.search(value))
    ):
        return value
    for _ in range(4):  # until nothing changes (removing a character can reveal an entity)
        cleaned = _unescape(value)
        if _MOJIBAKE.search(cleaned):
            cleaned = _MOJIBAKE.sub(_repair_match, cleaned)
        cleaned = strip_markup(cleaned)
        cleaned = _SPACES.sub(" ", _INVISIBLE.sub("", cleaned)).strip()
        if cleaned == value:
            break
        value = cleaned
    return value


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
