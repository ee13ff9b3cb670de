"""A button paginator: only the member who asked may turn pages; buttons disable on timeout.

Pages are rendered on demand by an async callable (page number from 1), as message payload dicts
(the JSON bodies produced by `bot.discord.formatting`), turned into `send`/`edit` arguments here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.discord.payloads import payload_kwargs

log = logging.getLogger(__name__)

PageRenderer = Callable[[int], Awaitable[dict[str, Any]]]

#: Buttons must stop well before the 15-minute interaction token does, so they can disable.
DEFAULT_TIMEOUT_SECONDS = 600.0


class Paginator(discord.ui.View):
    """Previous / next buttons over `pages` pages rendered by `render(page)`."""

    def __init__(
        self,
        *,
        owner: discord.abc.User,
        pages: int,
        render: PageRenderer,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner.id
        self.owner_name = owner.display_name
        self.pages = max(1, pages)
        self.page = 1
        self.render = render
        self.message: discord.Message | discord.WebhookMessage | None = None
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.previous.disabled = self.page <= 1
        self.next.disabled = self.page >= self.pages

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            f"Only {self.owner_name} can use these buttons; run the command yourself to browse.",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        return False

    async def _turn(self, interaction: discord.Interaction[Any], step: int) -> None:
        self.page = min(self.pages, max(1, self.page + step))
        self._update_buttons()
        payload = await self.render(self.page)
        kwargs = payload_kwargs(payload)
        kwargs.pop("allowed_mentions")
        await interaction.response.edit_message(**kwargs, view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary, emoji="◀")
    async def previous(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Paginator]
    ) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary, emoji="▶")
    async def next(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Paginator]
    ) -> None:
        await self._turn(interaction, +1)

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self.message is not None:
            try:
                await self.message.edit(view=self)
            except discord.HTTPException as exc:
                log.debug("could not disable paginator buttons: %s", exc)
