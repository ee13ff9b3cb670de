"""One payload sender for deliveries and replies: nobody pinged, the silent flag honoured."""

from __future__ import annotations

import discord

from bot.discord.formatting import NO_MENTIONS, SUPPRESS_NOTIFICATIONS
from bot.discord.payloads import payload_kwargs


def test_a_silent_payload_is_sent_silently_and_pings_nobody() -> None:
    embed = {"title": "Hello @everyone", "description": "<@123>"}
    loud = payload_kwargs({"content": "news", "embeds": [embed], "allowed_mentions": NO_MENTIONS})
    quiet = payload_kwargs({"embeds": [embed], "flags": SUPPRESS_NOTIFICATIONS})
    assert "silent" not in loud
    assert quiet["silent"] is True
    for kwargs in (loud, quiet):
        mentions = kwargs["allowed_mentions"]
        assert isinstance(mentions, discord.AllowedMentions)
        assert dict(mentions.to_dict()) == {"parse": []}
        assert [e.title for e in kwargs["embeds"]] == ["Hello @everyone"]


def test_an_edit_replaces_content_and_embeds() -> None:
    kwargs = payload_kwargs({"embeds": []})
    assert kwargs["content"] is None  # an edited page loses the old text
    assert kwargs["embeds"] == []
