"""Helpers for the bot's tests: articles in a real SQLite store, and a Discord-like channel recorder.

`RecordingClient` is a small real fake of what delivery needs from discord.py (a partial
messageable that posts); it de-duplicates by nonce like Discord does with `enforce_nonce`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import discord

from bot.core.models import Article, Provider
from bot.store.db import Store

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def make_article(n: int, *, topic: str = "AI", published: datetime | None = None) -> Article:
    return Article(
        id=f"art{n:04d}",
        title=f"Distinct headline {n} about {topic} number {n * 7919}",
        excerpt=f"Excerpt {n}",
        url=f"https://news{n}.example.com/story/{n}",
        published=published or (T0 - timedelta(hours=1 + n % 20)),
        kind="article",
        provider=Provider(f"Outlet {n}", f"news{n}.example.com"),
        topics=(topic,),
        quality=60 + n % 50,
        heat=100 + n,
    )


def put_articles(store: Store, articles: list[Article]) -> None:
    with store.transaction():
        for item in articles:
            store.put_article(item, source_path=f"/x/{item.id}.md", source_digest=item.title)


def http_error(
    status: int, code: int, message: str = "error", headers: dict[str, str] | None = None
) -> discord.HTTPException:
    response = SimpleNamespace(status=status, reason=message, headers=headers or {})
    kinds: dict[int, type[discord.HTTPException]] = {
        403: discord.Forbidden,
        404: discord.NotFound,
    }
    kind = kinds.get(status, discord.DiscordServerError if status >= 500 else discord.HTTPException)
    return kind(response, {"code": code, "message": message})


@dataclass
class Posted:
    channel_id: int
    message_id: int
    nonce: str | int | None
    kwargs: dict[str, Any]


@dataclass
class RecordingClient:
    """Posts land in `posted`; a nonce seen before returns the first message (no new post)."""

    posted: list[Posted] = field(default_factory=list)
    refuse: dict[int, discord.HTTPException] = field(default_factory=dict)
    transient: list[Exception] = field(default_factory=list)  # raised once each, in order
    fail_after_post: set[int] = field(
        default_factory=set
    )  # message numbers that "crash" after posting
    hold: asyncio.Event | None = None  # when set to an unset event, posts wait for it (a hang)
    waiting: int = 0  # posts currently held
    lose_answers: int = 0  # the next posts are accepted, then their answer never comes
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _calls: int = 0

    def get_partial_messageable(self, channel_id: int, **_: Any) -> RecordingChannel:
        return RecordingChannel(self, channel_id)

    def get_guild(self, guild_id: int) -> None:
        return None

    def in_channel(self, channel_id: int) -> list[Posted]:
        return [p for p in self.posted if p.channel_id == channel_id]


@dataclass
class RecordingChannel:
    client: RecordingClient
    id: int

    async def send(self, *, nonce: str | int | None = None, **kwargs: Any) -> Any:
        if self.client.hold is not None and not self.client.hold.is_set():
            self.client.waiting += 1
            try:
                await self.client.hold.wait()
            finally:
                self.client.waiting -= 1
        if self.id in self.client.refuse:
            raise self.client.refuse[self.id]
        if self.client.transient:
            raise self.client.transient.pop(0)
        for earlier in self.client.posted:
            if nonce is not None and earlier.nonce == nonce and earlier.channel_id == self.id:
                return SimpleNamespace(id=earlier.message_id)
        self.client._calls += 1
        posted = Posted(self.id, next(self.client._ids), nonce, kwargs)
        self.client.posted.append(posted)
        if self.client._calls in self.client.fail_after_post:
            raise ConnectionResetError("killed right after Discord accepted the message")
        if self.client.lose_answers > 0:
            self.client.lose_answers -= 1
            await asyncio.Event().wait()  # posted, but no answer: only a timeout ends this
        return SimpleNamespace(id=posted.message_id)
