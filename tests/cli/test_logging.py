"""Quiet logs by default: no per-tick APScheduler lines, no voice-library warnings, one line per
record (tantivy's long lock error shortened)."""

from __future__ import annotations

import logging

import discord
import pytest
from discord.voice_client import VoiceClient

from bot.cli import setup_logging


def test_apscheduler_job_lines_only_with_debug() -> None:
    setup_logging("INFO")
    assert not logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.INFO)
    assert logging.getLogger("apscheduler").isEnabledFor(logging.WARNING)
    setup_logging("DEBUG")
    assert logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.DEBUG)
    setup_logging("INFO")


def test_no_voice_library_warnings(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_logging("INFO")
    monkeypatch.setattr(VoiceClient, "warn_nacl", True)  # as in a fresh process
    monkeypatch.setattr(VoiceClient, "warn_dave", True)
    with caplog.at_level(logging.DEBUG):
        discord.Client(intents=discord.Intents.none())
    assert [r.getMessage() for r in caplog.records if "voice" in r.getMessage()] == []


def test_tantivy_lock_message_is_one_short_line(caplog: pytest.LogCaptureFixture) -> None:
    setup_logging("INFO")
    busy = ValueError(
        'Failed to acquire Lockfile: LockBusy. Some("Failed to acquire index lock. If you are\n'
        "using a regular directory, this means there is already an `IndexWriter` working on this "
        '`Directory`, in this process or in a different process.")'
    )
    with caplog.at_level(logging.INFO):
        logging.getLogger("bot.search.index").info(
            "search index %s is being written by someone else (%s)", "/data/x.index", busy
        )
        logging.getLogger("bot.discord.app").warning("first line\nsecond line")
    assert [r.getMessage() for r in caplog.records] == [
        "search index /data/x.index is being written by someone else (locked by another process)",
        "first line …",
    ]


def test_reconnect_loops_log_the_network_error_in_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import bot.discord.startup  # noqa: F401 - loaded by `run` and `sync-commands`, as here

    setup_logging("INFO")
    with caplog.at_level(logging.INFO):
        try:
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)")
        except OSError:
            logging.getLogger("discord.shard").exception("Failed to connect for shard_id: 0")
    (record,) = caplog.records
    assert record.exc_info is None
    assert record.getMessage() == (
        "Failed to connect for shard_id: 0 ([Errno 111] Connect call failed ('127.0.0.1', 9))"
    )
