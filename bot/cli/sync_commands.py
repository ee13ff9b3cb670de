"""`newsbot sync-commands [--guild ID] [--json]`: register the slash commands with Discord
(REST only). Exits 75 when Discord cannot be reached (after the start-up retries)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from bot.cli._common import EXIT_FAILED, EXIT_TEMPFAIL, out
from bot.settings import Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sync-commands",
        help="register the slash commands with Discord",
        description=__doc__,
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--guild", type=int, metavar="ID", help="sync to one server only (instant; for testing)"
    )
    parser.set_defaults(handler=run)


async def sync(settings: Settings, token: str, guild_id: int | None) -> int:
    """Log in over REST only, build the command tree like the bot does, sync it; returns count."""
    import discord

    from bot.discord.app import COMMANDS_HASH_KEY, NewsBot, apply_discord_endpoints, commands_hash
    from bot.search.index import SearchIndex
    from bot.store.async_store import AsyncStore
    from bot.store.db import Store
    from bot.store.guilds import GuildDefaults

    apply_discord_endpoints(os.environ)
    store = await asyncio.to_thread(Store.open, settings.database)
    astore = AsyncStore(store, GuildDefaults.from_settings(settings))
    try:
        index = await asyncio.to_thread(SearchIndex.open, settings.index_dir)
        bot = NewsBot(
            settings=settings,
            store=astore,
            index=index,
            auto_sync=False,
            rescan=False,
            background=False,
        )
        async with bot:
            await bot.login(token)  # runs setup_hook: the cogs, hence the commands, are loaded
            if guild_id is not None:
                target = discord.Object(id=guild_id)
                bot.tree.copy_global_to(guild=target)
                synced = await bot.tree.sync(guild=target)
            else:
                synced = await bot.tree.sync()
                await astore.set_meta(COMMANDS_HASH_KEY, commands_hash(bot.tree))
        return len(synced)
    finally:
        astore.close()
        store.close()


def run(args: argparse.Namespace, settings: Settings) -> int:
    # discord.py and the app are loaded only by the commands that talk to Discord
    import discord

    from bot.discord.app import read_token
    from bot.discord.startup import UNREACHABLE, DiscordUnreachable, describe

    try:
        token = read_token(os.environ)
        count = asyncio.run(sync(settings, token, args.guild))
    except ValueError as exc:
        sys.stderr.write(f"newsbot: {exc}\n")
        return EXIT_FAILED
    except discord.LoginFailure:
        sys.stderr.write("newsbot: Discord rejected the bot token\n")
        return EXIT_FAILED
    except DiscordUnreachable as exc:
        sys.stderr.write(f"newsbot: {exc}\n")
        return EXIT_TEMPFAIL
    except UNREACHABLE as exc:
        sys.stderr.write(f"newsbot: lost Discord during the sync ({describe(exc)})\n")
        return EXIT_TEMPFAIL
    except discord.HTTPException as exc:
        sys.stderr.write(f"newsbot: Discord refused the command sync: {exc}\n")
        return EXIT_FAILED
    if args.json:
        out(json.dumps({"synced": count, "guild": args.guild}))
        return 0
    where = f"server {args.guild}" if args.guild else "all servers (may take a while to appear)"
    out(f"synced {count} slash commands to {where}")
    return 0
