"""The bot: one `NewsBot` built in `main`, with the store, index and scheduler passed in.

`setup_hook` loads the cogs, syncs commands only when the command set changed, and starts the
scheduler. With several processes on one database (each owning some gateway shards), only the
one whose `Membership` holds the deliverer lease runs the scheduled digests, re-ingest, pruning
and the Git sources; the others answer their shards' interactions and sync their search index.
`close()` stops taking work, lets in-flight posts finish briefly (an interrupted run stays
pending in the ledger and is resumed with the same nonces at the next start), releases the lease,
then shuts everything down.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import signal
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs import CogContext
from bot.discord.cogs.digest import DigestCog
from bot.discord.cogs.news import NewsCog
from bot.discord.delivery import Deliverer, RateLimitCounter
from bot.discord.errors import NotAllowed, UserError
from bot.discord.membership import Membership, new_process_info
from bot.discord.pacing import ChannelSpacer, Pacer, WindowLimiter
from bot.discord.scheduler import BotScheduler
from bot.discord.startup import retry_unreachable
from bot.search.index import SearchIndex
from bot.settings import Settings, ShardPlan, package_version
from bot.sources import SourceManager
from bot.store import cluster
from bot.store.async_store import AsyncStore
from bot.store.db import Store
from bot.store.guilds import GuildDefaults

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
COMMANDS_HASH_KEY = "commands_hash"
SHUTDOWN_GRACE_SECONDS = 10.0
SETUP_HINT = (
    "Thanks for adding the news bot! A member with **Manage Server** can set up a daily digest:\n"
    "1. `/digest channel` — where to post\n"
    "2. `/digest topics add` — what to post (see `/news topics`)\n"
    "3. `/digest schedule` — when (optional; `/digest show` to check)\n"
    "Anyone can use `/news search` and `/news top`."
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class NewsTree(app_commands.CommandTree[Any]):
    """One place for command errors: friendly ephemeral replies, the rest logged."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /
    ) -> None:
        if isinstance(error, UserError | NotAllowed):
            text = error.message
        elif isinstance(error, app_commands.TransformerError):
            text = f"`{str(error.value)[:100]}` is not a valid value here; pick one from the list."
        elif isinstance(error, app_commands.NoPrivateMessage):
            text = "This command only works inside a server."
        elif isinstance(error, app_commands.CheckFailure):
            text = "You cannot use this command here."
        else:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("command /%s failed", command, exc_info=error)
            text = "Sorry, something went wrong on my side. Please try again later."
        try:
            if interaction.response.is_done():
                await interaction.followup.send(
                    text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
                )
            else:
                await interaction.response.send_message(
                    text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
                )
        except discord.HTTPException as exc:
            log.warning("could not tell the user about an error: %s", exc)


def commands_hash(tree: app_commands.CommandTree[Any]) -> str:
    """A fingerprint of the global command set as Discord would receive it."""
    payload = [command.to_dict(tree) for command in tree.get_commands()]
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def apply_discord_endpoints(environ: Mapping[str, str]) -> str | None:
    """Honour DISCORD_API_BASE / DISCORD_GATEWAY_URL (process-wide); returns the gateway override."""
    base = environ.get("DISCORD_API_BASE")
    if base:
        discord.http.Route.BASE = base.rstrip("/")
    gateway = environ.get("DISCORD_GATEWAY_URL")
    if gateway:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    return gateway or None


