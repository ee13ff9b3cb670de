"""The `newsbot` command line: one sub-command per module in `bot.cli`.

Each command module exposes `register(subparsers)` (adds its parser and sets `handler`) and its
handler `run(args, settings) -> int`. Settings are loaded once here; logging is set up once here;
a closed output pipe (`newsbot … | head`) is handled once here.

Exit statuses: 0 done; 1 failed (bad input, a rejected token, a database problem); 2 bad
configuration or usage; 75 Discord could not be reached (temporary: a service manager should
restart); 130 interrupted; 141 the output pipe was closed.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence

from bot.settings import ConfigError, Settings, load_settings, package_version

COMMANDS = (
    "run",
    "ingest",
    "search",
    "preview",
    "why",
    "topics",
    "check",
    "sources",
    "status",
    "sync_commands",
    "backup",
    "migrate_store",
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a writer whose reader went away

Handler = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot", description="Ranked, scheduled news digests for Discord servers."
    )
    parser.add_argument("--version", action="version", version=f"newsbot {package_version()}")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=LOG_LEVELS,
        help="log verbosity (default INFO); also accepted after the command",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"bot.cli.{name}")
        module.register(subparsers)
    for sub in subparsers.choices.values():
        # SUPPRESS: when not given after the command, the value given before it (or INFO) stays
        sub.add_argument(
            "--log-level", default=argparse.SUPPRESS, choices=LOG_LEVELS, help="log verbosity"
        )
    return parser


# discord.py's warnings about voice support (the bot has no voice) and its login line, which
# would double the one line per start-up attempt
_NOISE = ("voice will NOT be supported", "logging in using static token")


class QuietFilter(logging.Filter):
    """Drops discord.py's voice warnings and login line, and keeps every record to one line: a
    network error in discord.py's reconnect loops is told by its text, without a traceback;
    tantivy's long lock error is shortened; any other multi-line message is cut to its first
    line. Set on the loggers that emit them (see `setup_logging`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if any(noise in str(record.msg) for noise in _NOISE):
            return False
        message = record.getMessage()
        error = record.exc_info[1] if record.exc_info else None
        # discord.py's reconnect loops: the reason, no traceback (only the commands that talk
        # to Discord load it, and with it what a network error looks like)
        startup = sys.modules.get("bot.discord.startup")
        if error is not None and startup is not None and isinstance(error, startup.NETWORK_ERRORS):
            record.msg, record.args = f"{message} ({startup.describe(error)})", None
            record.exc_info, record.exc_text = None, None
            return True
        if "LockBusy" in message:  # tantivy's text for "another process holds the writer"
            head = message.split(" (", 1)[0]
            record.msg, record.args = f"{head} (locked by another process)", None
        elif "\n" in message:
            record.msg, record.args = message.splitlines()[0] + " …", None
        return True


QUIET_LOGGERS = (
    "discord.client",
    "discord.shard",
    "discord.gateway",
    "bot.search.index",
    "bot.discord.app",
)


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    numeric = logging.getLevelName(level)
    logging.getLogger("discord").setLevel(max(numeric, logging.INFO))
    # APScheduler logs two INFO lines per job run (every tick): only with DEBUG
    quiet = numeric if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    logging.getLogger("apscheduler").setLevel(quiet)
    for name in QUIET_LOGGERS:  # DEBUG shows everything
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, QuietFilter)]:
            logger.removeFilter(old)
        if numeric > logging.DEBUG:
            logger.addFilter(QuietFilter())


def _silence_stdout() -> None:
    """After the reader of stdout went away: point stdout at /dev/null so that the interpreter's
    final flush does not fail again (Python's documented recipe for SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


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
        status = handler(args, settings)
        sys.stdout.flush()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    return status
