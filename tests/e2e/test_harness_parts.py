"""Parts of the fake Discord checked on their own: validation, rate limits, permissions."""

from __future__ import annotations

import pytest

from tests.fake_discord import (
    ADMINISTRATOR,
    DEFAULT_EVERYONE,
    EMBED_LINKS,
    MANAGE_GUILD,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeDiscord,
    SpecValidators,
)
from tests.fake_discord.plugin import assert_no_harness_errors
from tests.fake_discord.ratelimit import RateLimiter
from tests.fake_discord.validation import error_body

MESSAGES = "/channels/{channel_id}/messages"
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"


def _paths(validators: SpecValidators, body: object, template: str = MESSAGES) -> list[str]:
    return [".".join(map(str, e.path)) for e in validators.check("POST", template, body)]


def test_valid_message_has_no_problems(discord_validators: SpecValidators) -> None:
    body = {
        "content": "x" * 2000,
        "embeds": [{"title": "t" * 256, "url": "https://example.com/a%20b", "color": 0x3366FF}],
        "allowed_mentions": {"parse": []},
        "nonce": "n" * 25,
        "enforce_nonce": True,
        "flags": 4096,
    }
    assert _paths(discord_validators, body) == []


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"content": "x" * 2001}, "content"),
        ({"embeds": [{"title": "x"} for _ in range(11)]}, "embeds"),
        ({"embeds": [{"description": "x" * 3001}, {"description": "x" * 3000}]}, "embeds"),
        ({"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]}, "embeds.0.fields.0.value"),
        ({"embeds": [{"footer": {"text": "f" * 2049}}]}, "embeds.0.footer.text"),
        ({"embeds": [{"thumbnail": {"url": "https://exämple.com/ü.png"}}]}, "embeds.0.thumbnail"),
        ({"content": "x", "nonce": "n" * 26}, "nonce"),
        ({"content": 5}, "content"),
    ],
)
def test_invalid_message_bodies_name_the_field(
    discord_validators: SpecValidators, body: object, where: str
) -> None:
    assert where in _paths(discord_validators, body)


def test_interaction_message_callbacks_get_the_docs_limits(
    discord_validators: SpecValidators,
) -> None:
    body = {"type": 4, "data": {"content": "x" * 2001, "flags": 64}}
    assert "data.content" in _paths(discord_validators, body, CALLBACK)
    assert _paths(discord_validators, {"type": 5, "data": {"flags": 64}}, CALLBACK) == []


def test_error_body_nests_like_discord() -> None:
    from tests.fake_discord import FieldError

    body = error_body([FieldError(("embeds", 0, "title"), "BASE_TYPE_MAX_LENGTH", "too long")])
    assert body["code"] == 50035
    assert body["errors"] == {
        "embeds": {
            "0": {"title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "too long"}]}}
        }
    }


def test_route_bucket_counts_down_then_limits() -> None:
    limiter = RateLimiter()
    params = {"channel_id": "1"}
    verdicts = [limiter.check("POST", MESSAGES, params, global_exempt=False) for _ in range(6)]
    assert [v.headers["X-RateLimit-Remaining"] for v in verdicts[:5]] == ["4", "3", "2", "1", "0"]
    assert all(v.headers["X-RateLimit-Limit"] == "5" for v in verdicts[:5])
    assert verdicts[5].limited
    assert not verdicts[5].is_global
    other_channel = limiter.check("POST", MESSAGES, {"channel_id": "2"}, global_exempt=False)
    assert not other_channel.limited


def test_global_limit_spares_interaction_routes_and_can_be_switched_off() -> None:
    limiter = RateLimiter(global_limit=3)
    for i in range(3):
        assert not limiter.check("GET", "/users/@me", {}, global_exempt=False).limited, i
    assert limiter.check("GET", "/users/@me", {}, global_exempt=False).is_global
    assert not limiter.check("POST", CALLBACK, {}, global_exempt=True).limited
    limiter.enabled = False
    assert not limiter.check("GET", "/users/@me", {}, global_exempt=False).limited


def test_permissions_follow_discords_order() -> None:
    fake = FakeDiscord()
    guild = fake.add_guild(owner="olga")
    mods = fake.add_role(guild, "Mods", MANAGE_GUILD)
    admins = fake.add_role(guild, "Admins", ADMINISTRATOR)
    member = fake.add_member(guild, "max", [mods])
    boss = fake.add_member(guild, "bea", [admins])
    muted = fake.add_channel(
        guild,
        "muted",
        overwrites={guild.everyone: (0, SEND_MESSAGES), member: (SEND_MESSAGES, EMBED_LINKS)},
    )
    hidden = fake.add_channel(guild, "hidden", overwrites={guild.everyone: (0, VIEW_CHANNEL)})
    bot = fake.bot_user.id
    assert guild.base_permissions(member.user.id) == DEFAULT_EVERYONE | MANAGE_GUILD
    perms = guild.permissions_in(member.user.id, muted.id)
    assert perms & SEND_MESSAGES
    assert not perms & EMBED_LINKS
    assert not guild.permissions_in(bot, muted.id) & SEND_MESSAGES
    assert guild.permissions_in(bot, hidden.id) == 0
    assert guild.permissions_in(boss.user.id, hidden.id) & VIEW_CHANNEL
    assert guild.permissions_in(guild.owner_id, hidden.id) & VIEW_CHANNEL


def test_recorded_errors_fail_the_test() -> None:
    fake = FakeDiscord()
    assert_no_harness_errors(fake)
    fake.error("unknown route: GET /nowhere")
    with pytest.raises(pytest.fail.Exception, match="unknown route"):
        assert_no_harness_errors(fake)
    assert fake.take_errors() == ["unknown route: GET /nowhere"]
    assert_no_harness_errors(fake)
