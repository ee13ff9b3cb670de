"""One way to send a message body: formatting's JSON dict as discord.py keyword arguments.

Used by delivery (scheduled digests) and by the cogs (replies, pages, edits), so every message
pings nobody and honours the silent flag the same way.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.discord.formatting import SUPPRESS_NOTIFICATIONS


def payload_kwargs(payload: dict[str, Any]) -> dict[str, Any]:
    """`content`, `embeds` (both given, so an edit replaces them), `allowed_mentions` that ping
    nobody, and `silent` when the payload carries the SUPPRESS_NOTIFICATIONS flag (only sends
    take it; no page or reply is silent)."""
    kwargs: dict[str, Any] = {
        "content": payload.get("content") or None,
        "embeds": [discord.Embed.from_dict(embed) for embed in payload.get("embeds") or []],
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if int(payload.get("flags") or 0) & SUPPRESS_NOTIFICATIONS:
        kwargs["silent"] = True
    return kwargs
