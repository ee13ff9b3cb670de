"""A strict, fast recogniser for the regular YAML shapes of Smartable front matter.

`fast_load(text)` returns exactly what `yaml.load(text, yaml.CSafeLoader)` would, or None when the
text holds anything outside the small subset it recognises (then the caller uses libyaml):
block mappings and sequences with consistent indentation, plain keys, double-quoted scalars on one
line whose escapes JSON understands, single-quoted one-line scalars, and plain scalars that are
strings, decimal ints, true/false/null or the `YYYY-MM-DDTHH:MM:SSZ` timestamp. Anchors, aliases,
tags, flow collections, block scalars, multi-line scalars, comments, tabs, duplicate keys,
directives: all None. Plain scalars are resolved with PyYAML's own implicit resolver table.

`split_front_matter(text)` cuts the front matter out of a file exactly as python-frontmatter does.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from yaml.resolver import Resolver

# python-frontmatter's YAML boundary (YAMLHandler.FM_BOUNDARY).
FM_BOUNDARY = re.compile(r"^-{3,}\s*$", re.MULTILINE)

# Characters libyaml refuses, line breaks other than \n, tabs and BOMs: leave those to libyaml.
_UNUSUAL_CHARS = re.compile(
    "[^\n\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: +|$)")
_DOUBLE_QUOTED = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)" *$')
_SINGLE_QUOTED = re.compile(r"'([^']*(?:''[^']*)*)' *$")
_JSON_ESCAPES = re.compile(r'\\(?:["\\/bfnrt]|u(?![dD][89a-fA-F])[0-9a-fA-F]{4})')
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_TIMESTAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")
_PLAIN_FIRST_BAD = frozenset("-?:,[]{}#&*!|>'\"%@`")
_STR_TAG = "tag:yaml.org,2002:str"
_BOOLS = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}


class _Unrecognised(Exception):
    """Internal: the text is outside the recognised subset."""


_FAIL: Any = object()  # sentinel result of _plain: not recognised


def front_matter_span(text: str) -> tuple[str, int, int] | None:
    """(text, start, end): where python-frontmatter finds the front matter block; None if none.

    Mirrors `frontmatter.loads`: `\\r\\n` becomes `\\n`, the text is stripped, it must start
    with a `---` line and the block ends at the next `---` line. The returned text is the
    normalised one (the same object when nothing needed changing, to avoid copies).
    """
    if "\r" in text and "\r\n" in text:
        text = text.replace("\r\n", "\n")
    if not text.startswith("-"):  # the trailing strip never changes the block: skip that copy
        text = text.strip()
    first = FM_BOUNDARY.match(text)
    if first is None:
        return None
    start = first.end()
    pos = start - 1
    while True:
        pos = text.find("\n---", pos)
        if pos < 0:
            return None
        second = FM_BOUNDARY.match(text, pos + 1)
        if second is not None and second.start() >= start:
            return text, start, second.start()
        pos += 1


def quick_front_matter_span(text: str) -> tuple[str, int, int] | None:
    """front_matter_span, but taking the *last* `---` line as the end, found from the end.

    Saves a scan of the whole text. It differs from the exact cut only when another `---` line
    comes first, and then that line lies inside the block: the strict parse refuses it and the
    caller falls back to front_matter_span.
    """
    if "\r" in text and "\r\n" in text:
        text = text.replace("\r\n", "\n")
    first = FM_BOUNDARY.match(text)
    if first is None:
        return None
    start = first.end()
    pos = text.rfind("\n---")
    second = FM_BOUNDARY.match(text, pos + 1) if pos >= start - 1 else None
    return None if second is None else (text, start, second.start())


def split_front_matter(text: str) -> str | None:
    """The front matter block of a file's text, as python-frontmatter cuts it; None if none."""
    span = front_matter_span(text)
    return None if span is None else span[0][span[1] : span[2]]


def _resolve_plain_tag(value: str) -> str:
    resolvers = Resolver.yaml_implicit_resolvers
    for tag, regexp in resolvers.get(value[0], ()):
        if regexp.match(value):
            return str(tag)
    for tag, regexp in resolvers.get(None, ()):
        if regexp.match(value):
            return str(tag)
    return _STR_TAG


@lru_cache(maxsize=16384)
def _plain(value: str) -> Any:
    """The value libyaml + SafeConstructor give a one-line plain scalar, or _FAIL."""
    if _INT.fullmatch(value):
        try:
            return int(value)
        except ValueError:  # over 4,300 digits: Python refuses, as libyaml's loader does
            return _FAIL
    if value[0] in _PLAIN_FIRST_BAD or ": " in value or " #" in value or value.endswith(":"):
        return _FAIL
    tag = _resolve_plain_tag(value)
    if tag == _STR_TAG:
        return value
    if tag == "tag:yaml.org,2002:bool":
        return _BOOLS[value]
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:timestamp":
        match = _TIMESTAMP.fullmatch(value)
        if match:
            try:
                year, month, day, hour, minute, second = map(int, match.groups())
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except ValueError:
                return _FAIL
    return _FAIL


