"""A normal (non-editable) install works anywhere: the wheel, in a fresh venv, run from a folder
that is not a checkout, with a home of its own. Nothing is written into the installed package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _files(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def _run(argv: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and entry point, fixed arguments
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the sources, installed into a fresh venv; its bin folder."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "bot", source / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    build = _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "wheels"), "."],
        cwd=source,
        env=env,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp / "wheels").glob("newsbot-*.whl")
    venv = tmp / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp, env=env)
    assert made.returncode == 0, made.stderr
    install = _run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp, env=env
    )
    assert install.returncode == 0, install.stderr
    return venv / "bin"


def test_the_installed_wheel_runs_the_main_job_from_anywhere(
    installed: Path, tmp_path: Path, seeds_dir: Path
) -> None:
    (site_packages,) = installed.parent.glob("lib/python*/site-packages")
    before = _files(site_packages)
    home, elsewhere, articles = tmp_path / "home", tmp_path / "elsewhere", tmp_path / "articles"
    home.mkdir()
    elsewhere.mkdir()
    shutil.copytree(seeds_dir, articles)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "XDG_"))}
    env |= {"HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}
    newsbot = str(installed / "newsbot")

    version = _run([newsbot, "--version"], cwd=elsewhere, env=env)
    assert version.stdout.strip() == "newsbot 0.1.0"

    nothing = _run([newsbot, "ingest"], cwd=elsewhere, env=env)
    assert nothing.returncode == 1
    assert nothing.stderr.splitlines() == [
        "newsbot ingest: no articles folder is set: set NEWSBOT_ARTICLES_DIR or `articles_dir` "
        "in the config (NEWSBOT_CONFIG) (or name folders: newsbot ingest DIR…)"
    ]

    ingest = _run([newsbot, "ingest", str(articles)], cwd=elsewhere, env=env)
    assert ingest.returncode == 0, ingest.stderr
    assert " added, " in ingest.stdout
    assert ingest.stdout.splitlines()[0].endswith(" 0 rejected")
    preview = _run([newsbot, "preview", "--at", "latest"], cwd=elsewhere, env=env)
    assert preview.returncode == 0, preview.stderr
    assert preview.stdout.startswith("News digest — ")

    database = home / ".local" / "share" / "newsbot" / "newsbot.sqlite3"
    assert database.is_file()  # the per-user data folder
    check = _run(
        [newsbot, "check"], cwd=elsewhere, env={**env, "NEWSBOT_ARTICLES_DIR": str(articles)}
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert _files(site_packages) == before  # no config, seeds, data or database in the package
    assert _files(elsewhere) == set()


def test_the_dockerfile_installs_like_the_test_above() -> None:
    """The Docker image uses the same non-editable `pip install .` that the wheel test proves."""
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    installs = [
        line for line in dockerfile.splitlines() if line.startswith("RUN") and "pip install" in line
    ]
    assert installs
    assert all(" -e" not in line and "--editable" not in line for line in installs)
    assert any(line.rstrip().endswith("pip install --no-cache-dir .") for line in installs)
    assert "USER newsbot" in dockerfile
