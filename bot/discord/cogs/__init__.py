"""Slash-command cogs: `/news` for readers, `/digest` for server admins.

Cogs are thin: they validate input, call the store/search/digest logic and reply. Everything
they need is handed to them in one `CogContext`, built by the app.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from discord import app_commands

from bot.discord.delivery import Deliverer
from bot.search.index import SearchIndex
from bot.settings import Settings
from bot.store.async_store import AsyncStore

MAX_CHOICES = 25


@dataclass(frozen=True, slots=True)
class CogContext:
    """What the cogs use, built once by the app."""

    store: AsyncStore
    index: SearchIndex | None
    settings: Settings
    clock: Callable[[], datetime]
    deliverer: Deliverer
    view_timeout: float = 600.0
    # several processes: this one's id, to tell in `/digest show` which process delivers
    process_id: str | None = None
    # several processes: whether this one delivers (else `/digest now` asks the one that does)
    delivers: Callable[[], bool] | None = None


def match_choices(current: str, names: Sequence[str]) -> list[app_commands.Choice[str]]:
    """Up to 25 names matching what was typed: prefix matches first, then substrings."""
    typed = current.strip().casefold()
    prefix = [n for n in names if n.casefold().startswith(typed)]
    inner = [n for n in names if typed in n.casefold() and n not in prefix]
    return [
        app_commands.Choice(name=n[:100], value=n[:100]) for n in (prefix + inner)[:MAX_CHOICES]
    ]


def resolve_topic(value: str, known: list[str]) -> str | None:
    """The known topic matching `value` case-insensitively, else None."""
    wanted = value.strip().casefold()
    return next((name for name in known if name.casefold() == wanted), None)


def suggest(value: str, known: list[str], limit: int = 3) -> list[str]:
    """Close spellings of an unknown name."""
    by_fold = {name.casefold(): name for name in known}
    close = difflib.get_close_matches(value.strip().casefold(), list(by_fold), n=limit, cutoff=0.5)
    return [by_fold[c] for c in close]
