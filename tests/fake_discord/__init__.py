"""A faithful local fake of Discord (REST + gateway) that the real discord.py client talks to.

See README.md in this folder. Fixtures live in `tests.fake_discord.plugin`.
"""

from .interactions import InteractionEvent, InteractionHandle, LateAck
from .rest import DiscordError
from .server import FakeDiscord, Fault, RecordedRequest
from .state import (
    ADMINISTRATOR,
    ANNOUNCEMENT_CHANNEL,
    DEFAULT_EVERYONE,
    EMBED_LINKS,
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
)
from .validation import FieldError, SpecValidators

__all__ = [
    "ADMINISTRATOR",
    "ANNOUNCEMENT_CHANNEL",
    "DEFAULT_EVERYONE",
    "EMBED_LINKS",
    "MANAGE_GUILD",
    "SEND_MESSAGES",
    "TEXT_CHANNEL",
    "VIEW_CHANNEL",
    "DiscordError",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "Fault",
    "FieldError",
    "InteractionEvent",
    "InteractionHandle",
    "LateAck",
    "Overwrite",
    "RecordedRequest",
    "SpecValidators",
]
