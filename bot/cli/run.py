"""`newsbot run`: run the bot (token from DISCORD_TOKEN or DISCORD_TOKEN_FILE)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Any

import discord

from bot.settings import Settings
from bot.store.db import StoreError

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="run the bot", description=__doc__)
    parser.set_defaults(handler=run)


def _fail(message: str) -> int:
    sys.stderr.write(f"newsbot: {message}\n")
    return 1


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.discord.app import main, read_token  # the Discord app is loaded only for this command

    try:
        token = read_token(os.environ)
    except ValueError as exc:
        return _fail(str(exc))
    try:
        asyncio.run(main(settings, token))
    except discord.LoginFailure:
        return _fail("Discord rejected the bot token (check DISCORD_TOKEN / DISCORD_TOKEN_FILE)")
    except discord.PrivilegedIntentsRequired as exc:
        return _fail(f"Discord refused the gateway connection: {exc}")
    except StoreError as exc:
        return _fail(f"database problem: {exc}")
    except KeyboardInterrupt:
        return 130
    return 0
