"""The fake gateway: sessions, sequence numbers, replay on RESUME, optional zlib-stream frames."""

from __future__ import annotations

import asyncio
import json
import secrets
import zlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Gateway opcodes
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE = 3
RESUME = 6
RECONNECT = 7
REQUEST_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11


class Connection:
    """One websocket connection; sends JSON as text or as zlib-stream binary frames."""

    def __init__(self, ws: web.WebSocketResponse, *, compress: bool) -> None:
        self.ws = ws
        self._zlib = zlib.compressobj() if compress else None
        self._lock = asyncio.Lock()

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def send(self, payload: dict[str, Any]) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        async with self._lock:
            if self.ws.closed:
                return
            try:
                if self._zlib is None:
                    await self.ws.send_str(text)
                else:
                    data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
            except (ConnectionError, RuntimeError):
                return  # the peer went away; a RESUME replays what it missed

    async def close(self, code: int) -> None:
        await self.ws.close(code=code)


@dataclass(slots=True)
class GatewaySession:
    """An identified session: its shard, every dispatched frame (for replay) and its connection."""

    session_id: str
    shard_id: int
    shard_count: int
    intents: int
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    connection: Connection | None = None
    valid: bool = True
    resumes: int = 0
    replayed: int = 0

    @classmethod
    def create(cls, shard: tuple[int, int], intents: int) -> GatewaySession:
        return cls(secrets.token_hex(16), shard[0], shard[1], intents)

    def owns_guild(self, guild_id: int) -> bool:
        return (guild_id >> 22) % self.shard_count == self.shard_id

    async def dispatch(self, event: str, data: Any) -> None:
        """Number and log the event; send it now when connected (else it waits for RESUME)."""
        self.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.log.append(frame)
        if self.connection is not None and not self.connection.closed:
            await self.connection.send(frame)

    async def replay_after(self, seq: int) -> int:
        """Send every logged frame after `seq` on the current connection; returns how many."""
        missed = [f for f in self.log if f["s"] > seq]
        if self.connection is not None:
            for frame in missed:
                await self.connection.send(frame)
        self.replayed += len(missed)
        return len(missed)
