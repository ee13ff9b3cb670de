"""Interaction handles: what the bot answered to one slash command, autocomplete or click."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Interaction callback types
PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

EPHEMERAL = 1 << 6
LOADING = 1 << 7


@dataclass(frozen=True, slots=True)
class InteractionEvent:
    """One thing the bot did with an interaction: kind is callback/followup/edit/delete."""

    kind: str
    body: Any
    at: float


@dataclass(frozen=True, slots=True)
class LateAck:
    """An interaction answered after the deadline (elapsed) or never answered (elapsed None)."""

    interaction_id: int
    name: str
    elapsed: float | None


@dataclass(eq=False)
class InteractionHandle:
    """Await the bot's responses to one interaction.

    `await handle.response()` is the callback body (`{"type": 4|5|6|7|8, "data": ...}`);
    `await handle.followup(n)` the n-th follow-up (1-based); `handle.messages` the visible
    messages (original then follow-ups, with edits applied).
    """

    id: int
    token: str
    name: str
    payload: dict[str, Any]
    guild_id: int
    channel_id: int
    user_id: int
    created: float = field(default_factory=time.monotonic)
    source_message: dict[str, Any] | None = None
    callback: dict[str, Any] | None = None
    acked_after: float | None = None
    original: dict[str, Any] | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)
    events: list[InteractionEvent] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, kind: str, body: Any) -> None:
        self.events.append(InteractionEvent(kind, body, time.monotonic()))
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(
        self, predicate: Callable[[InteractionHandle], bool], *, within: float = 5.0
    ) -> None:
        """Wait until `predicate(self)` holds; TimeoutError with what did happen otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate(self):
            remaining = deadline - loop.time()
            if remaining <= 0:
                kinds = [e.kind for e in self.events]
                msg = f"interaction {self.name!r}: condition not met in {within}s; got {kinds}"
                raise TimeoutError(msg)
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue

    async def response(self, *, within: float = 5.0) -> dict[str, Any]:
        """The interaction callback body, once the bot sent it."""
        await self.wait(lambda h: h.callback is not None, within=within)
        assert self.callback is not None
        return self.callback

    async def followup(self, n: int = 1, *, within: float = 5.0) -> dict[str, Any]:
        """The n-th follow-up message (1-based). After a defer, the first one fills the original."""
        await self.wait(lambda h: h._followup_count() >= n, within=within)
        return self._followup_messages()[n - 1]

    async def edited(self, *, within: float = 5.0) -> dict[str, Any]:
        """The original message after the bot's first edit of it."""
        await self.wait(lambda h: any(e.kind == "edit" for e in h.events), within=within)
        assert self.original is not None
        return self.original

    def _followup_messages(self) -> list[dict[str, Any]]:
        return [e.body for e in self.events if e.kind == "followup"]

    def _followup_count(self) -> int:
        return sum(1 for e in self.events if e.kind == "followup")

    @property
    def response_type(self) -> int | None:
        return None if self.callback is None else int(self.callback["type"])

    @property
    def deferred(self) -> bool:
        return self.response_type in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE)

    @property
    def ephemeral(self) -> bool:
        """Whether the original response is ephemeral (only the invoker sees it)."""
        return self.original is not None and bool(int(self.original.get("flags", 0)) & EPHEMERAL)

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices (type 8 callback), else []."""
        if self.callback is None or self.callback["type"] != AUTOCOMPLETE_RESULT:
            return []
        return list(self.callback.get("data", {}).get("choices", []))

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Visible messages: the original (if any, not still loading) and the follow-ups."""
        out: list[dict[str, Any]] = []
        if self.original is not None and not int(self.original.get("flags", 0)) & LOADING:
            out.append(self.original)
        out.extend(m for m in self.followups if m is not self.original)
        return out

    def text(self) -> str:
        """All visible text (content, embed titles, descriptions, fields, footers), joined."""
        parts: list[str] = []
        for message in self.messages:
            parts.append(str(message.get("content") or ""))
            for embed in message.get("embeds") or []:
                parts.extend(str(embed.get(k) or "") for k in ("title", "description"))
                for f in embed.get("fields") or []:
                    parts.extend((str(f.get("name", "")), str(f.get("value", ""))))
                parts.append(str((embed.get("footer") or {}).get("text", "")))
        return "\n".join(p for p in parts if p)
