"""FakeDiscord: an aiohttp REST API + gateway websocket on 127.0.0.1 for the real discord.py client."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import WSMsgType, web

from . import gateway as gw
from .interactions import (
    EPHEMERAL,
    LOADING,
    InteractionHandle,
    LateAck,
)
from .ratelimit import RateLimiter
from .rest import DEFAULT_CODES, ERROR_MESSAGES, DiscordError, Handler, Request, RestRoutes
from .state import (
    DEFAULT_EVERYONE,
    MANAGE_GUILD,
    SEND_MESSAGES,
    TEXT_CHANNEL,
    VIEW_CHANNEL,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    Overwrite,
    Snowflakes,
    iso_now,
)
from .validation import SpecValidators, error_body

API_PREFIX = "/api/v10"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One REST request the client made, and what the fake answered."""

    method: str
    path: str
    template: str | None
    query: dict[str, str]
    body: Any
    at: float
    status: int = 0


Hang = Literal["request", "answer"]


@dataclass(slots=True)
class Fault:
    """An injected failure for matching requests (see FakeDiscord.fail)."""

    method: str
    route: str
    status: int | None
    times: int
    code: int | None
    message: str | None
    delay: float
    retry_after: float
    via: bool
    is_global: bool
    hang: Hang | None = None
    hits: int = 0
    held: int = 0  # requests hanging right now
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, method: str, template: str, path: str) -> bool:
        return self.hits < self.times and self.method == method and self.route in (template, path)

    async def hold(self) -> None:
        """Hang the current request until `FakeDiscord.release_hung()` (or the fake stops)."""
        self.held += 1
        try:
            await self.released.wait()
        finally:
            self.held -= 1


@dataclass(slots=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_]+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _id(value: FakeGuild | FakeChannel | FakeRole | FakeUser | FakeMember | int | str) -> int:
    if isinstance(value, FakeMember):
        return value.user.id
    if isinstance(value, int | str):
        return int(value)
    return value.id


