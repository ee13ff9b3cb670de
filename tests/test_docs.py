"""The docs cover what a user can type and configure: every command and every config key."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel

from bot.cli import COMMANDS, build_parser
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE_CONFIG = ROOT / "config" / "newsbot.yaml"


def config_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += config_keys(annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def test_readme_documents_every_cli_command() -> None:
    build_parser()  # every command module registers
    for name in COMMANDS:
        assert f"`newsbot {name.replace('_', '-')}" in README, name


def test_readme_documents_every_config_key() -> None:
    missing = [key for key in config_keys(Settings) if f"`{key}`" not in README]
    # ranking weights are documented together on one row
    missing = [key for key in missing if not key.startswith("ranking.") or key not in README]
    assert missing == []


def test_shipped_config_spells_out_every_key() -> None:
    shipped = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))

    def flatten(data: dict[str, object], prefix: str = "") -> set[str]:
        out: set[str] = set()
        for key, value in data.items():
            if isinstance(value, dict) and key != "topic_colors":
                out |= flatten(value, f"{prefix}{key}.")
            else:
                out.add(f"{prefix}{key}")
        return out

    assert flatten(shipped) == set(config_keys(Settings))


def test_readme_opens_with_the_two_commands() -> None:
    first_lines = README.splitlines()[:10]
    assert any("newsbot preview --at latest" in line for line in first_lines)
    assert any("python -m pytest" in line for line in first_lines)
