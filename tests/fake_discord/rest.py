"""The fake's REST routes: users, application, commands, channels, messages, interactions."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .interactions import (
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    EPHEMERAL,
    LOADING,
    UPDATE_MESSAGE,
    InteractionHandle,
)
from .state import EMBED_LINKS, FakeGuild

if TYPE_CHECKING:
    from .server import FakeDiscord

#: Messages for error codes the fake answers with.
ERROR_MESSAGES = {
    0: "General error",
    10003: "Unknown Channel",
    10004: "Unknown Guild",
    10008: "Unknown Message",
    10015: "Unknown Webhook",
    10062: "Unknown interaction",
    40060: "Interaction has already been acknowledged.",
    50001: "Missing Access",
    50006: "Cannot send an empty message",
    50013: "Missing Permissions",
    50027: "Invalid Webhook Token",
    50035: "Invalid Form Body",
    50109: "The request body contains invalid JSON.",
}
DEFAULT_CODES = {400: 50035, 403: 50013, 404: 10003, 401: 0}


class DiscordError(Exception):
    """Raised by a route handler to answer with Discord's error body."""

    def __init__(self, status: int, code: int, message: str | None = None) -> None:
        super().__init__(status, code)
        self.status = status
        self.code = code
        self.message = message or ERROR_MESSAGES.get(code, f"{status}: error")


@dataclass(slots=True)
class Request:
    """What a route handler sees."""

    method: str
    path: str
    template: str
    params: dict[str, str]
    query: Mapping[str, str]
    body: Any
    files: list[str] = field(default_factory=list)


Handler = Callable[[Request], Awaitable[tuple[int, Any]]]