class NewsBot(commands.AutoShardedBot):
    """The news bot. Everything it uses is passed in; it owns its background work."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: AsyncStore,
        index: SearchIndex | None,
        clock: Clock = utc_now,
        gateway_url: str | None = None,
        tick_seconds: float = 5.0,
        view_timeout: float = 600.0,
        retry_base_seconds: float = 1.0,
        auto_sync: bool = True,
        rescan: bool = True,
        background: bool = True,
        shutdown_grace: float = SHUTDOWN_GRACE_SECONDS,
        source_poll_seconds: float = 60.0,
        membership: Membership | None = None,
        **options: Any,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=NewsTree,
            help_command=None,
            **options,
        )
        self.settings = settings
        self.store = store
        self.index = index
        self.clock = clock
        self.gateway_url = gateway_url
        self.auto_sync = auto_sync
        self.shutdown_grace = shutdown_grace
        self.background = background
        # the article sources: local folders re-scanned by the scheduler, Git repositories
        # refreshed by an owned background task (started in setup_hook, cancelled in close)
        self.sources = SourceManager(settings, store, index=index, clock=clock)
        self.source_poll_seconds = source_poll_seconds
        self.membership = membership
        self._sources_task: asyncio.Task[Any] | None = None
        self.pacer = Pacer(
            WindowLimiter(settings.delivery.max_requests_per_second), ChannelSpacer(5, 5.0)
        )
        self.deliverer = Deliverer(
            self,
            store,
            settings,
            self.pacer,
            clock=clock,
            retry_base_seconds=retry_base_seconds,
            delivers=membership.delivers if membership else None,
        )
        self.scheduler = BotScheduler(
            store,
            self.deliverer,
            clock=clock,
            catch_up_minutes=settings.schedule.catch_up_minutes,
            tick_seconds=tick_seconds,
            rescan_seconds=settings.ingest.rescan_seconds if rescan else None,
            rescan=self.rescan_articles if rescan else None,
            prune=self.prune,
            delivers=membership.delivers if membership else None,
            fence=membership.fence if membership else None,
            follow_seconds=settings.cluster.index_sync_seconds if membership else None,
            follow=self.sync_index if membership else None,
        )
        self.context = CogContext(
            store=store,
            index=index,
            settings=settings,
            clock=clock,
            deliverer=self.deliverer,
            view_timeout=view_timeout,
            process_id=membership.process_id if membership else None,
            delivers=membership.delivers if membership else None,
        )
        self.synced_commands = False
        self._setup_started = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._rate_limit_counter: RateLimitCounter | None = None

    # -- start-up ---------------------------------------------------------------------------

    async def login(self, token: str) -> None:
        """discord.py's login, retried with back-off while Discord cannot be reached (see
        `bot.discord.startup`); not once the set-up (cogs, command sync) has begun."""
        startup = self.settings.startup

        async def fresh_session() -> None:  # the failed attempt's HTTP session is let go
            await self.http.close()
            self.http.connector = discord.utils.MISSING

        await retry_unreachable(
            lambda: super(NewsBot, self).login(token),
            attempts=startup.connect_attempts,
            first_delay=startup.retry_seconds,
            before_retry=fresh_session,
            retryable=lambda: not self._setup_started,
        )

    async def setup_hook(self) -> None:
        self._setup_started = True
        # operators see every 429, also those discord.py retried on its own
        self._rate_limit_counter = RateLimitCounter(self.deliverer.stats)
        logging.getLogger("discord.http").addFilter(self._rate_limit_counter)
        await self.add_cog(NewsCog(self.context))
        await self.add_cog(DigestCog(self.context))
        if self.auto_sync:
            await self.sync_commands_if_changed()
        if self.background:
            self.scheduler.start()
            if self.membership is None or self.membership.delivers():
                self._start_sources()
            if self.membership is not None:
                self.membership.on_change(gained=self._took_over, lost=self._handed_over)
                self.spawn(self.membership.run_forever(), "membership")

    def _start_sources(self) -> None:
        if self._sources_task is None or self._sources_task.done():
            self._sources_task = self.spawn(
                self.sources.run_forever(self.source_poll_seconds), "source refresh"
            )

    async def _took_over(self) -> None:
        """This process became the deliverer (called from the heartbeat: returns at once)."""
        self._start_sources()
        self.spawn(self._take_over(), "takeover")

    async def _take_over(self) -> None:
        """Finish what the last deliverer left, at once, paced as if it had just spent the rate
        limits (it may have, a moment ago)."""
        unfinished = await self.store.journal.pending()
        self.pacer.assume_full((run.channel_id, run.messages_sent + 1) for run in unfinished)
        await self.scheduler.tick()

    async def _handed_over(self) -> None:
        """Another process delivers now: stop refreshing the sources here (ticks stop by
        themselves: each checks the lease first)."""
        if self._sources_task is not None:
            self._sources_task.cancel()
            self._sources_task = None

    async def sync_commands_if_changed(self) -> bool:
        """Sync the global commands only when their definition changed since the last sync."""
        fingerprint = commands_hash(self.tree)
        if await self.store.get_meta(COMMANDS_HASH_KEY) == fingerprint:
            log.info("slash commands unchanged: not syncing")
            return False
        synced = await self.tree.sync()
        await self.store.set_meta(COMMANDS_HASH_KEY, fingerprint)
        self.synced_commands = True
        log.info("synced %d slash commands", len(synced))
        return True

    async def launch_shards(self) -> None:
        """With a gateway override, ask Discord only for the shard count and use our URL."""
        current: int | None = self.shard_count  # None until known (typed as int upstream)
        if self.gateway_url and current is None:
            shards, _, _ = await self.http.get_bot_gateway()
            self.shard_count = shards
        await super().launch_shards()

    # -- background work --------------------------------------------------------------------

    async def rescan_articles(self) -> None:
        """Re-scan the local folders (a failing one is recorded and reported, never raised)."""
        for result in await self.sources.refresh_local():
            report = result.report
            if not result.ok and not result.busy:  # e.g. an unmounted share: articles kept
                log.warning("re-ingest %s: %s", result.name, result.error)
            if report is None:
                continue
            log.info(
                "re-ingest %s: scanned=%d added=%d updated=%d retired=%d rejected=%d",
                result.name,
                report.scanned,
                report.added,
                report.updated,
                report.retired,
                len(report.rejected),
            )

    async def sync_index(self) -> None:
        """Bring this process's search index up to what the deliverer ingested (by revision)."""
        if self.index is not None:
            changed = await self.store.read(self.index.sync)
            if changed:
                log.info("search index synced: %d article(s) changed", changed)

    async def prune(self) -> None:
        retention = self.settings.retention
        report = await self.store.prune(
            now=self.clock(),
            ledger_days=retention.ledger_days,
            retired_article_days=retention.retired_article_days,
            guild_grace_days=retention.guild_grace_days,
        )
        if self.membership is not None:  # processes not heard from for a day
            day_ago = self.membership.wall() - 86_400
            await self.store.run(
                cluster.forget_processes, self.store.conn, before_us=int(day_ago * 1_000_000)
            )
        log.info(
            "pruned ledger_rows=%d runs=%d articles=%d guilds=%d",
            report.ledger_rows,
            report.runs,
            report.articles,
            report.guilds,
        )

    def spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        """A fire-and-forget task the bot keeps (and cancels on close); errors are logged."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("task %s failed", name, exc_info=finished.exception())

        task.add_done_callback(done)
        return task

    # -- server lifecycle -------------------------------------------------------------------

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.store.set_removed(guild.id, False, now=self.clock())
        channel = _hint_channel(guild)
        if channel is None:
            return
        try:
            await channel.send(SETUP_HINT, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.info("could not post the setup hint in guild %s: %s", guild.id, exc)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.store.set_removed(guild.id, True, now=self.clock())
        log.info("left guild %s: its digest stopped", guild.id)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        for guild_id in await self.store.guilds_using_channel(channel.id):
            reason = (
                f"the digest channel #{channel.name} was deleted; pick one with /digest channel"
            )
            await self.store.mark_failing(guild_id, reason, now=self.clock())

    # -- shutdown ---------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop taking work, give in-flight posts a moment, then shut everything down."""
        self.scheduler.pause()
        await self.scheduler.drain(self.shutdown_grace)
        self.scheduler.shutdown()
        if self.membership is not None:
            await self.membership.stop()  # the lease is free for another process at once
        others = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        if others:
            await asyncio.gather(*others, return_exceptions=True)
        if self._rate_limit_counter is not None:
            logging.getLogger("discord.http").removeFilter(self._rate_limit_counter)
        await super().close()


