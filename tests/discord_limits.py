"""Check a message body the way Discord would: its OpenAPI schema plus the docs-only limits.

`validate_message_body(body, spec)` returns a list of problems (empty = Discord would accept
it). The schema part validates against the request body of POST /channels/{channel_id}/messages
in Discord's OpenAPI 3.1 description (JSON Schema 2020-12, $refs resolved, format checking on,
so `format: uri` and `date-time` are enforced). The spec is looser than the docs in places, so
the documented limits are checked too. Use the session fixture `discord_spec` (tests/conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:discord:openapi"
MESSAGE_PATH = "/channels/{channel_id}/messages"

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
NONCE_MAX = 25
FIELDS_MAX = 25
URL_MAX = 2048
EMBED_TEXT_LIMITS = {"title": 256, "description": 4096}
URL_KEYS: tuple[tuple[str, ...], ...] = (
    ("url",),
    ("image", "url"),
    ("thumbnail", "url"),
    ("author", "url"),
    ("author", "icon_url"),
    ("footer", "icon_url"),
    ("video", "url"),
)


@cache
def load_spec(path: Path) -> dict[str, Any]:
    """Discord's OpenAPI document (parsed once per path)."""
    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return spec


def message_schema_ref(spec: Mapping[str, Any]) -> str:
    """The JSON pointer of the JSON request body schema of POST /channels/{channel_id}/messages."""
    body = spec["paths"][MESSAGE_PATH]["post"]["requestBody"]["content"]["application/json"]
    ref: str = body["schema"]["$ref"]
    return ref


_validators: dict[int, tuple[Mapping[str, Any], Draft202012Validator]] = {}


def _validator(spec: Mapping[str, Any]) -> Draft202012Validator:
    cached = _validators.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    registry: Registry[Any] = Registry().with_resource(
        SPEC_URI, Resource.from_contents(dict(spec), default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        {"$ref": SPEC_URI + message_schema_ref(spec)},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    _validators[id(spec)] = (spec, validator)
    return validator


def embed_length(embed: Mapping[str, Any]) -> int:
    """Characters Discord counts against the 6,000 per message (independent of bot code)."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += sum(
        len(f.get("name") or "") + len(f.get("value") or "") for f in embed.get("fields") or ()
    )
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def _docs_limits(body: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_MAX:
        problems.append(f"content: {len(content)} characters > {CONTENT_MAX}")
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > NONCE_MAX:
        problems.append(f"nonce: {len(nonce)} characters > {NONCE_MAX}")
    embeds = body.get("embeds") or []
    if not content and not embeds and not body.get("sticker_ids") and not body.get("components"):
        problems.append("message: empty (no content, embeds, stickers or components)")
    if len(embeds) > EMBEDS_MAX:
        problems.append(f"embeds: {len(embeds)} > {EMBEDS_MAX}")
    total = 0
    for n, embed in enumerate(embeds):
        where = f"embeds[{n}]"
        total += embed_length(embed)
        for key, limit in EMBED_TEXT_LIMITS.items():
            if len(embed.get(key) or "") > limit:
                problems.append(f"{where}.{key}: longer than {limit}")
        fields = embed.get("fields") or []
        if len(fields) > FIELDS_MAX:
            problems.append(f"{where}.fields: {len(fields)} > {FIELDS_MAX}")
        for m, field in enumerate(fields):
            name, value = field.get("name") or "", field.get("value") or ""
            if not 1 <= len(name) <= 256:
                problems.append(f"{where}.fields[{m}].name: length {len(name)} not in 1..256")
            if not 1 <= len(value) <= 1024:
                problems.append(f"{where}.fields[{m}].value: length {len(value)} not in 1..1024")
        if len((embed.get("footer") or {}).get("text") or "") > 2048:
            problems.append(f"{where}.footer.text: longer than 2048")
        if len((embed.get("author") or {}).get("name") or "") > 256:
            problems.append(f"{where}.author.name: longer than 256")
        for path in URL_KEYS:
            found: Any = embed
            for key in path:
                found = found.get(key) if isinstance(found, Mapping) else None
            if found is None:
                continue
            parts = urlsplit(found)
            if parts.scheme not in ("http", "https") or not parts.netloc or len(found) > URL_MAX:
                problems.append(f"{where}.{'.'.join(path)}: not an http(s) URL <= {URL_MAX}")
            if any(ch.isspace() or ord(ch) > 126 for ch in found):
                problems.append(f"{where}.{'.'.join(path)}: spaces or non-ASCII not encoded")
    if total > EMBED_TOTAL_MAX:
        problems.append(f"embeds: {total} characters in total > {EMBED_TOTAL_MAX}")
    return problems


def validate_message_body(body: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    """Every reason Discord would refuse `body` (schema errors first); empty when it is fine."""
    schema = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(body)'}: {error.message}"
        for error in _validator(spec).iter_errors(body)
    ]
    return schema + _docs_limits(body)