class RestRoutes:
    """Route handlers over a FakeDiscord's state (registered once, at construction)."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    def register(self) -> None:
        """Add every REST route to the fake."""
        r = self.fake.route

        @r("GET", "/users/@me")
        async def me(req: Request) -> tuple[int, Any]:
            return 200, {**self.fake.bot_user.to_dict(), "verified": True, "mfa_enabled": False}

        @r("GET", "/oauth2/applications/@me")
        async def application(req: Request) -> tuple[int, Any]:
            return 200, self._application()

        @r("GET", "/applications/@me")
        async def application2(req: Request) -> tuple[int, Any]:
            return 200, self._application()

        @r("GET", "/gateway")
        async def gateway(req: Request) -> tuple[int, Any]:
            return 200, {"url": self.fake.gateway_url}

        @r("GET", "/gateway/bot")
        async def gateway_bot(req: Request) -> tuple[int, Any]:
            limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000}
            return 200, {
                "url": self.fake.gateway_url,
                "shards": self.fake.shards,
                "session_start_limit": {**limit, "max_concurrency": 1},
            }

        @r("GET", "/applications/{application_id}/commands")
        async def get_global(req: Request) -> tuple[int, Any]:
            self._check_app(req)
            return 200, self.fake.commands()

        @r("PUT", "/applications/{application_id}/commands")
        async def put_global(req: Request) -> tuple[int, Any]:
            self._check_app(req)
            return 200, self._store_commands(None, req.body or [])

        @r("POST", "/applications/{application_id}/commands")
        async def post_global(req: Request) -> tuple[int, Any]:
            self._check_app(req)
            return 201, self._upsert_command(None, req.body or {})

        @r("GET", "/applications/{application_id}/guilds/{guild_id}/commands")
        async def get_guild(req: Request) -> tuple[int, Any]:
            self._check_app(req)
            return 200, self.fake.commands(self._guild_or_404(req).id)

        @r("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
        async def put_guild(req: Request) -> tuple[int, Any]:
            self._check_app(req)
            return 200, self._store_commands(self._guild_or_404(req).id, req.body or [])

        @r("POST", "/applications/{application_id}/guilds/{guild_id}/commands")
        async def post_guild(req: Request) -> tuple[int, Any]:
            self._check_app(req)
            return 201, self._upsert_command(self._guild_or_404(req).id, req.body or {})

        @r("GET", "/channels/{channel_id}")
        async def get_channel(req: Request) -> tuple[int, Any]:
            _, channel = self.fake._channel_access(int(req.params["channel_id"]))
            return 200, channel.to_dict()

        @r("POST", "/channels/{channel_id}/messages")
        async def create_message(req: Request) -> tuple[int, Any]:
            return 200, self._create_message(int(req.params["channel_id"]), req.body or {}, req)

        @r("GET", "/channels/{channel_id}/messages")
        async def history(req: Request) -> tuple[int, Any]:
            cid = int(req.params["channel_id"])
            self.fake._channel_access(cid)
            limit = int(req.query.get("limit", "50"))
            return 200, list(reversed(self.fake._messages.get(cid, [])))[:limit]

        @r("GET", "/channels/{channel_id}/messages/{message_id}")
        async def get_message(req: Request) -> tuple[int, Any]:
            self.fake._channel_access(int(req.params["channel_id"]))
            return 200, self._channel_message(req)

        @r("PATCH", "/channels/{channel_id}/messages/{message_id}")
        async def edit_message(req: Request) -> tuple[int, Any]:
            self.fake._channel_access(int(req.params["channel_id"]))
            return 200, self.fake._edit(self._channel_message(req), req.body or {})

        @r("DELETE", "/channels/{channel_id}/messages/{message_id}")
        async def delete_message(req: Request) -> tuple[int, Any]:
            self.fake._channel_access(int(req.params["channel_id"]))
            self.fake._delete(self._channel_message(req))
            return 204, None

        @r("GET", "/guilds/{guild_id}")
        async def get_guild_obj(req: Request) -> tuple[int, Any]:
            guild = self._guild_or_404(req)
            return 200, {**guild.to_dict(), "approximate_member_count": len(guild.members)}

        @r("GET", "/guilds/{guild_id}/channels")
        async def get_guild_channels(req: Request) -> tuple[int, Any]:
            guild = self._guild_or_404(req)
            return 200, [c.to_dict() for c in guild.channels.values()]

        @r("GET", "/guilds/{guild_id}/roles")
        async def get_roles(req: Request) -> tuple[int, Any]:
            return 200, [role.to_dict() for role in self._guild_or_404(req).roles.values()]

        @r("GET", "/guilds/{guild_id}/members/{user_id}")
        async def get_member(req: Request) -> tuple[int, Any]:
            guild = self._guild_or_404(req)
            uid = int(req.params["user_id"])
            if uid not in guild.members:
                raise DiscordError(404, 10007, "Unknown Member")
            return 200, guild.member_payload(uid)

        @r("DELETE", "/users/@me/guilds/{guild_id}")
        async def leave_guild(req: Request) -> tuple[int, Any]:
            guild = self._guild_or_404(req)
            await self.fake.remove(guild)
            return 204, None

        @r("POST", "/interactions/{interaction_id}/{interaction_token}/callback")
        async def callback(req: Request) -> tuple[int, Any]:
            return await self._callback(req)

        @r("POST", "/webhooks/{webhook_id}/{webhook_token}")
        async def followup(req: Request) -> tuple[int, Any]:
            return self._followup(req)

        for suffix in ("@original", "{message_id}"):
            path = "/webhooks/{webhook_id}/{webhook_token}/messages/" + suffix

            @r("GET", path)
            async def get_webhook_message(req: Request) -> tuple[int, Any]:
                _, message = self._webhook_message(req)
                return 200, message

            @r("PATCH", path)
            async def edit_webhook_message(req: Request) -> tuple[int, Any]:
                handle, message = self._webhook_message(req)
                self.fake._edit(message, req.body or {})
                handle.record("edit", message)
                return 200, message

            @r("DELETE", path)
            async def delete_webhook_message(req: Request) -> tuple[int, Any]:
                handle, message = self._webhook_message(req)
                self.fake._delete(message)
                handle.record("delete", message)
                if message is handle.original:
                    handle.original = None
                return 204, None

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.fake.application_id),
            "name": "newsbot",
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self.fake.owner_user.to_dict(),
            "team": None,
            "flags": 0,
            "rpc_origins": [],
            "redirect_uris": [],
            "tags": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "approximate_guild_count": len(self.fake.guilds),
            "bot": self.fake.bot_user.to_dict(),
        }

    def _check_app(self, req: Request) -> None:
        if int(req.params["application_id"]) != self.fake.application_id:
            raise DiscordError(403, 50001)

    def _guild_or_404(self, req: Request) -> FakeGuild:
        guild = self.fake.guilds.get(int(req.params["guild_id"]))
        if guild is None:
            raise DiscordError(404, 10004)
        if not guild.joined:
            raise DiscordError(403, 50001)
        return guild

    def _command(
        self, guild_id: int | None, body: Mapping[str, Any], old_id: str | None
    ) -> dict[str, Any]:
        cmd = {
            "type": 1,
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "dm_permission": True,
            "nsfw": False,
            "contexts": None,
            "integration_types": [0],
            **body,
            "id": old_id or str(self.fake.snowflakes.next()),
            "application_id": str(self.fake.application_id),
            "version": str(self.fake.snowflakes.next()),
        }
        if guild_id is not None:
            cmd["guild_id"] = str(guild_id)
        return cmd

    def _store_commands(
        self, guild_id: int | None, body: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        old = {
            (c["name"], c.get("type", 1)): c["id"] for c in self.fake._commands.get(guild_id, [])
        }
        stored = [self._command(guild_id, c, old.get((c["name"], c.get("type", 1)))) for c in body]
        self.fake._commands[guild_id] = stored
        return stored

    def _upsert_command(self, guild_id: int | None, body: Mapping[str, Any]) -> dict[str, Any]:
        current = self.fake._commands.setdefault(guild_id, [])
        key = (body.get("name"), body.get("type", 1))
        same = [c for c in current if (c["name"], c.get("type", 1)) == key]
        cmd = self._command(guild_id, body, same[0]["id"] if same else None)
        current[:] = [c for c in current if (c["name"], c.get("type", 1)) != key] + [cmd]
        return cmd

    def _create_message(
        self, channel_id: int, body: Mapping[str, Any], req: Request
    ) -> dict[str, Any]:
        guild, channel = self.fake._channel_access(channel_id, send=True)
        nonce = body.get("nonce")
        key = (channel_id, str(nonce))
        if nonce is not None and body.get("enforce_nonce"):
            seen = self.fake._nonces.get(key)
            if seen is not None and time.monotonic() - seen[0] <= self.fake.nonce_window:
                return seen[1]
        payload = dict(body)
        perms = guild.permissions_in(self.fake.bot_user.id, channel.id)
        if not perms & EMBED_LINKS:
            payload["embeds"] = []
        has_content = any(
            payload.get(k) for k in ("content", "embeds", "components", "sticker_ids", "poll")
        )
        if not has_content and not req.files:
            raise DiscordError(400, 50006)
        message = self.fake._new_message(channel_id, payload, guild_id=guild.id)
        self.fake._post(message)
        if nonce is not None and body.get("enforce_nonce"):
            self.fake._nonces[key] = (time.monotonic(), message)
        return message

    def _channel_message(self, req: Request) -> dict[str, Any]:
        message = self.fake._message_index.get(int(req.params["message_id"]))
        if message is None or message["channel_id"] != req.params["channel_id"]:
            raise DiscordError(404, 10008)
        return message

    async def _callback(self, req: Request) -> tuple[int, Any]:
        handle = self.fake._by_token.get(req.params["interaction_token"])
        if handle is None or str(handle.id) != req.params["interaction_id"]:
            raise DiscordError(404, 10062)
        if handle.callback is not None:
            raise DiscordError(400, 40060)
        elapsed = time.monotonic() - handle.created
        body = req.body or {}
        if elapsed > self.fake.ack_timeout:
            handle.acked_after = elapsed
            handle.record("late-callback", body)
            raise DiscordError(404, 10062)
        handle.acked_after = elapsed
        handle.callback = body
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        message: dict[str, Any] | None = None
        if kind == CHANNEL_MESSAGE:
            message = self.fake._new_message(
                handle.channel_id, data, guild_id=handle.guild_id, interaction=handle
            )
            self.fake._post(message)
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            flags = LOADING | (int(data.get("flags", 0)) & EPHEMERAL)
            message = self.fake._new_message(
                handle.channel_id, {"flags": flags}, guild_id=handle.guild_id, interaction=handle
            )
            self.fake._post(message)  # "newsbot is thinking..." is visible unless ephemeral
        elif kind == UPDATE_MESSAGE and handle.source_message is not None:
            message = self.fake._edit(handle.source_message, data)
        elif kind == DEFERRED_UPDATE_MESSAGE:
            message = handle.source_message
        handle.original = message
        handle.record("callback", body)
        self.fake._notify()
        info: dict[str, Any] = {
            "id": str(handle.id),
            "type": handle.payload["type"],
            "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
            "response_message_ephemeral": bool(
                message is not None and int(message.get("flags", 0)) & EPHEMERAL
            ),
        }
        if message is not None and kind not in (AUTOCOMPLETE_RESULT,):
            info["response_message_id"] = message["id"]
        answer: dict[str, Any] = {"interaction": info}
        if message is not None and kind in (
            CHANNEL_MESSAGE,
            DEFERRED_CHANNEL_MESSAGE,
            UPDATE_MESSAGE,
        ):
            answer["resource"] = {"type": kind, "message": message}
        return 200, answer

    def _webhook_handle(self, req: Request) -> InteractionHandle:
        if int(req.params["webhook_id"]) != self.fake.application_id:
            raise DiscordError(404, 10015)
        handle = self.fake._by_token.get(req.params["webhook_token"])
        if handle is None or handle.callback is None:
            raise DiscordError(404, 10015)
        if time.monotonic() - handle.created > self.fake.token_ttl:
            raise DiscordError(401, 50027)
        return handle

    def _followup(self, req: Request) -> tuple[int, Any]:
        handle = self._webhook_handle(req)
        body = req.body or {}
        original = handle.original
        if (
            handle.response_type == DEFERRED_CHANNEL_MESSAGE
            and original is not None
            and int(original.get("flags", 0)) & LOADING
        ):
            message = self.fake._edit(original, body)
        else:
            flags = int(body.get("flags") or 0)
            message = self.fake._new_message(
                handle.channel_id,
                {**body, "flags": flags},
                guild_id=handle.guild_id,
                interaction=handle,
            )
            self.fake._post(message)
        handle.followups.append(message)
        handle.record("followup", message)
        wait = req.query.get("wait", "false").lower() in ("1", "true")
        return (200, message) if wait else (204, None)

    def _webhook_message(self, req: Request) -> tuple[InteractionHandle, dict[str, Any]]:
        handle = self._webhook_handle(req)
        if req.path.endswith("/@original"):
            message = handle.original
        else:
            mid = req.params["message_id"]
            candidates = [handle.original, *handle.followups]
            message = next((m for m in candidates if m is not None and m["id"] == mid), None)
        if message is None:
            raise DiscordError(404, 10008)
        return handle, message