def _scalar(value: str) -> Any:
    first = value[0]
    if first == '"':
        if value[-1] == '"' and value.count('"') == 2 and "\\" not in value:
            return value[1:-1]  # the common case: no escapes, nothing after the closing quote
        match = _DOUBLE_QUOTED.match(value)
        if match is None:
            raise _Unrecognised
        body = match.group(1)
        if "\\" not in body:
            return body
        if _JSON_ESCAPES.sub("", body).count("\\"):
            raise _Unrecognised
        return json.loads(f'"{body}"')
    if first == "'":
        match = _SINGLE_QUOTED.match(value)
        if match is None:
            raise _Unrecognised
        return match.group(1).replace("''", "'")
    result = _plain(value.rstrip(" "))
    if result is _FAIL:
        raise _Unrecognised
    return result


_LINE = re.compile(r"( *+)(- ++|-(?=\n))?+(?:([A-Za-z_][A-Za-z0-9_]*+):(?: ++|(?=\n)))?([^\n]*+)\n")


class _Parser:
    """Recursive descent over tokenised lines; raises _Unrecognised on anything unusual.

    Each line is (indent, dash, key, rest): `- ` marks a sequence entry, `key:` a mapping entry.
    """

    __slots__ = ("lines", "pos")

    def __init__(self, text: str) -> None:
        lines = [
            (len(indent), dash, key, rest)
            for indent, dash, key, rest in _LINE.findall(text if text[-1:] == "\n" else text + "\n")
            if dash or key or rest.strip(" ")  # blank lines carry nothing
        ]
        for line in lines:
            if not line[1] and not line[2]:
                raise _Unrecognised  # comment, continuation line, directive…
        lines.append((-1, "", "", ""))  # sentinel: end of input
        self.lines = lines
        self.pos = 0

    def block(self, indent: int) -> Any:
        if self.lines[self.pos][1]:
            return self.sequence(indent)
        return self.mapping(indent)

    def _nested(self, indent: int, allow_compact_sequence: bool) -> Any:
        """The value of `key:` / `-` with nothing after it: a deeper block, or null."""
        next_indent, dash, _, _ = self.lines[self.pos]
        if next_indent > indent:
            return self.block(next_indent)
        if allow_compact_sequence and next_indent == indent and dash:
            return self.sequence(indent)
        return None

    def mapping(self, indent: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        lines = self.lines
        line = lines[self.pos]
        while line[0] == indent:
            _, dash, key, rest = line
            if dash or not key or key in result or _plain(key) != key:
                raise _Unrecognised
            self.pos += 1
            if rest:
                result[key] = _scalar(rest)
                if lines[self.pos][0] > indent:
                    raise _Unrecognised
            else:
                result[key] = self._nested(indent, allow_compact_sequence=True)
            line = lines[self.pos]
        if line[0] > indent:
            raise _Unrecognised
        return result

    def sequence(self, indent: int) -> list[Any]:
        result: list[Any] = []
        lines = self.lines
        line = lines[self.pos]
        while line[0] == indent:
            _, dash, key, rest = line
            if not dash:
                break  # back to the enclosing mapping (compact sequence)
            if key:  # `- key: …` opens a mapping item
                item_indent = indent + len(dash)
                lines[self.pos] = (item_indent, "", key, rest)
                result.append(self.mapping(item_indent))
            else:
                self.pos += 1
                if not rest:
                    result.append(self._nested(indent, allow_compact_sequence=False))
                elif rest[0] == "-" and (len(rest) == 1 or rest[1] == " "):
                    raise _Unrecognised
                else:
                    result.append(_scalar(rest))
                    if lines[self.pos][0] > indent:
                        raise _Unrecognised
            line = lines[self.pos]
        if line[0] > indent:
            raise _Unrecognised
        return result


def fast_load(text: str) -> Any:
    """`yaml.load(text, CSafeLoader)` for regular Smartable YAML; None when unsure.

    A document that is empty (or holds only blank lines) also gives None: let libyaml decide.
    """
    if not text.replace("\n", " ").isprintable() and _UNUSUAL_CHARS.search(text):
        return None  # (printable text, the usual case, cannot hold an unusual character)
    try:
        parser = _Parser(text)
        if parser.lines[0][0] != 0:
            return None
        result = parser.block(0)
    except _Unrecognised:
        return None
    if parser.lines[parser.pos][0] != -1:
        return None
    return result
