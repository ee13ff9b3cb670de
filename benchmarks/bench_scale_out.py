"""Several bot processes on one PostgreSQL database: the burst and the handover.

Real `newsbot run` processes, one per gateway shard, against the fake Discord in this process
(tests/e2e/fleet.py, the harness of the end-to-end test). Every server becomes due in the same
minute once the fleet is up; the delivering process is then stopped mid-burst:
- killed (SIGKILL): a process of the same machine sees that the holder's pid is gone and its
  heartbeat silent for two beats, and takes over then;
- frozen (SIGSTOP, then killed): as a machine that hung or lost its network; the others must wait
  for its lease to expire (`cluster.lease_seconds` + one `heartbeat_seconds`: 10 s by default).

Figures: messages/s of the burst before the stop (target >= 45/s) beside one process alone on the
same database; the handover time (target <= 15 s) beside the lease bound.

    python -m benchmarks.bench_scale_out [--quick]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._fixtures import figure, spec_validators

LEASE_BOUND = 8.0 + 2.0  # the default cluster.lease_seconds + heartbeat_seconds


async def _scenario(
    *, servers: int, shards: int, stop: str | None, validate: bool
) -> dict[str, float | None]:
    from tests.e2e.fleet import burst
    from tests.fake_discord import FakeDiscord
    from tests.fake_discord.plugin import DiscordEndpoints
    from tests.pg import fresh_database

    fake = FakeDiscord(spec_validators() if validate else None)
    await fake.start()
    try:
        endpoints = DiscordEndpoints(fake.api_base, fake.gateway_url)
        with (
            tempfile.TemporaryDirectory(prefix="newsbot-bench-scale-") as tmp,
            fresh_database() as url,
        ):
            async with burst(
                fake,
                endpoints,
                Path(tmp),
                url,
                servers=servers,
                shards=shards,
                stop=stop,  # type: ignore[arg-type]  # "kill", "freeze" or None
                stop_after=servers * 3 // 10,
            ) as run:
                await run.fleet.stop()
                return {
                    "rate": run.rate_before_stop(),
                    "handover": run.handover_seconds(),
                    "posts": float(len(run.post_times)),
                    "rate_limited": float(fake.count_429),
                }
    finally:
        await fake.stop()


def _server_missing() -> str | None:
    from tests.pg import _unreachable

    return _unreachable()


def run(quick: bool) -> list[dict[str, Any]]:
    missing = _server_missing()
    if missing:
        return [figure("scale-out burst", None, "msg/s", notes=f"skipped: {missing}")]
    servers = 40 if quick else 1000
    judge = not quick
    killed = asyncio.run(_scenario(servers=servers, shards=3, stop="kill", validate=not quick))
    rows: list[dict[str, Any]] = []
    if quick:
        alone = None
        frozen = None
    else:
        alone = asyncio.run(_scenario(servers=servers, shards=1, stop=None, validate=True))
        frozen = asyncio.run(_scenario(servers=servers, shards=3, stop="freeze", validate=True))
    rate = killed["rate"] or 0.0
    base = alone["rate"] if alone else None
    rows.append(
        figure(
            f"burst, {servers} servers, 3 processes (before the kill)",
            rate,
            "msg/s",
            baseline="one process alone, same database",
            baseline_value=base,
            ratio=rate / base if base else None,
            target=">= 45 msg/s",
            met=rate >= 45 and killed["rate_limited"] == 0 if judge else None,
            notes=f"{killed['posts']:.0f} posts, {killed['rate_limited']:.0f} x 429",
        )
    )
    for label, result in (("killed", killed), ("frozen", frozen)):
        if result is None:
            continue
        handover = result["handover"]
        rows.append(
            figure(
                f"handover after the deliverer is {label} mid-burst",
                handover,
                "s",
                baseline="lease bound (lease_seconds + heartbeat_seconds)",
                baseline_value=LEASE_BOUND,
                ratio=handover / LEASE_BOUND if handover is not None else None,
                target="<= 15 s",
                met=handover is not None and handover <= 15 if judge else None,
                notes=f"{result['rate_limited']:.0f} x 429",
            )
        )
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
