"""The `newsbot` command line: one sub-command per module in `bot.commands`.

Each command module exposes `register(subparsers)` (adds its parser and sets `handler`) and its
handler `run(args, settings) -> int`. Settings are loaded once here; logging is set up once here.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence

from bot.settings import ConfigError, Settings, load_settings

COMMANDS = (
    "run",
    "ingest",
    "search",
    "preview",
    "check",
    "sync_commands",
    "backup",
    "sources",
)

Handler = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot", description="Ranked, scheduled news digests for Discord servers."
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log verbosity (default INFO)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"bot.commands.{name}")
        module.register(subparsers)
    return parser


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("discord").setLevel(max(logging.getLevelName(level), logging.INFO))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    handler: Handler = args.handler
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"newsbot: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return handler(args, settings)
    except KeyboardInterrupt:
        return 130
