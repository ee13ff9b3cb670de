"""Parse one Smartable article file into a clean `Article`, or a `Rejection` saying why not.

Nothing here raises on bad input. The fast path cuts the long `related` block out of the front
matter (kept as raw text, counted, parsed later by `parse_related`) and reads the small rest with
`fastyaml`; anything unusual goes through libyaml's safe loader instead, after refusing aliases.

What the fast path checks in the related block without parsing it: where it ends, its item lines,
tabs and carriage returns, and unquoted outlet names YAML would refuse (`name: DM: Diablo
Immortal`). Other damage inside that block (broken indentation, text after a closing quote) is
not seen at ingest: the article is kept and `parse_related` gives () for it.

The kept block leaves out what nothing reads and that makes most of its bytes: the other outlets'
excerpts and AMP links (DROPPED_RELATED_KEYS). On the fast path a line is left out only when it
is one such key of an item with a whole double-quoted value on that line, and only when no
single-quoted scalar (the one kind that could hold such a line inside a longer value: plain
ones cannot hold `: `, double-quoted ones would end at its quote, block scalars would need a
deeper indent) can start in the block; anything else is kept as it is. Coverage read from the
kept block is the same.
"""

from __future__ import annotations

import hashlib
import html
import math
import os
import re
import stat
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from bot.core.models import QUALITY_MAX, Article, ArticleKind, Image, Provider
from bot.core.urls import clean_url
from bot.ingest.bounds import (
    HEAT_MAX,
    PIXELS_MAX,
    PUBLISHED_MAX,
    PUBLISHED_MIN,
    as_text,
    in_scale,
    is_number,
    published_in_range,
    shown,
    whole,
)
from bot.ingest.clean import as_utc, clean_text
from bot.ingest.fastyaml import (
    fast_load,
    front_matter_span,
    quick_front_matter_span,
    split_front_matter,
)
from bot.ingest.identity import article_id, canonical_url, video_page_url

DEFAULT_MAX_BYTES = 1_048_576
NEWS_CATEGORIES = frozenset(("news",))
PLACEHOLDER_IMAGES = ("/img/desktop/supported_browsers/dinosaur.png",)
_NO_TOPICS = frozenset(("", "none", "null"))
_IFRAME_SRC = re.compile(r"""<iframe\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""", re.I)

# Keys of `related` items that nothing reads (coverage is title, links, outlet, date, quality),
# left out of the kept block: other outlets' excerpts are most of a block's bytes.
DROPPED_RELATED_KEYS = ("excerpt", "ampWebUrl", "cdnAmpWebUrl")

# A `name:` line of a `related` block whose plain (unquoted) value YAML would refuse or read
# otherwise: with `: `, ` #` or a trailing `:` inside, or starting with an indicator, like the
# provider `DM: Diablo Immortal` seen in real folders. Outlet names are the only free text left
# unquoted by Smartable; checking only them keeps this scan as cheap as counting lines.
_BAD_PLAIN_LINE = (
    r""" *+(?:- +)?+name: (?!["0-9]|-[0-9])"""
    r"""(?:[^\n]*?(?:: | #|:(?:\n|$))|[\s'|>&*!\[\]{}#%@`,?:-])"""
)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A file that gave no article, and why, in words a person understands."""

    path: str
    error: str


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """A file that gave an article. `digest` is a hash of the file's bytes (change detection)."""

    path: str
    article: Article
    removed: bool
    digest: str


class _Reject(Exception):
    """Internal: carries a rejection reason up to parse_bytes."""


def load_front_matter(text: str) -> dict[str, Any]:
    """The raw metadata of a file's text, equal to `frontmatter.loads(text).metadata`.

    Raises yaml.YAMLError on invalid YAML, as python-frontmatter does.
    """
    fm = split_front_matter(text)
    if fm is None:  # not YAML front matter: let python-frontmatter decide (JSON, nothing…)
        return dict(frontmatter.loads(text).metadata)
    data = fast_load(fm)
    if data is None:
        data = yaml.load(fm, Loader=yaml.CSafeLoader)
    return data if isinstance(data, dict) else {}


