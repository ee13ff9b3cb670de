"""`newsbot run`: run the bot (token from DISCORD_TOKEN or DISCORD_TOKEN_FILE).

Several processes may share one database, each owning a range of gateway shards (`--shards 0-3
--shard-count 8`, or NEWSBOT_SHARDS / NEWSBOT_SHARD_COUNT); one of them delivers the digests.

Exit statuses: 1 a rejected token or a database problem, 2 a configuration problem (no
articles folder set, shards that do not exist), 75 Discord could not be reached at start-up or the articles folder is
missing (both may pass: systemd's Restart=on-failure restarts), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Any

from bot.cli._common import EXIT_CONFIG, EXIT_FAILED, EXIT_TEMPFAIL
from bot.settings import ArticlesDirError, ConfigError, Settings, parse_shards
from bot.store.db import StoreError

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="run the bot", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shards",
        metavar="IDS",
        help="the gateway shards this process owns, e.g. 0-3 or 0,2,5 (default NEWSBOT_SHARDS, "
        "else all); needs --shard-count",
    )
    parser.add_argument(
        "--shard-count",
        metavar="N",
        help="how many shards the bot has in all (default NEWSBOT_SHARD_COUNT, else Discord's "
        "recommendation)",
    )
    parser.set_defaults(handler=run)


def _fail(message: str, status: int = EXIT_FAILED) -> int:
    sys.stderr.write(f"newsbot: {message}\n")
    return status


def run(args: argparse.Namespace, settings: Settings) -> int:
    # discord.py and the app are loaded only by the commands that talk to Discord
    import discord

    from bot.discord.app import main, read_token
    from bot.discord.startup import UNREACHABLE, DiscordUnreachable, describe

    try:
        given = getattr(args, "shards", None), getattr(args, "shard_count", None)
        shards = parse_shards(
            given[0] if given[0] is not None else os.environ.get("NEWSBOT_SHARDS"),
            given[1] if given[1] is not None else os.environ.get("NEWSBOT_SHARD_COUNT"),
        )
    except ConfigError as exc:
        return _fail(str(exc), EXIT_CONFIG)
    try:
        token = read_token(os.environ)
    except ValueError as exc:
        return _fail(str(exc))
    try:
        settings.require_articles_dir()
    except ArticlesDirError as exc:
        return _fail(str(exc), EXIT_TEMPFAIL if exc.missing else EXIT_CONFIG)
    try:
        asyncio.run(main(settings, token, shards=shards))
    except discord.LoginFailure:
        return _fail("Discord rejected the bot token (check DISCORD_TOKEN / DISCORD_TOKEN_FILE)")
    except discord.PrivilegedIntentsRequired as exc:
        return _fail(f"Discord refused the gateway connection: {exc}")
    except StoreError as exc:
        return _fail(f"database problem: {exc}")
    except DiscordUnreachable as exc:
        return _fail(str(exc), EXIT_TEMPFAIL)
    except UNREACHABLE as exc:  # lost while connecting the gateway: a restart tries again
        return _fail(f"lost Discord ({describe(exc)})", EXIT_TEMPFAIL)
    except KeyboardInterrupt:
        return 130
    return 0
