"""Errors that carry a message meant for the Discord user who caused them."""

from __future__ import annotations

from discord import app_commands


class UserError(app_commands.AppCommandError):
    """A bad value or a request that cannot be done: shown to the user as is (ephemeral)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(app_commands.CheckFailure):
    """The member lacks the permission a command needs (checked server-side, not only by Discord)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
