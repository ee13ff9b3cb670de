"""Request-body validation against Discord's OpenAPI description plus the docs-only limits."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:discord-openapi"

# Limits the docs state but the OpenAPI description does not (or states more loosely).
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_NONCE = 25
EMBED_LIMITS = {"title": 256, "description": 4096}
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_AUTHOR = 256

#: Operations whose body carries message content (docs limits apply).
MESSAGE_OPERATIONS = frozenset(
    {
        ("POST", "/channels/{channel_id}/messages"),
        ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
        ("POST", "/webhooks/{webhook_id}/{webhook_token}"),
        ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
        ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
    }
)
CALLBACK_OPERATION = ("POST", "/interactions/{interaction_id}/{interaction_token}/callback")


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem in a body: where (JSON path) and what, in Discord's terms."""

    path: tuple[str | int, ...]
    code: str
    message: str


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class SpecValidators:
    """Compiled request-body validators per (method, path template); built once per session."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        spec = _accept_integer_snowflakes(spec)
        self._spec = spec
        resource: Resource[Any] = Resource.from_contents(spec, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self._cache: dict[tuple[str, str, str], Draft202012Validator | None] = {}

    @classmethod
    def from_path(cls, path: Path) -> SpecValidators:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def has_operation(self, method: str, template: str) -> bool:
        item = self._spec.get("paths", {}).get(template)
        return isinstance(item, dict) and method.lower() in item

    def validator(
        self, method: str, template: str, content_type: str = "application/json"
    ) -> Draft202012Validator | None:
        """The validator for an operation's body, or None when the operation takes no body."""
        key = (method.upper(), template, content_type)
        if key in self._cache:
            return self._cache[key]
        op = self._spec.get("paths", {}).get(template, {}).get(method.lower())
        validator = None
        if isinstance(op, dict):
            content = op.get("requestBody", {}).get("content", {})
            if content_type in content:
                ref = f"{SPEC_URI}#/" + _pointer(
                    "paths", template, method.lower(), "requestBody", "content", content_type
                )
                validator = Draft202012Validator(
                    {"$ref": ref + "/schema"},
                    registry=self._registry,
                    format_checker=Draft202012Validator.FORMAT_CHECKER,
                )
        self._cache[key] = validator
        return validator

    def check(self, method: str, template: str, body: Any) -> list[FieldError]:
        """Every problem with `body` for this operation: schema errors, then docs limits."""
        validator = self.validator(method, template)
        errors: list[FieldError] = []
        if validator is not None:
            errors.extend(_schema_error(e) for e in validator.iter_errors(body))
        key = (method.upper(), template)
        if isinstance(body, dict):
            if key in MESSAGE_OPERATIONS:
                errors.extend(message_limits(body))
            elif (
                key == CALLBACK_OPERATION
                and isinstance(body.get("data"), dict)
                and body.get("type") in (4, 7)
            ):
                errors.extend(
                    FieldError(("data", *e.path), e.code, e.message)
                    for e in message_limits(body["data"])
                )
        return errors


def _accept_integer_snowflakes(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Discord takes snowflakes as JSON integers too (discord.py sends attachment ids as 0, 1 ...);
    the spec only allows strings. A shallow copy with SnowflakeType widened; the rest is shared."""
    schemas = dict(spec.get("components", {}).get("schemas", {}))
    snowflake = schemas.get("SnowflakeType")
    if isinstance(snowflake, dict):
        schemas["SnowflakeType"] = {"anyOf": [snowflake, {"type": "integer", "minimum": 0}]}
    return {**spec, "components": {**spec.get("components", {}), "schemas": schemas}}


def _schema_error(error: ValidationError) -> FieldError:
    if error.context:
        deepest = best_match(error.context)
        if deepest is not None and len(deepest.absolute_path) > len(error.absolute_path):
            error = deepest
    code = {
        "maxLength": "BASE_TYPE_MAX_LENGTH",
        "minLength": "BASE_TYPE_MIN_LENGTH",
        "type": "BASE_TYPE_BAD_TYPE",
        "format": "URL_TYPE_INVALID_URL",
        "required": "BASE_TYPE_REQUIRED",
        "maxItems": "BASE_TYPE_MAX_LENGTH",
        "maximum": "NUMBER_TYPE_MAX",
        "minimum": "NUMBER_TYPE_MIN",
        "enum": "BASE_TYPE_CHOICES",
    }.get(str(error.validator), "BASE_TYPE_INVALID")
    return FieldError(tuple(error.absolute_path), code, error.message[:300])


def _too_long(path: tuple[str | int, ...], limit: int) -> FieldError:
    return FieldError(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def message_limits(body: Mapping[str, Any]) -> list[FieldError]:
    """Limits from Discord's docs: content 2000, 10 embeds, per-embed limits, 6000 in all."""
    errors: list[FieldError] = []
    content = body.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT:
        errors.append(_too_long(("content",), MAX_CONTENT))
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > MAX_NONCE:
        errors.append(_too_long(("nonce",), MAX_NONCE))
    embeds = body.get("embeds")
    if isinstance(embeds, list):
        if len(embeds) > MAX_EMBEDS:
            errors.append(_too_long(("embeds",), MAX_EMBEDS))
        total = 0
        for i, embed in enumerate(embeds):
            if isinstance(embed, dict):
                embed_errors, size = _embed_limits(embed, ("embeds", i))
                errors.extend(embed_errors)
                total += size
        if total > MAX_EMBED_TOTAL:
            errors.append(
                FieldError(
                    ("embeds",),
                    "MAX_EMBED_SIZE_EXCEEDED",
                    f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}",
                )
            )
    return errors


def _embed_limits(
    embed: Mapping[str, Any], at: tuple[str | int, ...]
) -> tuple[list[FieldError], int]:
    errors: list[FieldError] = []
    size = 0
    for key, limit in EMBED_LIMITS.items():
        text = _text(embed.get(key))
        size += len(text)
        if len(text) > limit:
            errors.append(_too_long((*at, key), limit))
    fields = embed.get("fields")
    if isinstance(fields, list):
        if len(fields) > MAX_FIELDS:
            errors.append(_too_long((*at, "fields"), MAX_FIELDS))
        for j, item in enumerate(fields):
            if not isinstance(item, dict):
                continue
            name, value = _text(item.get("name")), _text(item.get("value"))
            size += len(name) + len(value)
            if len(name) > MAX_FIELD_NAME:
                errors.append(_too_long((*at, "fields", j, "name"), MAX_FIELD_NAME))
            if len(value) > MAX_FIELD_VALUE:
                errors.append(_too_long((*at, "fields", j, "value"), MAX_FIELD_VALUE))
    for key, sub, limit in (("footer", "text", MAX_FOOTER), ("author", "name", MAX_AUTHOR)):
        part = embed.get(key)
        if isinstance(part, dict):
            text = _text(part.get(sub))
            size += len(text)
            if len(text) > limit:
                errors.append(_too_long((*at, key, sub), limit))
    return errors, size


def error_body(errors: Iterable[FieldError]) -> dict[str, Any]:
    """Discord's 400 body: code 50035 with a nested `errors` object."""
    tree: dict[str, Any] = {}
    for err in errors:
        node = tree
        for part in err.path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": err.code, "message": err.message})
    return {"message": "Invalid Form Body", "code": 50035, "errors": tree}