def _hint_channel(guild: discord.Guild) -> discord.TextChannel | None:
    """The system channel, else the first text channel where the bot may post."""
    me = guild.me
    candidates = [guild.system_channel] if guild.system_channel else []
    candidates += sorted(guild.text_channels, key=lambda c: c.position)
    for channel in candidates:
        perms = channel.permissions_for(me)
        if perms.view_channel and perms.send_messages:
            return channel
    return None


def read_token(environ: Mapping[str, str]) -> str:
    """DISCORD_TOKEN, or the content of DISCORD_TOKEN_FILE; ValueError without the token."""
    token = environ.get("DISCORD_TOKEN", "").strip()
    if not token and environ.get("DISCORD_TOKEN_FILE"):
        path = Path(environ["DISCORD_TOKEN_FILE"])
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read DISCORD_TOKEN_FILE {path}: {exc.strerror}") from exc
    if not token:
        raise ValueError("no bot token: set DISCORD_TOKEN or DISCORD_TOKEN_FILE")
    return token


async def main(
    settings: Settings,
    token: str,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock = utc_now,
    shards: ShardPlan | None = None,
    **bot_options: Any,
) -> None:
    """Build everything in one place, run the bot until it is closed or signalled."""
    env = os.environ if environ is None else environ
    plan = shards or ShardPlan()
    gateway = apply_discord_endpoints(env)
    if plan.ids is not None:
        bot_options.update(shard_ids=list(plan.ids), shard_count=plan.count)
    elif plan.count is not None:
        bot_options.update(shard_count=plan.count)
    store = await asyncio.to_thread(Store.open, settings.database)
    member_store = await asyncio.to_thread(Store.open, settings.database)
    try:
        # each process keeps its own index (processes on one machine: one per shard range)
        index_dir = settings.index_dir
        if plan.label is not None:
            index_dir = index_dir.with_name(f"{index_dir.name}-shards-{plan.label}")
        index = await asyncio.to_thread(SearchIndex.open, index_dir)
        astore = AsyncStore(store, GuildDefaults.from_settings(settings))
        membership = Membership(
            member_store,
            new_process_info(plan.label, plan.count, package_version()),
            lease_seconds=settings.cluster.lease_seconds,
            heartbeat_seconds=settings.cluster.heartbeat_seconds,
        )
        try:
            bot = NewsBot(
                settings=settings,
                store=astore,
                index=index,
                clock=clock,
                gateway_url=gateway,
                membership=membership,
                **bot_options,
            )
            loop = asyncio.get_running_loop()
            handled: list[signal.Signals] = []
            for sig in (signal.SIGTERM, signal.SIGINT):
                # not possible outside the main thread or on Windows: then Ctrl-C still works
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, lambda: bot.spawn(bot.close(), "shutdown"))
                    handled.append(sig)
            try:
                async with bot:
                    if await membership.start():
                        await bot.rescan_articles()
                    else:
                        log.info(
                            "process %s answers its shards' interactions; another process "
                            "delivers the digests",
                            membership.process_id,
                        )
                        await bot.sync_index()
                    await bot.start(token)
            finally:
                for sig in handled:
                    loop.remove_signal_handler(sig)
                await membership.stop()
        finally:
            astore.close()
            index.close()
    finally:
        member_store.close()
        store.close()
