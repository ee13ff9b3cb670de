"""discord.py is loaded only by the commands that talk to Discord (`run`, `sync-commands`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

PROBE = """
import sys
from bot.cli import main
status = main(sys.argv[1:])
loaded = sorted(m for m in ("discord", "apscheduler") if m in sys.modules)
sys.stderr.write(f"loaded={','.join(loaded) or 'none'} status={status}\\n")
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["ingest", str(SEEDS)],
        ["preview", "--at", "latest"],
        ["search", "clearview"],
        ["topics"],
        ["why", "https://example.com/not-in-the-store"],
        ["check"],
        ["sources"],
    ],
)
def test_article_commands_start_without_discord(
    tmp_path: Path, database: Path | str, argv: list[str]
) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],  # the `database` fixture's
        "NEWSBOT_DATABASE": str(database),
        "NEWSBOT_ARTICLES_DIR": str(SEEDS),
    }
    if argv[0] != "ingest":  # give the others something to read
        subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-c", PROBE, "ingest", str(SEEDS)],
            env=env,
            capture_output=True,
            check=True,
        )
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", PROBE, *argv],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "loaded=none" in done.stderr, done.stderr