@lru_cache(maxsize=16)
def _related_scanner(indent: int) -> re.Pattern[str]:
    """One pass over the line starts of a related block, matching the first line after the
    block (no group), an item (`item`), an item's line to leave out (`drop`) or a line with a
    plain value YAML would refuse (`bad`)."""
    item = "-(?=[ \n])" if indent == 0 else " " * indent + "-"
    end = "(?=[^ \n-]|-[^ \n])" if indent == 0 else "(?=[^ \n])"
    keys = "|".join(DROPPED_RELATED_KEYS)
    # a whole double-quoted value: it ends with the line, on a quote that is not escaped
    drop = " " * (indent + 2) + rf'(?:{keys}): "[^\n]*(?<!\\)" *+(?=\n|\Z)'
    return re.compile(
        rf"\n(?:{end}|(?P<item>{item})|(?P<drop>{drop})|(?={_BAD_PLAIN_LINE})(?P<bad>))"
    )


def _may_open_single_quoted(text: str, start: int, end: int) -> bool:
    """Whether a `'` in text[start:end] could start a single-quoted scalar: one at the start of
    a line, or after `: `, `- `, `? `, a flow indicator or a tag or anchor (with spaces between
    or not). An apostrophe inside a word, or after a word inside a double-quoted value, cannot.
    """
    find = text.find
    position = find("'", start, end)
    while position >= 0:
        before = position - 1
        while text[before] == " ":
            before -= 1
        if text[before] in ":-?\n[{,":
            return True
        if before < position - 1:  # after spaces: a tag or anchor (`!!str '`, `&a '`)?
            token = text.rfind(" ", start, before) + 1
            if text[max(token, text.rfind("\n", start, before) + 1)] in "!&":
                return True
        position = find("'", position + 1, end)
    return False


def _split_related(
    text: str, start: int, end: int, *, controls: bool = True, quotes: bool = True
) -> tuple[str, str, int] | None:
    """(front matter without its related block, the block as kept, its item count); None if
    irregular.

    Works on `text[start:end]` (the front matter) without copying it. Without a top-level
    block-style `related:` key the block is "" and the count 0. `controls` / `quotes`: whether
    the text may hold tabs or carriage returns / single quotes at all (False skips a search).
    """
    rel = text.find("\nrelated:", start - 1, end)
    if rel < 0:
        return text[start:end], "", 0
    rel += 1
    eol = text.find("\n", rel, end)
    if eol < 0 or text[rel + 8 : eol].strip(" "):
        return None  # `related:` on the last line, or an inline value: leave it to YAML
    first = eol + 1
    while first < end and text[first] in " \n":  # first non-blank line of the block
        first += 1
    indent = first - text.rfind("\n", 0, first) - 1
    is_item = text[first : first + 2] in ("- ", "-\n")
    if first >= end or (indent == 0 and not is_item):
        return text[start:end], "", 0  # `related:` with no value: YAML reads it as null
    if not is_item:
        return None
    count = 0
    block_end = end
    drops: list[tuple[int, int]] = []
    for match in _related_scanner(indent).finditer(text, eol, end):
        kind = match.lastgroup
        if kind == "item":
            count += 1
        elif kind == "drop":
            drops.append(match.span())
        elif kind == "bad":
            return None  # a plain value YAML would refuse or read otherwise
        else:
            block_end = match.start() + 1
            break
    if controls and (text.find("\t", rel, block_end) >= 0 or text.find("\r", rel, block_end) >= 0):
        return None
    if drops and not (quotes and _may_open_single_quoted(text, rel, block_end)):
        kept = [text[rel : drops[0][0]]]
        kept += [text[done:after] for (_, done), (after, _) in pairwise(drops)]
        kept.append(text[drops[-1][1] : block_end])
        block = "".join(kept)
    else:
        block = text[rel:block_end]
    if not block.endswith("\n"):
        block += "\n"
    return text[start:rel] + text[block_end:end], block, count