class FakeDiscord:
    """A local Discord: state factories, REST routes, gateway sessions, interactions, faults.

    Start with `await fake.start()` (the `fake_discord` fixture does it); `api_base` and
    `gateway_url` point discord.py at it.
    """

    def __init__(
        self,
        validators: SpecValidators | None = None,
        *,
        token: str = "fake-bot-token",  # noqa: S107 - not a secret: the fake's own token
        shards: int = 1,
        ack_timeout: float = 3.0,
        token_ttl: float = 15 * 60.0,
        nonce_window: float = 5 * 60.0,
        heartbeat_interval_ms: int = 41_250,
    ) -> None:
        self.validators = validators
        self.token = token
        self.shards = shards
        self.ack_timeout = ack_timeout
        # a late (or missing) acknowledgement fails the test at teardown unless a test expects one
        self.expect_late_acks = False
        self.token_ttl = token_ttl
        self.nonce_window = nonce_window
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.ratelimits = RateLimiter()
        self.snowflakes = Snowflakes()
        self.bot_user = FakeUser(self.snowflakes.next(), "newsbot", bot=True)
        self.owner_user = FakeUser(self.snowflakes.next(), "app-owner")
        self.application_id = self.snowflakes.next()
        self.users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, FakeGuild] = {}
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []
        self.rate_limited: list[RecordedRequest] = []
        self.invalid_requests = 0
        self.interactions: list[InteractionHandle] = []
        self.gateway_ops: list[tuple[int, str]] = []  # (op, session id or "") the client sent
        self.gateway_queries: list[dict[str, str]] = []  # query of each websocket connection
        self.sessions: dict[str, gw.GatewaySession] = {}
        self._commands: dict[int | None, list[dict[str, Any]]] = {}
        self._messages: dict[int, list[dict[str, Any]]] = {}
        self._message_index: dict[int, dict[str, Any]] = {}
        self._nonces: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}
        self._by_token: dict[str, InteractionHandle] = {}
        self._faults: list[Fault] = []
        self._routes: list[Route] = []
        self._connections: set[gw.Connection] = set()
        self._changed = asyncio.Event()
        self._gateway_open = asyncio.Event()
        self._gateway_open.set()
        self._runner: web.AppRunner | None = None
        self.port = 0
        RestRoutes(self).register()

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """REST base for discord.http.Route.BASE / DISCORD_API_BASE."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Websocket URL for DiscordWebSocket.DEFAULT_GATEWAY / DISCORD_GATEWAY_URL."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/resume"

    async def start(self) -> None:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get("/gateway", self._websocket)
        app.router.add_get("/resume", self._websocket)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        for attempt in range(5):
            self.port = _free_port()
            site = web.TCPSite(self._runner, "127.0.0.1", self.port)
            try:
                await site.start()
                break
            except OSError:
                if attempt == 4:
                    raise

    async def stop(self) -> None:
        self.release_hung()
        self._gateway_open.set()
        for conn in list(self._connections):
            await conn.close(1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def error(self, message: str) -> None:
        """Record a harness error: the fixture fails the test with it at teardown."""
        self.errors.append(message)

    def take_errors(self) -> list[str]:
        """Return and clear the recorded harness errors (for tests that provoke them)."""
        errors, self.errors = self.errors, []
        return errors

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], *, within: float = 5.0) -> None:
        """Wait until `predicate()` holds (re-checked whenever the fake's state changes)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {within}s")
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
            except TimeoutError:
                continue

    # ------------------------------------------------------------------ state factories

    def add_user(self, name: str, *, bot: bool = False) -> FakeUser:
        user = FakeUser(self.snowflakes.next(), name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str = "Test Server",
        *,
        owner: FakeUser | str | None = None,
        channels: Sequence[str] = ("general",),
        bot_permissions: int | None = None,
        everyone_permissions: int = DEFAULT_EVERYONE,
        locale: str = "en-US",
    ) -> FakeGuild:
        """A server with @everyone, an owner, the bot as a member and text channels.

        The bot must also know about it: servers added before the client connects arrive in
        its GUILD_CREATEs; afterwards call `await fake.join(guild)`.
        """
        owner_user = self._user(owner if owner is not None else f"{name} owner")
        gid = self.snowflakes.next()
        guild = FakeGuild(gid, name, owner_user.id, locale=locale)
        guild.roles[gid] = FakeRole(gid, gid, "@everyone", everyone_permissions)
        guild.members[owner_user.id] = FakeMember(owner_user, gid)
        bot_member = FakeMember(self.bot_user, gid)
        guild.members[self.bot_user.id] = bot_member
        if bot_permissions is not None:
            role = self.add_role(guild, "newsbot", bot_permissions, _guild=guild)
            bot_member.roles.append(role.id)
        self.guilds[gid] = guild
        for channel_name in channels:
            self.add_channel(guild, channel_name)
        return guild

    def guild(self, guild: FakeGuild | int) -> FakeGuild:
        return self.guilds[_id(guild)]

    def add_role(
        self,
        guild: FakeGuild | int,
        name: str,
        permissions: int = 0,
        *,
        _guild: FakeGuild | None = None,
    ) -> FakeRole:
        g = _guild or self.guild(guild)
        role = FakeRole(self.snowflakes.next(), g.id, name, permissions, position=len(g.roles))
        g.roles[role.id] = role
        return role

    def add_channel(
        self,
        guild: FakeGuild | int,
        name: str,
        type: int = TEXT_CHANNEL,
        overwrites: Iterable[Overwrite] | Mapping[Any, tuple[int, int]] | None = None,
    ) -> FakeChannel:
        """A channel; overwrites as Overwrite objects or {role|user|member: (allow, deny)}."""
        g = self.guild(guild)
        items: list[Overwrite] = []
        if isinstance(overwrites, Mapping):
            for target, (allow, deny) in overwrites.items():
                kind = 0 if isinstance(target, FakeRole) else 1
                items.append(Overwrite(_id(target), kind, allow, deny))
        elif overwrites is not None:
            items.extend(overwrites)
        channel = FakeChannel(self.snowflakes.next(), g.id, name, type, len(g.channels), items)
        g.channels[channel.id] = channel
        self._messages.setdefault(channel.id, [])
        return channel

    def add_member(
        self,
        guild: FakeGuild | int,
        user: FakeUser | str,
        roles: Iterable[FakeRole | int] = (),
        *,
        owner: bool = False,
    ) -> FakeMember:
        """A member (a new user when `user` is a name); `owner=True` makes them the owner."""
        g = self.guild(guild)
        u = self._user(user)
        member = FakeMember(u, g.id, [_id(r) for r in roles])
        g.members[u.id] = member
        if owner:
            g.owner_id = u.id
        return member

    def add_admin(self, guild: FakeGuild | int, name: str = "admin") -> FakeMember:
        """A member holding a role with Manage Server (not the owner)."""
        g = self.guild(guild)
        role = next((r for r in g.roles.values() if r.name == "Manager"), None)
        if role is None:
            role = self.add_role(g, "Manager", MANAGE_GUILD)
        return self.add_member(g, name, [role])

    def channel(self, channel_id: FakeChannel | int) -> FakeChannel:
        cid = _id(channel_id)
        for g in self.guilds.values():
            if cid in g.channels:
                return g.channels[cid]
        raise KeyError(f"no channel {cid}")

    def _user(self, user: FakeUser | str) -> FakeUser:
        return user if isinstance(user, FakeUser) else self.add_user(user)

    def _find_channel(self, channel_id: int) -> tuple[FakeGuild, FakeChannel] | None:
        for g in self.guilds.values():
            ch = g.channels.get(channel_id)
            if ch is not None:
                return g, ch
        return None

    # ------------------------------------------------------------------ records

    def messages(self, channel_id: FakeChannel | int) -> list[dict[str, Any]]:
        """Every message in a channel (oldest first, edits applied; ephemeral ones excluded)."""
        return list(self._messages.get(_id(channel_id), []))

    def commands(self, guild_id: FakeGuild | int | None = None) -> list[dict[str, Any]]:
        """Registered application commands: global (None) or for one server."""
        key = None if guild_id is None else _id(guild_id)
        return list(self._commands.get(key, []))

    def requests_to(self, method: str, template: str) -> list[RecordedRequest]:
        """Recorded requests for one route template, e.g. ("POST", "/channels/{channel_id}/messages")."""
        return [r for r in self.requests if r.method == method and r.template == template]

    @property
    def count_429(self) -> int:
        return len(self.rate_limited)

    @property
    def late_acks(self) -> list[LateAck]:
        """Interactions acknowledged after `ack_timeout`, or not at all once it passed."""
        now = time.monotonic()
        late: list[LateAck] = []
        for h in self.interactions:
            if h.acked_after is not None and h.acked_after > self.ack_timeout:
                late.append(LateAck(h.id, h.name, h.acked_after))
            elif h.acked_after is None and now - h.created > self.ack_timeout:
                late.append(LateAck(h.id, h.name, None))
        return late

    # ------------------------------------------------------------------ faults and limits

    def fail(
        self,
        method: str,
        route: str,
        *,
        status: int | None = 500,
        times: int = 1,
        code: int | None = None,
        message: str | None = None,
        delay: float = 0.0,
        retry_after: float = 0.05,
        via: bool = True,
        is_global: bool = False,
        hang: Hang | None = None,
    ) -> Fault:
        """Make the next `times` matching requests fail.

        `route` is a template ("/channels/{channel_id}/messages") or a concrete path.
        `status=None` with `delay` only delays (a timeout); 429 answers carry `retry_after` and
        the `Via` header unless `via=False` (discord.py retries only with Via).
        `hang` (with `status=None`) holds each request without an answer until
        `release_hung()`: "request" before Discord handles it (it has no effect until released),
        "answer" after (a message is created; only its answer is held, as when the answer is
        lost). `fault.held` counts the requests hanging now.
        """
        fault = Fault(
            method.upper(),
            route,
            status,
            times,
            code,
            message,
            delay,
            retry_after,
            via,
            is_global,
            hang,
        )
        self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Forget every fault not used up yet (requests already hanging keep hanging)."""
        self._faults = [f for f in self._faults if f.held]
        for fault in self._faults:
            fault.times = fault.hits

    def release_hung(self) -> None:
        """Let every hanging request go on (its client may have given up or died meanwhile)."""
        for fault in self._faults:
            fault.released.set()

    def set_bucket(self, method: str, template: str, *, limit: int, per: float) -> None:
        self.ratelimits.set_bucket(method.upper(), template, limit=limit, per=per)

    # ------------------------------------------------------------------ REST plumbing

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._routes.append(Route(method, template, _compile(template), handler))
            return handler

        return register

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for r in self._routes:
            if r.method != method:
                continue
            m = r.pattern.match(path)
            if m is not None:
                return r, m.groupdict()
        return None

    def _json(
        self, status: int, body: Any, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        if status == 204 or body is None:
            return web.Response(status=204, headers=headers)
        data = json.dumps(body, separators=(",", ":")).encode()
        all_headers = {"Content-Type": JSON, **(headers or {})}
        return web.Response(status=status, body=data, headers=all_headers)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[str]]:
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            form = await request.post()
            files = [k for k in form if k != "payload_json"]
            raw = form.get("payload_json")
            return (json.loads(str(raw)) if raw is not None else None), files
        raw_bytes = await request.read()
        if not raw_bytes:
            return None, []
        return json.loads(raw_bytes), []

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        method = request.method
        full = request.path
        query = dict(request.query)
        now = time.monotonic()
        if not full.startswith(API_PREFIX + "/"):
            self.error(f"request outside the API: {method} {full}")
            return self._json(404, {"message": "404: Not Found", "code": 0})
        path = full[len(API_PREFIX) :]
        try:
            body, files = await self._read_body(request)
        except (ValueError, UnicodeDecodeError):
            self.error(f"invalid JSON body: {method} {path}")
            self.requests.append(RecordedRequest(method, path, None, query, None, now, 400))
            return self._json(400, {"message": ERROR_MESSAGES[50109], "code": 50109})
        found = self._match(method, path)
        if found is None:
            self.error(f"unknown route: {method} {path} (the fake does not implement it)")
            self.requests.append(RecordedRequest(method, path, None, query, body, now, 404))
            return self._json(404, {"message": "404: Not Found", "code": 0})
        route, params = found
        status, answer, headers = await self._handle(
            route, Request(method, path, route.template, params, query, body, files), request
        )
        record = RecordedRequest(method, path, route.template, query, body, now, status)
        self.requests.append(record)
        if status == 429:
            self.rate_limited.append(record)
        if status in (401, 403, 429):
            self.invalid_requests += 1
        self._notify()
        return self._json(status, answer, headers)

    async def _handle(
        self, route: Route, req: Request, raw: web.Request
    ) -> tuple[int, Any, dict[str, str]]:
        token_in_url = req.template.startswith(("/webhooks/", "/interactions/"))
        if not token_in_url and raw.headers.get("Authorization") != f"Bot {self.token}":
            return 401, {"message": "401: Unauthorized", "code": 0}, {}
        hang_answer: Fault | None = None
        for fault in self._faults:
            if fault.matches(req.method, req.template, req.path):
                fault.hits += 1
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.status is not None:
                    return self._fault_answer(fault)
                if fault.hang == "request":
                    await fault.hold()
                elif fault.hang == "answer":
                    hang_answer = fault
                break
        verdict = self.ratelimits.check(
            req.method, req.template, req.params, global_exempt=token_in_url
        )
        if verdict.limited:
            headers = {
                **verdict.headers,
                "Retry-After": str(max(1, round(verdict.retry_after))),
                "Via": "1.1 google",
                "X-RateLimit-Scope": "global" if verdict.is_global else "user",
            }
            body = {
                "message": "You are being rate limited.",
                "retry_after": round(verdict.retry_after, 3),
                "global": verdict.is_global,
                "code": 0,
            }
            return 429, body, headers
        if req.body is not None and self.validators is not None:
            problems = self.validators.check(req.method, req.template, req.body)
            if problems:
                shown = "; ".join(
                    f"{'.'.join(map(str, p.path)) or '<body>'}: {p.message}" for p in problems[:5]
                )
                self.error(f"invalid body for {req.method} {req.template}: {shown}")
                return 400, error_body(problems), verdict.headers
        try:
            status, answer = await route.handler(req)
        except DiscordError as exc:
            status, answer = exc.status, {"message": exc.message, "code": exc.code}
        if hang_answer is not None:
            self._notify()  # the request took effect: waiters may look at it
            await hang_answer.hold()
        return status, answer, verdict.headers

    def _fault_answer(self, fault: Fault) -> tuple[int, Any, dict[str, str]]:
        status = fault.status or 500
        if status == 429:
            headers = {
                "Retry-After": str(max(1, round(fault.retry_after))),
                "X-RateLimit-Scope": "global" if fault.is_global else "user",
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
                "X-RateLimit-Reset": f"{time.time() + fault.retry_after:.3f}",
            }
            if fault.via:
                headers["Via"] = "1.1 google"
            limited = {
                "message": fault.message or "You are being rate limited.",
                "retry_after": fault.retry_after,
                "global": fault.is_global,
                "code": 0,
            }
            return 429, limited, headers
        code = fault.code if fault.code is not None else DEFAULT_CODES.get(status, 0)
        text = fault.message or ERROR_MESSAGES.get(code) or f"{status}: Server Error"
        body: dict[str, Any] = {"message": text, "code": code}
        if code == 50035:
            body["errors"] = {}
        return status, body, {}

    # ------------------------------------------------------------------ gateway

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self.gateway_queries.append(dict(request.query))
        compress = request.query.get("compress") == "zlib-stream"
        conn = gw.Connection(ws, compress=compress)
        self._connections.add(conn)
        session: gw.GatewaySession | None = None
        await self._gateway_open.wait()
        hello = {"op": gw.HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
        await conn.send(hello)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                session = await self._gateway_op(conn, session, frame)
        finally:
            self._connections.discard(conn)
            if session is not None and session.connection is conn:
                session.connection = None
            self._notify()
        return ws

    async def _gateway_op(
        self, conn: gw.Connection, session: gw.GatewaySession | None, frame: dict[str, Any]
    ) -> gw.GatewaySession | None:
        op = frame.get("op")
        raw = frame.get("d")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        self.gateway_ops.append((int(op or 0), session.session_id if session else ""))
        if op == gw.HEARTBEAT:
            await conn.send({"op": gw.HEARTBEAT_ACK})
        elif op == gw.IDENTIFY:
            if data.get("token") != self.token:
                await conn.close(4004)
                return None
            shard = tuple(data.get("shard") or (0, 1))
            session = gw.GatewaySession.create((shard[0], shard[1]), int(data.get("intents", 0)))
            session.connection = conn
            self.sessions[session.session_id] = session
            await self._send_ready(session)
        elif op == gw.RESUME:
            old = self.sessions.get(str(data.get("session_id")))
            if old is None or not old.valid or data.get("token") != self.token:
                await conn.send({"op": gw.INVALID_SESSION, "d": False})
                return None
            old.connection = conn
            old.resumes += 1
            await old.replay_after(int(data.get("seq") or 0))
            await old.dispatch("RESUMED", {"_trace": ["fake-discord"]})
            session = old
        elif op == gw.REQUEST_MEMBERS:
            await self._members_chunk(session, data)
        self._notify()
        return session

    async def _send_ready(self, session: gw.GatewaySession) -> None:
        mine = [g for g in self.guilds.values() if g.joined and session.owns_guild(g.id)]
        ready = {
            "v": 10,
            "user": {**self.bot_user.to_dict(), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in mine],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "shard": [session.shard_id, session.shard_count],
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "_trace": ["fake-discord"],
        }
        await session.dispatch("READY", ready)
        for g in mine:
            await session.dispatch("GUILD_CREATE", g.create_payload())

    async def _members_chunk(self, session: gw.GatewaySession | None, data: Any) -> None:
        if session is None or not isinstance(data, dict):
            return
        guild = self.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        chunk = {
            "guild_id": str(guild.id),
            "members": [m.to_dict() for m in guild.members.values()],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    def _live_sessions(self) -> list[gw.GatewaySession]:
        return [s for s in self.sessions.values() if s.valid]

    def _session_for(self, guild_id: int | None) -> list[gw.GatewaySession]:
        sessions = self._live_sessions()
        if guild_id is None:
            return sessions
        return [s for s in sessions if s.owns_guild(guild_id)]

    @property
    def ready(self) -> bool:
        """Whether every shard has an identified session with a live connection."""
        shards = {
            s.shard_id
            for s in self._live_sessions()
            if s.connection is not None and not s.connection.closed
        }
        return len(shards) >= self.shards

    async def wait_ready(self, *, within: float = 5.0) -> None:
        """Wait until each shard identified (READY and GUILD_CREATEs sent)."""
        await self.wait_until(lambda: self.ready, within=within)

    async def dispatch(self, event: str, data: Any, *, guild_id: int | None = None) -> None:
        """Send a gateway event to the session(s) owning `guild_id` (every session when None)."""
        for s in self._session_for(guild_id):
            await s.dispatch(event, data)

    async def join(self, guild: FakeGuild | int) -> None:
        """The bot was added to a server: GUILD_CREATE without `unavailable`.

        (`unavailable: false` means a known server recovering from an outage, not a join.)
        """
        g = self.guild(guild)
        g.joined = True
        payload = g.create_payload()
        payload.pop("unavailable", None)
        await self.dispatch("GUILD_CREATE", payload, guild_id=g.id)

    async def remove(self, guild: FakeGuild | int) -> None:
        """The bot was removed from a server: GUILD_DELETE (without `unavailable`)."""
        g = self.guild(guild)
        g.joined = False
        await self.dispatch("GUILD_DELETE", {"id": str(g.id)}, guild_id=g.id)

    async def delete_channel(self, channel: FakeChannel | int) -> None:
        """A channel was deleted: CHANNEL_DELETE; later requests to it get 10003."""
        ch = self.channel(channel)
        del self.guilds[ch.guild_id].channels[ch.id]
        await self.dispatch("CHANNEL_DELETE", ch.to_dict(), guild_id=ch.guild_id)

    async def drop_connection(self, *, shard_id: int | None = None, code: int = 4000) -> None:
        """Close the websocket(s) abruptly; the sessions stay resumable."""
        for s in self._live_sessions():
            if (shard_id is None or s.shard_id == shard_id) and s.connection is not None:
                conn, s.connection = s.connection, None
                await conn.close(code)

    async def invalidate_session(
        self, *, shard_id: int | None = None, resumable: bool = False
    ) -> None:
        """Send INVALID_SESSION; unless resumable, the session can no longer be resumed."""
        for s in self._live_sessions():
            if (shard_id is None or s.shard_id == shard_id) and s.connection is not None:
                if not resumable:
                    s.valid = False
                await s.connection.send({"op": gw.INVALID_SESSION, "d": resumable})

    def hold_gateway(self) -> None:
        """New gateway connections wait before HELLO until `release_gateway()`."""
        self._gateway_open.clear()

    def release_gateway(self) -> None:
        self._gateway_open.set()

    @property
    def resumes(self) -> int:
        return sum(s.resumes for s in self.sessions.values())

    @property
    def identifies(self) -> int:
        return sum(1 for op, _ in self.gateway_ops if op == gw.IDENTIFY)

    # ------------------------------------------------------------------ interactions

    async def invoke(
        self,
        guild_id: FakeGuild | int,
        channel_id: FakeChannel | int,
        user_id: FakeUser | FakeMember | int,
        command: Sequence[str],
        options: Mapping[str, Any] | None = None,
        *,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Send a slash command (["news", "search"], {"query": "ai"}) as INTERACTION_CREATE."""
        data = self._command_data(_id(guild_id), command, options or {}, focused=None)
        return await self._interact(
            2, _id(guild_id), _id(channel_id), _id(user_id), data, " ".join(command), locale
        )

    async def autocomplete(
        self,
        guild_id: FakeGuild | int,
        channel_id: FakeChannel | int,
        user_id: FakeUser | FakeMember | int,
        command: Sequence[str],
        options: Mapping[str, Any],
        *,
        focused: str,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """An autocomplete request (interaction type 4) with `focused` as the typed option."""
        data = self._command_data(_id(guild_id), command, options, focused=focused)
        name = " ".join(command) + f" [{focused}]"
        return await self._interact(
            4, _id(guild_id), _id(channel_id), _id(user_id), data, name, locale
        )

    async def click(
        self,
        message: Mapping[str, Any],
        custom_id: str,
        user_id: FakeUser | FakeMember | int,
        *,
        values: Sequence[str] | None = None,
    ) -> InteractionHandle:
        """Press a button (or pick in a select menu) on a message the bot sent."""
        stored = self._message_index.get(int(message["id"]), dict(message))
        component = _find_component(stored.get("components") or [], custom_id)
        if component is None:
            raise ValueError(f"no component {custom_id!r} on message {message['id']}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled: a user cannot press it")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if values is not None:
            data["values"] = list(values)
        channel_id = int(stored["channel_id"])
        found = self._find_channel(channel_id)
        if found is None:
            raise ValueError(f"message {message['id']} is in an unknown channel")
        guild, _ = found
        return await self._interact(
            3,
            guild.id,
            channel_id,
            _id(user_id),
            data,
            f"click {custom_id}",
            "en-US",
            source=stored,
        )

    def _registered(self, guild_id: int, name: str) -> dict[str, Any] | None:
        for cmd in self._commands.get(guild_id, []) + self._commands.get(None, []):
            if cmd["name"] == name and cmd.get("type", 1) == 1:
                return cmd
        return None

    def _command_data(
        self,
        guild_id: int,
        command: Sequence[str],
        options: Mapping[str, Any],
        *,
        focused: str | None,
    ) -> dict[str, Any]:
        if not command:
            raise ValueError("command path is empty")
        guild = self.guild(guild_id)
        registered = self._registered(guild_id, command[0])
        spec_options = registered.get("options", []) if registered else []
        for part in command[1:]:
            sub = next((o for o in spec_options if o.get("name") == part), None)
            spec_options = sub.get("options", []) if sub else []
        resolved: dict[str, dict[str, Any]] = {}
        leaf: list[dict[str, Any]] = []
        for name, value in options.items():
            declared = next((o for o in spec_options if o.get("name") == name), None)
            opt_type = _option_type(value, declared)
            option: dict[str, Any] = {"name": name, "type": opt_type}
            option["value"] = self._option_value(guild, opt_type, value, resolved)
            if focused == name:
                option["focused"] = True
                option["value"] = str(value)
            leaf.append(option)
        nested: list[dict[str, Any]] = leaf
        for depth in range(len(command) - 1, 0, -1):
            kind = 1 if depth == len(command) - 1 else 2  # SUB_COMMAND, SUB_COMMAND_GROUP
            nested = [{"name": command[depth], "type": kind, "options": nested}]
        cmd_id = registered["id"] if registered else str(self.snowflakes.next())
        data: dict[str, Any] = {"id": cmd_id, "name": command[0], "type": 1, "options": nested}
        if registered and registered.get("guild_id"):
            data["guild_id"] = registered["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    def _option_value(
        self, guild: FakeGuild, opt_type: int, value: Any, resolved: dict[str, dict[str, Any]]
    ) -> Any:
        if opt_type == 7:  # CHANNEL
            ch = guild.channels[_id(value)]
            entry = ch.to_dict()
            entry["permissions"] = str(guild.permissions_in(self.bot_user.id, ch.id))
            resolved.setdefault("channels", {})[str(ch.id)] = entry
            return str(ch.id)
        if opt_type == 6:  # USER
            uid = _id(value)
            resolved.setdefault("users", {})[str(uid)] = self.users[uid].to_dict()
            if uid in guild.members:
                member = guild.member_payload(uid)
                member.pop("user", None)
                resolved.setdefault("members", {})[str(uid)] = member
            return str(uid)
        if opt_type == 8:  # ROLE
            role = guild.roles[_id(value)]
            resolved.setdefault("roles", {})[str(role.id)] = role.to_dict()
            return str(role.id)
        return value

    async def _interact(
        self,
        kind: int,
        guild_id: int,
        channel_id: int,
        user_id: int,
        data: dict[str, Any],
        name: str,
        locale: str,
        *,
        source: dict[str, Any] | None = None,
    ) -> InteractionHandle:
        guild = self.guild(guild_id)
        if user_id not in guild.members:
            raise ValueError(f"user {user_id} is not a member of {guild.name!r}")
        channel = guild.channels.get(channel_id)
        if channel is None:
            raise ValueError(f"no channel {channel_id} in {guild.name!r}")
        interaction_id = self.snowflakes.next()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        channel_payload = channel.to_dict()
        channel_payload["permissions"] = str(guild.permissions_in(user_id, channel_id))
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "guild": {"id": str(guild.id), "locale": guild.locale, "features": []},
            "guild_id": str(guild.id),
            "channel": channel_payload,
            "channel_id": str(channel_id),
            "member": guild.member_payload(user_id, channel_id=channel_id),
            "token": token,
            "version": 1,
            "app_permissions": str(guild.permissions_in(self.bot_user.id, channel_id)),
            "locale": locale,
            "guild_locale": guild.locale,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if source is not None:
            payload["message"] = source
        handle = InteractionHandle(
            interaction_id, token, name, payload, guild.id, channel_id, user_id
        )
        handle.source_message = source
        sessions = self._session_for(guild.id)
        if not sessions:
            raise RuntimeError("no gateway session owns this server: is the client connected?")
        self.interactions.append(handle)
        self._by_token[token] = handle
        for s in sessions:
            await s.dispatch("INTERACTION_CREATE", payload)
        return handle

    # ------------------------------------------------------------------ messages

    def _new_message(
        self,
        channel_id: int,
        body: Mapping[str, Any],
        *,
        guild_id: int | None,
        interaction: InteractionHandle | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": str(self.snowflakes.next()),
            "channel_id": str(channel_id),
            "author": self.bot_user.to_dict(),
            "content": body.get("content") or "",
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "mention_channels": [],
            "attachments": [],
            "embeds": list(body.get("embeds") or []),
            "components": list(body.get("components") or []),
            "reactions": [],
            "pinned": False,
            "type": 0,
            "flags": int(body.get("flags") or 0),
        }
        if guild_id is not None:
            message["guild_id"] = str(guild_id)
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        if interaction is not None:
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
            message["type"] = 20
            message["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.payload["type"],
                "user": self.users[interaction.user_id].to_dict(),
                "authorizing_integration_owners": {"0": str(interaction.guild_id)},
            }
        self._message_index[int(message["id"])] = message
        return message

    def _post(self, message: dict[str, Any]) -> None:
        if not int(message.get("flags", 0)) & EPHEMERAL:
            self._messages.setdefault(int(message["channel_id"]), []).append(message)

    def _edit(self, message: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        for key in ("content", "embeds", "components", "attachments"):
            if key in body:
                message[key] = (
                    body[key] if body[key] is not None else ([] if key != "content" else "")
                )
        if body.get("flags") is not None:
            message["flags"] = (int(message.get("flags", 0)) & EPHEMERAL) | int(body["flags"])
        message["flags"] = int(message.get("flags", 0)) & ~LOADING
        message["edited_timestamp"] = iso_now()
        return message

    def _delete(self, message: dict[str, Any]) -> None:
        mid = int(message["id"])
        self._message_index.pop(mid, None)
        channel = self._messages.get(int(message["channel_id"]), [])
        channel[:] = [m for m in channel if int(m["id"]) != mid]

    def _channel_access(
        self, channel_id: int, *, send: bool = False
    ) -> tuple[FakeGuild, FakeChannel]:
        found = self._find_channel(channel_id)
        if found is None:
            raise DiscordError(404, 10003)
        guild, channel = found
        if not guild.joined:
            raise DiscordError(403, 50001)
        perms = guild.permissions_in(self.bot_user.id, channel.id)
        if not perms & VIEW_CHANNEL:
            raise DiscordError(403, 50001)
        if send and not perms & SEND_MESSAGES:
            raise DiscordError(403, 50013)
        return guild, channel


def _find_component(
    components: Sequence[Mapping[str, Any]], custom_id: str
) -> Mapping[str, Any] | None:
    for comp in components:
        if comp.get("custom_id") == custom_id:
            return comp
        inner = comp.get("components")
        if isinstance(inner, list):
            found = _find_component(inner, custom_id)
            if found is not None:
                return found
    return None


def _option_type(value: Any, declared: Mapping[str, Any] | None) -> int:
    if declared is not None and "type" in declared:
        return int(declared["type"])
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    if isinstance(value, FakeChannel):
        return 7
    if isinstance(value, FakeRole):
        return 8
    if isinstance(value, FakeUser | FakeMember):
        return 6
    return 3
