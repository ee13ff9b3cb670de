"""Run a real discord.py client against the fake for the length of a block."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

import discord

from .server import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.asynccontextmanager
async def running(
    client: ClientT, fake: FakeDiscord, *, within: float = 10.0
) -> AsyncIterator[ClientT]:
    """Start `client` with the fake's token, wait until it is ready, close it afterwards.

    Raises the client's own exception when it dies before becoming ready (e.g. a bad token).
    """
    task = asyncio.create_task(client.start(fake.token), name="discord-client")
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=within, return_when="FIRST_COMPLETED")
        if task in done:
            task.result()  # raises what the client raised
            raise RuntimeError("the client stopped before it became ready")
        if ready not in done:
            raise TimeoutError(f"client not ready within {within}s")
        yield client
    finally:
        ready.cancel()
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, within)


async def no_identify_delay(shard_id: int | None, *, initial: bool = False) -> None:
    """Drop-in for `client.before_identify_hook`: skips discord.py's 5 s wait on re-IDENTIFY."""
    return
