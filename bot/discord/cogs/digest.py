"""`/digest …`: a server's scheduled news digest, for members with Manage Server.

`default_permissions` only hides the group by default (owners can override it), so every command
checks `manage_guild` again. Every bad value gets a clear ephemeral reply and changes nothing.
The options' ranges, descriptions and checks come from `bot.core.server_settings`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.server_settings import (
    CHANNEL_ID,
    DIGEST_OPTIONS,
    EVERY_DAY,
    LOOKBACK_HOURS,
    MAX_PER_PROVIDER,
    MIN_QUALITY,
    PER_TOPIC,
    SILENT,
    TIME,
    TIMEZONE,
    WEEKDAYS_SETTING,
    check_changes,
    summary,
)
from bot.discord.cogs import CogContext, match_choices
from bot.discord.cogs.news import TopicCache
from bot.discord.errors import NotAllowed, UserError
from bot.discord.formatting import next_run_line, status_page
from bot.discord.payloads import payload_kwargs
from bot.settings import timezone_names
from bot.store import cluster, journal
from bot.store.guilds import GuildState, manual_run_key

REQUIRED_PERMISSIONS = ("view_channel", "send_messages", "embed_links")
MAX_TOPICS = 25


def _perm_name(name: str) -> str:
    return name.replace("_", " ").title()


#: How long `/digest now` waits for another process's delivery before saying it is under way.
ASK_DELIVERER_SECONDS = 60.0


def _now_text(outcome: str, messages: int, detail: str, channel_id: int) -> str:
    """The reply to `/digest now` for a run's outcome."""
    texts = {
        "sent": f"Posted {messages} message(s) in <#{channel_id}>.",
        "empty": "Nothing new to post: every matching article was already posted.",
        "failing": f"Could not post: {detail}.",
    }
    return texts.get(outcome, f"Could not post the digest now ({detail or outcome}).")


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class DigestCog(
    commands.GroupCog, group_name="digest", group_description="Set up this server's news digest"
):
    """Admin commands for the scheduled digest."""

    topics = app_commands.Group(name="topics", description="Topics of the digest")

    def __init__(self, context: CogContext) -> None:
        self.context = context
        self.topic_cache = TopicCache(context)
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Manage Server is checked here too: server owners can override command permissions."""
        perms = interaction.permissions
        if interaction.guild_id is None:
            raise NotAllowed("The digest is set up inside a server, not in direct messages.")
        if not (perms.manage_guild or perms.administrator):
            if interaction.type is discord.InteractionType.autocomplete:
                return False
            raise NotAllowed("You need the Manage Server permission to change the news digest.")
        return True

    # -- helpers ----------------------------------------------------------------------------

    def _guild_id(self, interaction: discord.Interaction[Any]) -> int:
        if interaction.guild_id is None:
            raise UserError("This command only works inside a server.")
        return interaction.guild_id

    async def _update(
        self, interaction: discord.Interaction[Any], changes: dict[str, Any]
    ) -> GuildState:
        return await self.context.store.update_guild(
            self._guild_id(interaction), changes, now=self.context.clock()
        )

    async def _reply(
        self, interaction: discord.Interaction[Any], text: str, state: GuildState | None = None
    ) -> None:
        if state is not None:
            text += "\n" + next_run_line(state)
        await interaction.response.send_message(
            text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    # -- channel ----------------------------------------------------------------------------

    @app_commands.command(name="channel", description="Where the digest is posted")
    @app_commands.describe(channel=CHANNEL_ID.option_description)
    async def channel(
        self, interaction: discord.Interaction[Any], channel: discord.TextChannel
    ) -> None:
        guild = interaction.guild
        me = guild.me if guild is not None else None
        if guild is None or channel.guild.id != guild.id:
            raise UserError("Pick a channel of this server.")
        if me is None:
            raise UserError(
                "I cannot see my own permissions in this server yet; try again shortly."
            )
        perms = channel.permissions_for(me)
        missing = [_perm_name(p) for p in REQUIRED_PERMISSIONS if not getattr(perms, p)]
        if missing:
            raise UserError(
                f"I cannot post the digest in {channel.mention}: I am missing "
                f"{', '.join(missing)} there. Grant them (channel settings → Permissions) "
                "or pick another channel."
            )
        state = await self._update(interaction, {"channel_id": channel.id})
        hint = "" if state.settings.topics else " Next: add topics with /digest topics add."
        await self._reply(
            interaction, f"The digest will be posted in {channel.mention}.{hint}", state
        )

    # -- topics -----------------------------------------------------------------------------

    @topics.command(name="add", description="Add a topic to the digest")
    @app_commands.describe(topic="a topic with articles (see /news topics)")
    async def topics_add(self, interaction: discord.Interaction[Any], topic: str) -> None:
        name = await self.topic_cache.resolve(topic)
        current = (await self.context.store.guild(self._guild_id(interaction))).settings.topics
        if any(t.casefold() == name.casefold() for t in current):
            raise UserError(f"`{name}` is already in the digest.")
        if len(current) >= MAX_TOPICS:
            raise UserError(f"A digest has at most {MAX_TOPICS} topics; remove one first.")
        state = await self._update(interaction, {"topics": (*current, name)})
        hint = "" if state.settings.channel_id else " Next: choose a channel with /digest channel."
        await self._reply(
            interaction, f"Added `{name}`. Topics: {', '.join(state.settings.topics)}.{hint}", state
        )

    @topics_add.autocomplete("topic")
    async def _add_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.topic_cache.autocomplete(current)

    @topics.command(name="remove", description="Remove a topic from the digest")
    @app_commands.describe(topic="one of the digest's topics")
    async def topics_remove(self, interaction: discord.Interaction[Any], topic: str) -> None:
        current = (await self.context.store.guild(self._guild_id(interaction))).settings.topics
        wanted = topic.strip().casefold()
        kept = tuple(t for t in current if t.casefold() != wanted)
        if len(kept) == len(current):
            listed = ", ".join(f"`{t}`" for t in current) or "none yet"
            raise UserError(f"`{topic.strip()[:100]}` is not in the digest. Its topics: {listed}.")
        state = await self._update(interaction, {"topics": kept})
        left = ", ".join(kept) or "none (the digest is off until you add one)"
        await self._reply(interaction, f"Removed. Topics: {left}.", state)

    @topics_remove.autocomplete("topic")
    async def _remove_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        state = await self.context.store.guild(interaction.guild_id)
        return match_choices(current, list(state.settings.topics))

    @topics.command(name="list", description="The digest's topics")
    async def topics_list(self, interaction: discord.Interaction[Any]) -> None:
        state = await self.context.store.guild(self._guild_id(interaction))
        listed = (
            ", ".join(f"`{t}`" for t in state.settings.topics) or "none yet (/digest topics add)"
        )
        await self._reply(interaction, f"Digest topics: {listed}")

    # -- schedule and settings --------------------------------------------------------------

    @app_commands.command(name="schedule", description="When the digest is posted")
    @app_commands.describe(
        time=TIME.option_description,
        timezone=TIMEZONE.option_description,
        weekdays=WEEKDAYS_SETTING.option_description,
    )
    async def schedule(
        self,
        interaction: discord.Interaction[Any],
        time: str,
        timezone: str,
        weekdays: str | None = None,
    ) -> None:
        try:
            at = TIME.from_text(time)
            zone = TIMEZONE.from_text(timezone)
            days = EVERY_DAY if weekdays is None else WEEKDAYS_SETTING.from_text(weekdays)
        except ValueError as exc:
            raise UserError(f"Nothing changed: {exc}.") from exc
        state = await self._update(interaction, {"time": at, "timezone": zone, "weekdays": days})
        await self._reply(
            interaction,
            f"Schedule: {TIME.show(at)} {zone}, {WEEKDAYS_SETTING.show(days)}.",
            state,
        )

    @schedule.autocomplete("timezone")
    async def _tz_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return match_choices(current.replace(" ", "_"), timezone_names())

    # The options' names, ranges and descriptions are those of the declared settings.
    @app_commands.command(name="settings", description="Digest options (none given: show them)")
    @app_commands.describe(**{s.name: s.option_description for s in DIGEST_OPTIONS})
    async def settings(
        self,
        interaction: discord.Interaction[Any],
        per_topic: app_commands.Range[int, PER_TOPIC.low, PER_TOPIC.high] | None = None,
        min_quality: app_commands.Range[int, MIN_QUALITY.low, MIN_QUALITY.high] | None = None,
        max_per_provider: app_commands.Range[int, MAX_PER_PROVIDER.low, MAX_PER_PROVIDER.high]
        | None = None,
        lookback_hours: app_commands.Range[int, LOOKBACK_HOURS.low, LOOKBACK_HOURS.high]
        | None = None,
        silent: bool | None = None,
    ) -> None:
        given = {
            PER_TOPIC.name: per_topic,
            MIN_QUALITY.name: min_quality,
            MAX_PER_PROVIDER.name: max_per_provider,
            LOOKBACK_HOURS.name: lookback_hours,
            SILENT.name: silent,
        }
        changes = {k: v for k, v in given.items() if v is not None}
        try:  # Discord enforces the ranges, but a client may send anything: checked again
            check_changes(changes)
        except ValueError as exc:
            raise UserError(f"Nothing changed: {exc}.") from exc
        if changes:
            state = await self._update(interaction, changes)
            prefix = "Updated. "
        else:
            state = await self.context.store.guild(self._guild_id(interaction))
            prefix = ""
        await self._reply(interaction, prefix + summary(state.settings))

    # -- running ----------------------------------------------------------------------------

    @app_commands.command(name="pause", description="Stop posting the digest for now")
    async def pause(self, interaction: discord.Interaction[Any]) -> None:
        state = await self._update(interaction, {"paused": True})
        await self._reply(interaction, "The digest is paused (/digest resume restarts it).", state)

    @app_commands.command(name="resume", description="Post the digest again")
    async def resume(self, interaction: discord.Interaction[Any]) -> None:
        state = await self._update(interaction, {"paused": False})
        await self._reply(interaction, "The digest is running.", state)

    def _require_ready(self, state: GuildState) -> int:
        if state.settings.channel_id is None:
            raise UserError("Choose a channel first with /digest channel.")
        if not state.settings.topics:
            raise UserError("Add a topic first with /digest topics add.")
        return state.settings.channel_id

    @app_commands.command(name="now", description="Post the digest now")
    async def now(self, interaction: discord.Interaction[Any]) -> None:
        state = await self.context.store.guild(self._guild_id(interaction))
        channel_id = self._require_ready(state)
        await interaction.response.defer(ephemeral=True, thinking=True)
        delivers = self.context.delivers
        if delivers is None or delivers():
            outcome = await self.context.deliverer.deliver_now(state)
            text = _now_text(outcome.outcome, outcome.messages, outcome.detail, channel_id)
        else:  # another process delivers: it posts, so the rate limit is paced in one place
            text = await self._ask_the_deliverer(state.settings.guild_id, channel_id)
        await interaction.followup.send(
            text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    async def _ask_the_deliverer(self, guild_id: int, channel_id: int) -> str:
        """Claim a manual run for the delivering process and wait (a while) for its outcome."""
        store = self.context.store
        key = manual_run_key(guild_id, channel_id)
        await store.journal.request(key, guild_id, channel_id, now=self.context.clock())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ASK_DELIVERER_SECONDS
        while loop.time() < deadline:
            await asyncio.sleep(0.5)
            run, claimed = await store.read(
                lambda s: (journal.run(s.conn, key), journal.is_claimed(s.conn, key))
            )
            if run is not None and run.status != "pending":
                outcome = "sent" if run.payloads else "empty"
                if run.status == "failed":
                    outcome = "failed"
                return _now_text(outcome, run.messages_sent, run.result or "", channel_id)
            if run is None and not claimed:
                return "The digest was not posted: its channel or settings changed meanwhile."
        return (
            "The bot process that delivers digests has it in hand, but it has not finished yet: "
            "`/digest show` tells the result."
        )

    @app_commands.command(name="preview", description="See what the digest would post now")
    async def preview(self, interaction: discord.Interaction[Any]) -> None:
        state = await self.context.store.guild(self._guild_id(interaction))
        if not state.settings.topics:
            raise UserError("Add a topic first with /digest topics add.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        payloads = await self.context.deliverer.preview(state)
        if not payloads:
            await interaction.followup.send(
                "Nothing new would be posted right now.", ephemeral=True
            )
            return
        for payload in payloads:
            await interaction.followup.send(**payload_kwargs(payload), ephemeral=True)

    @app_commands.command(name="show", description="The digest's settings, next run and health")
    async def show(self, interaction: discord.Interaction[Any]) -> None:
        state = await self.context.store.guild(self._guild_id(interaction))
        name = interaction.guild.name if interaction.guild is not None else None
        stale = await self.context.store.stale_sources()
        configured = {source.name for source in self.context.settings.all_sources}
        failing = [(s.name, s.stale_since) for s in stale if s.name in configured]
        delivered_by = await self._delivered_by()
        page = status_page(state, guild_name=name, stale_sources=failing, delivered_by=delivered_by)
        await interaction.response.send_message(**payload_kwargs(page), ephemeral=True)

    async def _delivered_by(self) -> str | None:
        """Which process posts the digests (with several processes), for `/digest show`."""
        me = self.context.process_id
        if me is None:
            return None
        now_us = cluster.wall_us()  # the lease runs on wall time, not business time
        row = await self.context.store.read(lambda s: cluster.deliverer(s.conn, now_us=now_us))
        if row is None:
            return (
                "⚠️ no bot process is delivering digests right now (one takes over within seconds)"
            )
        info = row.info
        shards = f"shards {info.shards} of {info.shard_count}" if info.shards else "all shards"
        this = " — the one answering you" if info.process_id == me else ""
        return f"process `{info.process_id}` ({shards}){this}"