def _reject_aliases(fm: str) -> None:
    """Refuse anchors/aliases (YAML bombs); Smartable never uses them."""
    for event in yaml.parse(fm, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            line = event.start_mark.line + 1 if event.start_mark else "?"
            raise _Reject(f"YAML anchors and aliases are not allowed (front matter line {line})")


def _yaml_error(error: yaml.YAMLError, line_offset: int) -> str:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if "nesting depth" in str(problem):
        where = f" (line {mark.line + line_offset})" if mark is not None else ""
        return f"front matter is nested too deeply{where}"
    if mark is not None:
        return (
            f"invalid YAML at line {mark.line + line_offset}, column {mark.column + 1}: {problem}"
        )
    return f"invalid YAML: {problem}"


def _unreadable_value(fm: str, error: ValueError) -> str:
    """Why the safe loader could not build a value (it raised ValueError), naming the field."""
    if "digits" in str(error):
        problem = "is out of range: a number of more than 4,300 digits"
    else:
        problem = f"cannot be read: {str(error).splitlines()[0]}"
    try:
        root = yaml.compose(fm, Loader=yaml.CSafeLoader)
        field = None if root is None else _field_of_bad_value(root, "")
    except (yaml.YAMLError, RecursionError):
        field = None
    return f"{field or 'a value'} {problem}"


def _field_of_bad_value(node: yaml.Node, path: str) -> str | None:
    """The path (`images[0].width`) of the first scalar the safe loader cannot construct."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found = _field_of_bad_value(value, f"{path}.{key.value}" if path else str(key.value))
            if found is not None:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            found = _field_of_bad_value(item, f"{path}[{position}]")
            if found is not None:
                return found
    else:
        try:
            yaml.SafeLoader("").construct_object(node)
        except ValueError:
            return path or "the front matter"
    return None


def _load_meta(
    text: str, *, controls: bool = True, quotes: bool = True
) -> tuple[dict[str, Any], str, int]:
    """(metadata without the related block, related block as kept, related count);
    `controls` and `quotes` as for `_split_related`."""
    quick = quick_front_matter_span(text)
    split = _split_related(*quick, controls=controls, quotes=quotes) if quick is not None else None
    if split is not None:
        head_text, block, count = split
        head = fast_load(head_text)
        if isinstance(head, dict) and (
            "related" not in head or (not block and head.pop("related") is None)
        ):
            return head, block, count
    span = front_matter_span(text)  # the exact cut, as python-frontmatter makes it
    if span is None:
        if text.lstrip().startswith("---"):
            raise _Reject("front matter is not closed: no second '---' line")
        raise _Reject("no front matter: the file must start with a '---' line")
    text, start, end = span
    fm = text[start:end]
    line_offset = 1  # YAML error lines count from the first `---` line
    if not text.startswith("-"):
        line_offset += text[: len(text) - len(text.lstrip())].count("\n")
    try:
        _reject_aliases(fm)
        data = yaml.load(fm, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as error:
        raise _Reject(_yaml_error(error, line_offset)) from None
    except RecursionError:
        raise _Reject("front matter is nested too deeply") from None
    except ValueError as error:  # a date like 2026-13-45, an int of over 4,300 digits
        raise _Reject(_unreadable_value(fm, error)) from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}, not a mapping"
        raise _Reject(f"front matter is {kind}")
    related = data.pop("related", None)
    if isinstance(related, list) and related:
        related = [_without_dropped_keys(item) for item in related]
        try:
            block = yaml.dump(
                {"related": related}, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False
            )
        except ValueError:  # an int Python will not write (over 4,300 digits): no coverage
            block = ""
        return data, block, len(related)
    return data, "", 0


def _without_dropped_keys(item: object) -> object:
    if isinstance(item, dict) and not item.keys().isdisjoint(DROPPED_RELATED_KEYS):
        return {key: value for key, value in item.items() if key not in DROPPED_RELATED_KEYS}
    return item


def _text(meta: dict[str, Any], key: str, label: str | None = None) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    text = as_text(value)
    if text is None:
        raise _Reject(f"{label or key} must be text, got {_describe(value)}")
    return clean_text(text)


def _describe(value: object) -> str:
    if is_number(value):
        number = shown(value)
        return number if number.startswith("a ") else f"the number {number}"
    names = {list: "a list", dict: "a mapping", str: "text", bool: "true/false"}
    return names.get(type(value), type(value).__name__)


def _in_scale(meta: dict[str, Any], key: str, maximum: int) -> int | None:
    """A whole number in 0..maximum; None when missing or -1 (unknown upstream); anything
    else (out of range, fractional, infinite, NaN, text) rejects the file."""
    try:
        return in_scale(meta.get(key), maximum)
    except ValueError as error:
        raise _Reject(f"{key} {error}") from None


def _flag(meta: dict[str, Any], key: str) -> bool:
    value = meta.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _Reject(f"{key} must be true or false, got {_describe(value)}")
    return value


def _pixels(item: dict[str, Any], key: str, position: int) -> int | None:
    """An image side: a positive whole number of pixels, else None (unknown); a number no real
    image has (over PIXELS_MAX, infinite, NaN) rejects the file."""
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > PIXELS_MAX:
        raise _Reject(
            f"images[{position}].{key} is out of range: {shown(value)} "
            f"(expected 1 to {PIXELS_MAX:,} pixels)"
        )
    number = whole(value)
    return number if number is not None and number > 0 else None


def _images(value: object) -> tuple[Image, ...]:
    if not isinstance(value, list):
        return ()
    images: list[Image] = []
    seen: set[str] = set()
    for position, item in enumerate(value):
        if not isinstance(item, dict):
            continue
        url = clean_url(item.get("url"))
        if url is None or url in seen or any(p in url for p in PLACEHOLDER_IMAGES):
            continue
        seen.add(url)
        width, height = _pixels(item, "width", position), _pixels(item, "height", position)
        images.append(Image(url=url, width=width, height=height))
    return tuple(images)


def _provider(value: object) -> Provider:
    if not isinstance(value, dict):
        raise _Reject(f"provider must be a mapping with name and domain, got {_describe(value)}")
    domain = _text(value, "domain", "provider.domain")
    name = _text(value, "name", "provider.name")
    if not domain and not name:
        raise _Reject("provider has neither a name nor a domain")
    domain = (domain or "").lower()
    icon = None
    icons = value.get("images")
    if isinstance(icons, list):  # the outlet's logo: its first usable image
        for item in icons:
            url = clean_url(item.get("url")) if isinstance(item, dict) else None
            if url is not None and not any(p in url for p in PLACEHOLDER_IMAGES):
                icon = url
                break
    return Provider(name=name or domain, domain=domain, icon_url=icon)


def _topics(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _Reject(f"topics must be a list, got {_describe(value)}")
    topics: list[str] = []
    for item in value:
        text = as_text(item)
        if text is None:
            continue
        topic = clean_text(text)
        if topic.casefold() not in _NO_TOPICS and topic not in topics:
            topics.append(topic)
    return tuple(topics)


def _video_url(meta: dict[str, Any], page: str | None) -> str | None:
    """The video's link, one for the embed and the text: the article's own link when it is
    the embedded video (a YouTube embed and its watch page are one video), else the embedded
    player's page (a YouTube embed's watch page), else the article's link."""
    content = meta.get("featuredContent")
    if isinstance(content, str):
        match = _IFRAME_SRC.search(content)
        if match:
            src = html.unescape(match.group(1))
            embed = clean_url("https:" + src if src.startswith("//") else src)
            if embed:
                if page is not None and canonical_url(page) == canonical_url(embed):
                    return page
                return video_page_url(embed)
    return page


