"""`/news search|top|topics|help`: reading the news, for everyone.

Answers are ephemeral unless the member passes `share:true`. Slow work is deferred first; long
results are paginated with buttons only the member who asked can use.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.digest import build_pool, digest_window
from bot.core.models import DigestItem, GuildSettings
from bot.core.topics import topic_key
from bot.core.urls import canonical_url, safe_url
from bot.core.why import Retirement, explain
from bot.discord.cogs import CogContext, match_choices, resolve_topic, suggest
from bot.discord.cogs.paginator import Paginator
from bot.discord.errors import UserError
from bot.discord.formatting import (
    RESULTS_PER_PAGE,
    fit,
    search_page,
    text_embed,
    top_page,
    why_message,
)
from bot.discord.payloads import payload_kwargs
from bot.ingest.related import related_items
from bot.search.index import search_stories
from bot.store.db import Store
from bot.store.guilds import GuildDefaults, default_state

MAX_RESULTS = 50
WHY_NEIGHBOURHOOD = timedelta(days=3)
"""Articles this close to an out-of-window article are read to show its story."""
T = TypeVar("T")
TOPIC_CACHE_SECONDS = 60.0
HELP_TEXT = (
    "**/news search** `query` [`topic`] [`days`] — find articles\n"
    "**/news top** [`topic`] [`days`] — the best-ranked stories of the last days\n"
    "**/news topics** — topics with articles\n"
    "**/news why** `url` — why an article is, or is not, in the digest (server admins see "
    "this server's digest)\n"
    "Add `share:true` to post the answer for everyone in the channel.\n\n"
    "Server admins (Manage Server) set up a daily digest with **/digest channel**, "
    "**/digest topics add**, **/digest schedule** and check it with **/digest show**."
)


class TopicCache:
    """`store.topic_counts()` remembered for a minute (autocomplete runs on every keystroke)."""

    def __init__(self, context: CogContext) -> None:
        self.context = context
        self._counts: list[tuple[str, int]] = []
        self._at = -math.inf

    async def counts(self) -> list[tuple[str, int]]:
        if time.monotonic() - self._at > TOPIC_CACHE_SECONDS:
            self._counts = await self.context.store.topic_counts()
            self._at = time.monotonic()
        return self._counts

    async def names(self) -> list[str]:
        return [name for name, _ in await self.counts()]

    def forget(self) -> None:
        self._at = -math.inf

    async def resolve(self, value: str) -> str:
        """The known topic named `value` (any case), or a UserError with suggestions."""
        names = await self.names()
        found = resolve_topic(value, names)
        if found is None:
            self.forget()
            names = await self.names()
            found = resolve_topic(value, names)
        if found is not None:
            return found
        hints = suggest(value, names)
        hint = f" Did you mean {', '.join(f'`{h}`' for h in hints)}?" if hints else ""
        if not names:
            hint = " No articles are loaded yet."
        raise UserError(
            f"There is no topic called `{value.strip()[:100]}`.{hint} See /news topics."
        )

    async def autocomplete(self, current: str) -> list[app_commands.Choice[str]]:
        return match_choices(current, await self.names())


async def reply_paginated(
    interaction: discord.Interaction[Any],
    context: CogContext,
    items: Sequence[T],
    *,
    page_of: Callable[[Sequence[T], int, int], dict[str, Any]],
    empty: str,
    ephemeral: bool,
) -> None:
    """Answer a deferred command with `items`, RESULTS_PER_PAGE a page (`page_of(chunk, page,
    pages)` renders one), with buttons when there is more than one page; `empty` when none."""
    if not items:
        await interaction.followup.send(
            empty, ephemeral=ephemeral, allowed_mentions=discord.AllowedMentions.none()
        )
        return
    pages = math.ceil(len(items) / RESULTS_PER_PAGE)

    async def render(page: int) -> dict[str, Any]:
        chunk = items[(page - 1) * RESULTS_PER_PAGE : page * RESULTS_PER_PAGE]
        return page_of(chunk, page, pages)

    first = payload_kwargs(await render(1))
    if pages > 1:
        view = Paginator(
            owner=interaction.user, pages=pages, render=render, timeout=context.view_timeout
        )
        view.message = await interaction.followup.send(
            **first, view=view, ephemeral=ephemeral, wait=True
        )
    else:
        await interaction.followup.send(**first, ephemeral=ephemeral)


class NewsCog(commands.GroupCog, group_name="news", group_description="Read the news"):
    """Reader commands."""

    def __init__(self, context: CogContext) -> None:
        self.context = context
        self.topics = TopicCache(context)
        super().__init__()

    async def _topic_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.topics.autocomplete(current)

    @app_commands.command(name="search", description="Search the news")
    @app_commands.describe(
        query="words to look for",
        topic="only this topic",
        days="only articles of the last N days",
        share="post the answer for everyone in the channel",
    )
    async def search(
        self,
        interaction: discord.Interaction[Any],
        query: app_commands.Range[str, 1, 200],
        topic: str | None = None,
        days: app_commands.Range[int, 1, 365] | None = None,
        share: bool = False,
    ) -> None:
        index = self.context.index
        if index is None:
            raise UserError("Search is not available right now.")
        if not query.strip():
            raise UserError("Type a few words to search for.")
        wanted = await self.topics.resolve(topic) if topic else None
        await interaction.response.defer(ephemeral=not share, thinking=True)
        # on a reader: never behind the store's writes (an index sync, a re-ingest)
        hits = await self.context.store.read(
            lambda store: search_stories(
                index,
                store,
                query,
                now=self.context.clock(),
                topic=wanted,
                days=days,
                limit=MAX_RESULTS,
            )
        )
        where = f" in {wanted}" if wanted else ""
        total = len(hits) if len(hits) < MAX_RESULTS else None
        await reply_paginated(
            interaction,
            self.context,
            hits,
            page_of=lambda chunk, page, pages: search_page(
                chunk, query=query, page=page, pages=pages, total=total
            ),
            empty=f"No articles match `{discord.utils.escape_markdown(query[:100])}`{where}.",
            ephemeral=not share,
        )

    @search.autocomplete("topic")
    async def _search_topic(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._topic_choices(interaction, current)

    @app_commands.command(name="top", description="The best-ranked stories of the last days")
    @app_commands.describe(
        topic="only this topic",
        days="look back this many days (default 1)",
        share="post the answer for everyone in the channel",
    )
    async def top(
        self,
        interaction: discord.Interaction[Any],
        topic: str | None = None,
        days: app_commands.Range[int, 1, 365] | None = None,
        share: bool = False,
    ) -> None:
        wanted = await self.topics.resolve(topic) if topic else None
        await interaction.response.defer(ephemeral=not share, thinking=True)
        now = self.context.clock()
        look_back = days or 1
        items = await self.context.store.read(self._top_items, now, look_back, wanted)
        where = f" in {wanted}" if wanted else ""
        await reply_paginated(
            interaction,
            self.context,
            items,
            page_of=lambda chunk, page, pages: top_page(
                chunk, topic=wanted, page=page, pages=pages
            ),
            empty=f"No stories{where} in the last {look_back} day(s).",
            ephemeral=not share,
        )

    def _top_items(self, store: Store, now: Any, days: int, topic: str | None) -> list[DigestItem]:
        """Runs on a reader: the window's stories, collapsed and ranked."""
        articles = store.articles_between(
            now - timedelta(days=days), now, topics=[topic] if topic else None
        )
        pool = build_pool(
            articles, now=now, weights=self.context.settings.ranking, related=related_items
        )
        positions = pool.by_topic.get(topic_key(topic), ()) if topic else range(len(pool.stories))
        items = []
        for position in list(positions)[:MAX_RESULTS]:
            story = pool.stories[position]
            items.append(
                DigestItem(story.article, story.score, story.also_covered_by, story.coverage)
            )
        return items

    @top.autocomplete("topic")
    async def _top_topic(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._topic_choices(interaction, current)

    @app_commands.command(name="topics", description="Topics with articles")
    @app_commands.describe(share="post the answer for everyone in the channel")
    async def topics_list(self, interaction: discord.Interaction[Any], share: bool = False) -> None:
        counts = await self.topics.counts()
        if not counts:
            description = "No articles are loaded yet."
        else:
            lines = [f"**{discord.utils.escape_markdown(n)}** — {c}" for n, c in counts[:40]]
            if len(counts) > 40:
                lines.append(
                    f"… and {len(counts) - 40} more (type in a `topic` option to find them)"
                )
            description = "\n".join(lines)
        await interaction.response.send_message(
            **payload_kwargs(text_embed("Topics", description)), ephemeral=not share
        )

    @app_commands.command(name="help", description="How to use the news bot")
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(
            **payload_kwargs(text_embed("News bot", HELP_TEXT)), ephemeral=True
        )

    @app_commands.command(name="why", description="Why an article is, or is not, in the digest")
    @app_commands.describe(url="the article's link")
    async def why(
        self, interaction: discord.Interaction[Any], url: app_commands.Range[str, 1, 2000]
    ) -> None:
        link = url.strip()
        if safe_url(link) is None:
            raise UserError(
                f"{fit(link, 100) or 'That'} is not a link. Paste an article's http(s) link "
                "(from a digest, /news top or /news search)."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        perms = interaction.permissions
        guild_id = interaction.guild_id
        admin = guild_id is not None and (perms.manage_guild or perms.administrator)
        now = self.context.clock()
        state = await self.context.store.guild(guild_id) if guild_id is not None else None
        channel_id: int | None = None
        if admin and state is not None:
            settings = state.settings
            channel_id = settings.channel_id
            window = digest_window(state.last_run_at, now, settings.lookback_hours)
        else:
            settings = self._default_settings(
                state.settings.topics if state is not None and state.settings.topics else ()
            )
            if not settings.topics:
                settings = self._default_settings(tuple(await self.topics.names()))
            window = digest_window(None, now, settings.lookback_hours)
        facts = await self.context.store.why_facts(link, window, channel_id, WHY_NEIGHBOURHOOD)
        if facts is None:
            await interaction.followup.send(
                f"No article with the link {fit(canonical_url(link), 300)} is loaded. Find "
                "it by its words with /news search.",
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        found, articles, neighbours, posted = facts
        retired = None if found.retired_at is None else Retirement(found.retired_at, found.removed)
        # building the pool collapses and scores the window: off the event loop
        explanation = await asyncio.to_thread(
            explain,
            found.article,
            articles=articles,
            settings=settings,
            now=now,
            window=window,
            weights=self.context.settings.ranking,
            posted=posted,
            retired=retired,
            neighbours=neighbours,
            related=related_items,
        )
        payload = why_message(explanation, settings=settings, server_digest=admin)
        await interaction.followup.send(**payload_kwargs(payload), ephemeral=True)

    def _default_settings(self, topics: tuple[str, ...]) -> GuildSettings:
        """A default digest (the config's defaults, as an unconfigured server has) over `topics`."""
        defaults = GuildDefaults.from_settings(self.context.settings)
        return replace(default_state(0, defaults).settings, topics=topics)
