"""The fake Discord itself, driven by a real discord.py client."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fake_discord import EMBED_LINKS, SEND_MESSAGES, FakeDiscord
from tests.fake_discord.clients import no_identify_delay, running
from tests.fake_discord.plugin import DiscordEndpoints

pytestmark = pytest.mark.e2e

MESSAGES = "/channels/{channel_id}/messages"
INTENTS = discord.Intents.none() | discord.Intents(guilds=True)


def _client() -> discord.Client:
    return discord.Client(intents=INTENTS, guild_ready_timeout=0.05)


class EchoBot(commands.Bot):
    """A small bot with the shapes newsbot uses: a group, a subgroup, a deferred command."""

    def __init__(self, *, slow: float = 0.0) -> None:
        super().__init__(command_prefix=[], intents=INTENTS, guild_ready_timeout=0.05)
        self.slow = slow
        self.tree.add_command(self._digest_group())
        self.tree.add_command(self._news_group())
        self.failures: list[Exception] = []

    def _digest_group(self) -> app_commands.Group:
        digest = app_commands.Group(name="digest", description="Admin settings")
        topics = app_commands.Group(name="topics", description="Topics", parent=digest)

        @topics.command(name="add", description="Add a topic")
        async def add(interaction: discord.Interaction, topic: str) -> None:
            await interaction.response.send_message(f"added {topic}", ephemeral=True)

        @add.autocomplete("topic")
        async def add_complete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            names = ["AI", "Climate", "Space", "Sports"]
            return [app_commands.Choice(name=n, value=n) for n in names if current in n.lower()]

        @digest.command(name="channel", description="Where digests go")
        async def channel(
            interaction: discord.Interaction,
            channel: discord.TextChannel,
            per_topic: app_commands.Range[int, 1, 10] = 3,
        ) -> None:
            perms = channel.permissions_for(channel.guild.me)
            await interaction.response.send_message(
                f"{channel.name} {per_topic} embed_links={perms.embed_links}"
            )

        return digest

    def _news_group(self) -> app_commands.Group:
        news = app_commands.Group(name="news", description="Reader commands")
        bot = self

        @news.command(name="search", description="Search")
        async def search(interaction: discord.Interaction, query: str, days: int = 7) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await asyncio.sleep(bot.slow)
            await interaction.followup.send(f"results for {query} in {days} days", ephemeral=True)
            await interaction.followup.send("second page", ephemeral=True)

        @news.command(name="quick", description="Answers late when slow is set")
        async def quick(interaction: discord.Interaction) -> None:
            await asyncio.sleep(bot.slow)
            try:
                await interaction.response.send_message("hello")
            except discord.HTTPException as exc:
                bot.failures.append(exc)

        @news.command(name="pages", description="A message with a button")
        async def pages(interaction: discord.Interaction) -> None:
            view = PagerView(interaction.user.id)
            await interaction.response.send_message("page 1", view=view)

        return news


class PagerView(discord.ui.View):
    def __init__(self, owner: int) -> None:
        super().__init__(timeout=60)
        self.owner = owner

    @discord.ui.button(label="Next", custom_id="pager:next")
    async def next_page(
        self, interaction: discord.Interaction, button: discord.ui.Button[PagerView]
    ) -> None:
        if interaction.user.id != self.owner:
            await interaction.response.send_message("not yours", ephemeral=True)
            return
        button.disabled = True
        await interaction.response.edit_message(content="page 2", view=self)


async def test_login_ready_and_guilds_with_channels(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild("News Fans", channels=("general", "news"))
    other = fake_discord.add_guild("Second")
    async with running(_client(), fake_discord) as client:
        assert client.user is not None
        assert client.user.id == fake_discord.bot_user.id
        seen = client.get_guild(guild.id)
        assert seen is not None
        assert sorted(c.name for c in seen.text_channels) == ["general", "news"]
        assert seen.me is not None
        assert seen.owner_id == guild.owner_id
        assert client.get_guild(other.id) is not None
    assert fake_discord.identifies == 1


async def test_endpoints_are_restored_after_the_test(discord_endpoints: DiscordEndpoints) -> None:
    assert discord_endpoints.api_base == discord.http.Route.BASE
    assert discord_endpoints.env["DISCORD_GATEWAY_URL"].startswith("ws://127.0.0.1:")


def test_endpoints_default_outside_the_fixture() -> None:
    assert discord.http.Route.BASE == "https://discord.com/api/v10"


async def test_command_sync_is_stored_with_ids(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild()
    bot = EchoBot()
    async with running(bot, fake_discord):
        synced = await bot.tree.sync()
        again = await bot.tree.sync()
        await bot.tree.sync(guild=discord.Object(guild.id))
    assert sorted(c.name for c in synced) == ["digest", "news"]
    assert {c.name: c.id for c in synced} == {c.name: c.id for c in again}
    stored = {c["name"]: c for c in fake_discord.commands()}
    assert [o["name"] for o in stored["digest"]["options"]] == ["topics", "channel"]
    assert fake_discord.commands(guild) == []  # the guild copy was empty


async def test_spec_invalid_bodies_are_rejected_and_recorded(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild()
    channel = next(iter(guild.channels.values()))
    async with running(_client(), fake_discord) as client:
        target = client.get_partial_messageable(channel.id)
        with pytest.raises(discord.HTTPException) as long_title:
            await target.send(embed=discord.Embed(title="x" * 300))
        spaced = discord.Embed(title="ok").set_image(url="https://example.com/a b.png")
        with pytest.raises(discord.HTTPException) as bad_url:
            await target.send(embed=spaced)
        too_much = [discord.Embed(description="d" * 4000) for _ in range(2)]
        with pytest.raises(discord.HTTPException) as over_6000:
            await target.send(embeds=too_much)
        await target.send("fine", embed=discord.Embed(title="t" * 256))
    assert long_title.value.status == 400
    assert long_title.value.code == 50035
    assert "embeds.0.title" in long_title.value.text
    assert bad_url.value.code == 50035
    assert over_6000.value.code == 50035
    assert [m["content"] for m in fake_discord.messages(channel)] == ["fine"]
    errors = fake_discord.take_errors()
    assert len(errors) == 3
    assert "title" in errors[0]


async def test_429_without_via_is_not_retried_and_with_via_is(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild()
    channel = next(iter(guild.channels.values()))
    async with running(_client(), fake_discord) as client:
        target = client.get_partial_messageable(channel.id)
        fake_discord.fail("POST", MESSAGES, status=429, via=False)
        with pytest.raises(discord.HTTPException) as raised:
            await target.send("blocked")
        fake_discord.fail("POST", MESSAGES, status=429, retry_after=0.01)
        sent = await target.send("retried")
    assert raised.value.status == 429
    assert fake_discord.count_429 == 2
    assert [m["content"] for m in fake_discord.messages(channel)] == ["retried"]
    assert sent.content == "retried"


async def test_message_bucket_limits_with_headers(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild()
    channel = next(iter(guild.channels.values()))
    fake_discord.set_bucket("POST", MESSAGES, limit=2, per=0.2)
    async with running(_client(), fake_discord) as client:
        target = client.get_partial_messageable(channel.id)
        for i in range(5):
            await target.send(f"m{i}")
    assert len(fake_discord.messages(channel)) == 5
    assert fake_discord.count_429 == 0  # discord.py waits on the bucket headers


async def test_global_limit_answers_429_for_raw_bursts(fake_discord: FakeDiscord) -> None:
    import aiohttp

    fake_discord.ratelimits.global_limit = 5
    headers = {"Authorization": f"Bot {fake_discord.token}"}
    async with aiohttp.ClientSession() as session:
        statuses = []
        for _ in range(8):
            async with session.get(fake_discord.api_base + "/users/@me", headers=headers) as r:
                statuses.append(r.status)
                if r.status == 429:
                    body = await r.json()
                    assert body["global"] is True
                    assert r.headers["Via"] == "1.1 google"
                    assert r.headers["X-RateLimit-Scope"] == "global"
                else:
                    assert r.headers["Content-Type"] == "application/json"
                    assert "X-RateLimit-Bucket" in r.headers
    assert statuses == [200] * 5 + [429] * 3
    assert fake_discord.count_429 == 3


async def test_nonce_repeat_returns_the_first_message(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild()
    channel = next(iter(guild.channels.values()))
    async with running(_client(), fake_discord) as client:
        target = client.get_partial_messageable(channel.id)
        first = await target.send("digest part 1", nonce="d-2024-05-01-1")
        repeat = await target.send("digest part 1 again", nonce="d-2024-05-01-1")
        other = await target.send("digest part 2", nonce="d-2024-05-01-2")
    assert repeat.id == first.id
    assert other.id != first.id
    assert [m["content"] for m in fake_discord.messages(channel)] == [
        "digest part 1",
        "digest part 2",
    ]


async def test_hung_requests_wait_for_release_before_or_after_taking_effect(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild(channels=("first", "second"))
    first, second = guild.channels.values()
    async with running(_client(), fake_discord) as client:
        lost = fake_discord.fail(
            "POST", f"/channels/{first.id}/messages", status=None, hang="answer"
        )
        held = fake_discord.fail(
            "POST", f"/channels/{second.id}/messages", status=None, hang="request"
        )
        answer_lost = asyncio.create_task(
            client.get_partial_messageable(first.id).send("accepted", nonce="n-1")
        )
        not_handled = asyncio.create_task(
            client.get_partial_messageable(second.id).send("late", nonce="n-2")
        )
        await fake_discord.wait_until(lambda: lost.held == 1 and held.held == 1)
        assert [m["content"] for m in fake_discord.messages(first)] == ["accepted"]
        assert fake_discord.messages(second) == []  # not handled while it hangs
        assert not answer_lost.done()
        fake_discord.release_hung()
        accepted, late = await asyncio.wait_for(asyncio.gather(answer_lost, not_handled), 10)
    assert [int(m["id"]) for m in fake_discord.messages(first)] == [accepted.id]
    assert [int(m["id"]) for m in fake_discord.messages(second)] == [late.id]


async def test_permissions_strip_embeds_and_forbid_sending(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild()
    bot = fake_discord.bot_user
    no_embeds = fake_discord.add_channel(guild, "plain", overwrites={bot: (0, EMBED_LINKS)})
    read_only = fake_discord.add_channel(guild, "read-only", overwrites={bot: (0, SEND_MESSAGES)})
    async with running(_client(), fake_discord) as client:
        await client.get_partial_messageable(no_embeds.id).send(
            "text", embed=discord.Embed(title="gone")
        )
        with pytest.raises(discord.Forbidden) as forbidden:
            await client.get_partial_messageable(read_only.id).send("nope")
        fake_discord.fail("POST", MESSAGES, status=404)
        with pytest.raises(discord.NotFound) as missing:
            await client.get_partial_messageable(no_embeds.id).send("gone")
    assert fake_discord.messages(no_embeds)[0]["embeds"] == []
    assert forbidden.value.code == 50013
    assert missing.value.code == 10003


async def test_resume_after_dropped_connection_replays_missed_events(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    fake_discord.add_guild("first")
    late = fake_discord.add_guild("joined while disconnected")
    late.joined = False
    async with running(_client(), fake_discord) as client:
        fake_discord.hold_gateway()
        await fake_discord.drop_connection()
        await fake_discord.join(late)  # logged; the client is not connected
        fake_discord.release_gateway()
        await fake_discord.wait_until(lambda: fake_discord.resumes == 1)
        await fake_discord.wait_until(lambda: client.get_guild(late.id) is not None)
    assert fake_discord.identifies == 1
    assert sum(s.replayed for s in fake_discord.sessions.values()) == 1


async def test_invalid_session_makes_the_client_identify_again(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    fake_discord.add_guild()
    client = _client()
    client.before_identify_hook = no_identify_delay  # type: ignore[method-assign]
    async with running(client, fake_discord):
        await fake_discord.invalidate_session()
        await fake_discord.wait_until(lambda: fake_discord.identifies == 2)
        await fake_discord.wait_ready()
    assert fake_discord.resumes == 0


async def test_auto_sharded_bot_asks_gateway_bot_and_splits_guilds(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    fake_discord.shards = 2
    guilds = [fake_discord.add_guild(f"g{i}") for i in range(6)]
    bot = commands.AutoShardedBot(command_prefix=[], intents=INTENTS, guild_ready_timeout=0.05)
    bot.before_identify_hook = no_identify_delay  # type: ignore[method-assign]
    async with running(bot, fake_discord):
        assert {g.id for g in bot.guilds} == {g.id for g in guilds}
        assert bot.shard_count == 2
    assert fake_discord.requests_to("GET", "/gateway/bot")
    assert sorted(s.shard_id for s in fake_discord.sessions.values()) == [0, 1]


async def test_slash_command_deferred_reply_and_followups(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild()
    channel = next(iter(guild.channels.values()))
    reader = fake_discord.add_member(guild, "reader")
    bot = EchoBot()
    async with running(bot, fake_discord):
        await bot.tree.sync()
        handle = await fake_discord.invoke(
            guild, channel, reader, ["news", "search"], {"query": "ai", "days": 3}
        )
        callback = await handle.response()
        second = await handle.followup(2)
    assert callback["type"] == 5
    assert handle.ephemeral
    assert [m["content"] for m in handle.messages] == ["results for ai in 3 days", "second page"]
    assert second["content"] == "second page"
    assert fake_discord.messages(channel) == []  # ephemeral: nothing public
    assert fake_discord.late_acks == []


async def test_subcommand_group_channel_option_and_autocomplete(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild()
    general = next(iter(guild.channels.values()))
    news = fake_discord.add_channel(guild, "news", type=5)
    admin = fake_discord.add_admin(guild)
    bot = EchoBot()
    async with running(bot, fake_discord):
        await bot.tree.sync()
        added = await fake_discord.invoke(
            guild, general, admin, ["digest", "topics", "add"], {"topic": "AI"}
        )
        chosen = await fake_discord.invoke(
            guild, general, admin, ["digest", "channel"], {"channel": news, "per_topic": 4}
        )
        completion = await fake_discord.autocomplete(
            guild, general, admin, ["digest", "topics", "add"], {"topic": "s"}, focused="topic"
        )
        await added.response()
        await chosen.response()
        await completion.response()
    assert added.text() == "added AI"
    assert chosen.text() == "news 4 embed_links=True"
    assert [c["value"] for c in completion.choices] == ["Space", "Sports"]
    assert fake_discord.messages(general)[0]["content"] == "news 4 embed_links=True"


async def test_button_click_updates_the_message(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild()
    channel = next(iter(guild.channels.values()))
    reader = fake_discord.add_member(guild, "reader")
    stranger = fake_discord.add_member(guild, "stranger")
    bot = EchoBot()
    async with running(bot, fake_discord):
        await bot.tree.sync()
        handle = await fake_discord.invoke(guild, channel, reader, ["news", "pages"])
        await handle.response()
        assert handle.original is not None
        denied = await fake_discord.click(handle.original, "pager:next", stranger)
        await denied.response()
        pressed = await fake_discord.click(handle.original, "pager:next", reader)
        update = await pressed.response()
    assert denied.text() == "not yours"
    assert update["type"] == 7
    posted = fake_discord.messages(channel)[0]
    assert posted["content"] == "page 2"
    assert posted["components"][0]["components"][0]["disabled"] is True
    with pytest.raises(ValueError, match="disabled"):
        await fake_discord.click(posted, "pager:next", reader)


async def test_late_ack_is_detected(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    fake_discord.ack_timeout = 0.05
    fake_discord.expect_late_acks = True  # this test is about one; others fail on any
    guild = fake_discord.add_guild()
    channel = next(iter(guild.channels.values()))
    user = fake_discord.add_member(guild, "reader")
    bot = EchoBot(slow=0.2)
    async with running(bot, fake_discord):
        await bot.tree.sync()
        handle = await fake_discord.invoke(guild, channel, user, ["news", "quick"])
        await handle.wait(lambda h: bool(h.events))
        await fake_discord.wait_until(lambda: bool(bot.failures))
    assert [late.name for late in fake_discord.late_acks] == ["news quick"]
    assert isinstance(bot.failures[0], discord.NotFound)
    assert bot.failures[0].code == 10062


async def test_followup_after_token_expiry_gets_401(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    fake_discord.token_ttl = 0.05
    guild = fake_discord.add_guild()
    channel = next(iter(guild.channels.values()))
    user = fake_discord.add_member(guild, "reader")
    bot = EchoBot(slow=0.2)
    async with running(bot, fake_discord):
        await bot.tree.sync()
        handle = await fake_discord.invoke(guild, channel, user, ["news", "search"], {"query": "x"})
        await handle.response()
        await fake_discord.wait_until(lambda: any(r.status == 401 for r in fake_discord.requests))
    expired = [r for r in fake_discord.requests if r.status == 401]
    assert expired[0].template == "/webhooks/{webhook_id}/{webhook_token}"
    assert handle.followups == []


async def test_unknown_route_is_a_harness_error(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    fake_discord.add_guild()
    async with running(_client(), fake_discord) as client:
        with pytest.raises(discord.NotFound):
            await client.http.request(discord.http.Route("GET", "/no/such/route"))
    errors = fake_discord.take_errors()
    assert errors == ["unknown route: GET /no/such/route (the fake does not implement it)"]


async def test_injected_server_errors_are_retried(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild()
    channel = next(iter(guild.channels.values()))
    async with running(_client(), fake_discord) as client:
        fake_discord.fail("POST", f"/channels/{channel.id}/messages", status=403, code=50001)
        with pytest.raises(discord.Forbidden) as forbidden:
            await client.get_partial_messageable(channel.id).send("x")
        fake_discord.fail("POST", MESSAGES, status=502, times=1)
        await client.get_partial_messageable(channel.id).send("after one 502")
    assert forbidden.value.code == 50001
    assert [m["content"] for m in fake_discord.messages(channel)] == ["after one 502"]


async def test_guild_and_channel_removal_reach_the_client(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild(channels=("general", "news"))
    news = next(c for c in guild.channels.values() if c.name == "news")
    async with running(_client(), fake_discord) as client:
        await fake_discord.delete_channel(news)
        await fake_discord.wait_until(lambda: client.get_channel(news.id) is None)
        with pytest.raises(discord.NotFound):
            await client.get_partial_messageable(news.id).send("x")
        await fake_discord.remove(guild)
        await fake_discord.wait_until(lambda: client.get_guild(guild.id) is None)


async def test_gateway_frames_are_zlib_compressed_and_files_are_validated(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild()
    channel = next(iter(guild.channels.values()))
    async with running(_client(), fake_discord) as client:
        target = client.get_partial_messageable(channel.id)
        report = discord.File(io.BytesIO(b"a,b\n1,2\n"), filename="report.csv")
        await target.send("with a file", file=report)
        with pytest.raises(discord.HTTPException) as invalid:
            await target.send("x" * 2001, file=discord.File(io.BytesIO(b"x"), filename="x.txt"))
    assert fake_discord.gateway_queries[0]["compress"] == "zlib-stream"
    assert [m["content"] for m in fake_discord.messages(channel)] == ["with a file"]
    sent = fake_discord.requests_to("POST", MESSAGES)[0]
    assert sent.body["content"] == "with a file"  # the multipart payload_json
    assert invalid.value.code == 50035
    assert "content" in fake_discord.take_errors()[0]


async def test_public_defer_shows_then_fills_one_message(
    fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild()
    channel = next(iter(guild.channels.values()))
    reader = fake_discord.add_member(guild, "reader")
    bot = EchoBot()
    bot.tree.add_command(app_commands.Command(name="share", description="d", callback=_share))
    async with running(bot, fake_discord):
        await bot.tree.sync()
        handle = await fake_discord.invoke(guild, channel, reader, ["share"])
        await handle.followup(1)
        edited = await handle.edited()
    assert not handle.ephemeral
    assert [m["content"] for m in fake_discord.messages(channel)] == ["shared, edited"]
    assert edited["edited_timestamp"] is not None


async def _share(interaction: discord.Interaction) -> None:
    await interaction.response.defer(thinking=True)
    message = await interaction.followup.send("shared", wait=True)
    await interaction.edit_original_response(content=f"{message.content}, edited")