def _label(value: object) -> str:
    """A category or type as a reason names it."""
    text = as_text(value)
    return clean_text(text)[:40] if text is not None else shown(value)


def _published(value: object) -> datetime:
    published = as_utc(value)
    if published is not None and published_in_range(published):
        return published
    if published is not None or isinstance(value, date):  # (date: also datetime)
        start, end = PUBLISHED_MIN.year, PUBLISHED_MAX.year - 1
        shown_value = published.isoformat() if published is not None else str(value)
        raise _Reject(
            f"publishedDateTime is out of range: {shown_value} (expected {start} to {end})"
        )
    text = as_text(value)
    label = repr(clean_text(text)[:40]) if text is not None else shown(value)
    raise _Reject(f"publishedDateTime is not a date and time: {label}")


def _article(meta: dict[str, Any], related_yaml: str, related_count: int) -> Article:
    category = meta.get("category")
    if category is not None and (as_text(category) or "").strip().lower() not in NEWS_CATEGORIES:
        raise _Reject(f"not a news item (category: {_label(category)})")
    missing = [k for k in ("title", "publishedDateTime", "provider") if meta.get(k) in (None, "")]
    if missing:
        raise _Reject(f"not a news item: missing {', '.join(missing)}")
    kind_value = meta.get("type")
    kind_name = "article" if kind_value is None else (as_text(kind_value) or "").strip().lower()
    kind: ArticleKind
    if kind_name == "article":
        kind = "article"
    elif kind_name == "video":
        kind = "video"
    else:
        raise _Reject(f"not a news item (type: {_label(kind_value)})")
    title = _text(meta, "title")
    if not title:
        raise _Reject("title is empty")
    published = _published(meta["publishedDateTime"])
    provider = _provider(meta["provider"])
    web_url = clean_url(meta.get("webUrl"))  # anything but a usable http(s) URL is None
    original_url = clean_url(meta.get("originalUrl"))
    url = web_url or original_url
    video_url = _video_url(meta, url) if kind == "video" else None
    url = url or video_url  # a video without a link of its own: its page
    return Article(
        id=article_id(url, domain=provider.domain, title=title),
        title=title,
        excerpt=_text(meta, "excerpt") or "",
        url=url or "",
        published=published,
        kind=kind,
        provider=provider,
        topics=_topics(meta.get("topics")),
        quality=_in_scale(meta, "quality", QUALITY_MAX),
        heat=_in_scale(meta, "heat", HEAT_MAX),
        trending=_flag(meta, "published"),
        images=_images(meta.get("images")),
        original_url=original_url,
        video_url=video_url,
        related_count=related_count,
        related_yaml=related_yaml,
    )


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start : error.start + 1].hex()
        reason = f"not UTF-8 text: invalid byte 0x{bad} at byte {error.start} (line {line})"
        raise _Reject(reason) from None


