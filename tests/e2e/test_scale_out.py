"""Several `newsbot run` processes on one PostgreSQL database, end to end on the fake Discord.

Three real processes, each owning one of three gateway shards. One of them holds the deliverer
lease and posts the digests of all 1,000 servers, due in the same minute; it is killed (or frozen,
as a machine that hung) mid-burst. Another takes over, finishes the interrupted runs with the same
nonces and delivers the rest: every server gets its digest exactly once, with no 429. The other
processes answer their shards' interactions throughout, say which process delivers, and hand
`/digest now` to it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.fleet import Stop, burst
from tests.e2e.test_delivery_faults import assert_each_got_one_digest
from tests.fake_discord import FakeDiscord
from tests.fake_discord.plugin import DiscordEndpoints

pytestmark = pytest.mark.e2e

SERVERS = 1000
SHARDS = 3


@pytest.mark.parametrize("stop", ["kill", "freeze"])
async def test_three_processes_deliver_once_and_hand_over_when_the_deliverer_stops(
    stop: Stop,
    tmp_path: Path,
    pg_database: str,
    fake_discord: FakeDiscord,
    discord_endpoints: DiscordEndpoints,
) -> None:
    async with burst(
        fake_discord,
        discord_endpoints,
        tmp_path,
        pg_database,
        servers=SERVERS,
        shards=SHARDS,
        stop=stop,
        stop_after=300,
    ) as run:
        assert run.stopped_at is not None
        assert run.dead_shard is not None
        assert run.successor_pid is not None
        assert run.successor_pid != run.first_pid, "the stopped process still holds the lease"
        assert len(run.post_times) >= SERVERS

        # each surviving process answers its own shard's servers, and says who delivers now
        survivors = [shard for shard in range(SHARDS) if shard != run.dead_shard]
        for shard in survivors:
            guild = next(g for g in run.guilds if (g.id >> 22) % SHARDS == shard)
            channel = next(iter(guild.channels.values()))
            admin = fake_discord.add_admin(guild)
            handle = await fake_discord.invoke(guild, channel, admin, ["digest", "show"])
            answer = await handle.response(within=10)
            fields = {f["name"]: f["value"] for f in answer["data"]["embeds"][0]["fields"]}
            assert f":{run.successor_pid}:" in fields["Delivered by"]

        # `/digest now` on a process that does not deliver: the deliverer runs it (here it has
        # nothing new: the channel got every article already)
        follower = next(s for s in survivors if s != run.fleet.shard_of_pid(run.successor_pid))
        guild = next(g for g in run.guilds if (g.id >> 22) % SHARDS == follower)
        channel = next(iter(guild.channels.values()))
        handle = await fake_discord.invoke(
            guild, channel, fake_discord.add_admin(guild), ["digest", "now"]
        )
        reply = await handle.followup(within=60)
        assert reply["content"].startswith("Nothing new to post"), reply["content"]

        codes = await run.fleet.stop()
        logs = run.fleet.logs()
        assert [codes[shard] for shard in survivors] == [0, 0], logs
        assert "Traceback" not in logs

    assert_each_got_one_digest(fake_discord, run.channels)
    assert fake_discord.count_429 == 0
    assert run.install.left_over() == (0, 0)