def _parse(data: bytes, path: str, max_bytes: int) -> ParsedFile:
    if len(data) > max_bytes:
        raise _Reject(f"file too large: {len(data):,} bytes (limit {max_bytes:,})")
    if not data or data.isspace():
        raise _Reject("empty file")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _Reject(f"binary file, not text (NUL byte at byte {nul})")
    # byte searches are cheap: they let the related-block scan skip its own searches
    controls = b"\t" in data or b"\r" in data
    meta, related_yaml, related_count = _load_meta(
        _decode(data), controls=controls, quotes=b"'" in data
    )
    article = _article(meta, related_yaml, related_count)
    return ParsedFile(
        path=path,
        article=article,
        removed=meta.get("removed") is True,
        digest=hashlib.sha256(data).hexdigest(),
    )


def parse_bytes(
    data: bytes, path: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> ParsedFile | Rejection:
    """Parse a file's bytes; `path` only labels the result. Never raises."""
    try:
        return _parse(data, path, max_bytes)
    except _Reject as reason:
        return Rejection(path, str(reason))
    except RecursionError:
        return Rejection(path, "front matter is nested too deeply")
    except MemoryError:
        return Rejection(path, "file needs too much memory to parse")
    except Exception as error:  # a parser bug must not stop an ingest run
        return Rejection(path, f"could not parse: {type(error).__name__}: {error}")


def parse_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedFile | Rejection:
    """Read and parse one article file; the size is checked before reading. Never raises."""
    label = os.fspath(path)
    try:
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(label, flags)  # non-blocking: a FIFO must not hang the ingest
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return Rejection(label, "not a regular file")
            if info.st_size > max_bytes:
                size = info.st_size
                return Rejection(label, f"file too large: {size:,} bytes (limit {max_bytes:,})")
            data = os.read(fd, info.st_size + 1)  # +1 notices a file that grew since fstat
            if len(data) != info.st_size:  # a short read, or the file is being rewritten
                while len(data) <= max_bytes and (more := os.read(fd, 65536)):
                    data += more
        finally:
            os.close(fd)
    except OSError as error:
        return Rejection(label, f"cannot read file: {error.strerror or error}")
    return parse_bytes(data, label, max_bytes=max_bytes)
