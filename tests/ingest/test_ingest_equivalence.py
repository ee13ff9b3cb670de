"""The fast path reads every real and generated file exactly as python-frontmatter does."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from frontmatter.default_handlers import YAMLHandler
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.articles_gen import generate_article_text, generate_folder
from bot.ingest.fastyaml import fast_load, split_front_matter
from tests.ingest.equivalence import check_file, same


@pytest.mark.corpus
def test_every_corpus_file_matches_python_frontmatter(corpus_dir: Path) -> None:
    paths = sorted(corpus_dir.glob("*/_news/*.md"))
    assert len(paths) >= 2400
    problems = [p for path in paths for p in check_file(path.read_bytes(), str(path))]
    assert problems == []


@pytest.mark.parametrize(("related", "count"), [("real", 120), ("short", 100), ("max", 4)])
def test_every_generated_file_matches_python_frontmatter(
    tmp_path: Path, related: str, count: int
) -> None:
    paths = generate_folder(tmp_path, count, seed=7, related=related)
    problems = [p for path in paths for p in check_file(path.read_bytes(), path.name)]
    assert problems == []


def test_windows_line_endings_read_the_same(tmp_path: Path) -> None:
    text = generate_article_text(random.Random(3), related_count=4)
    problems = check_file(text.replace("\n", "\r\n").encode(), "crlf.md")
    assert problems == []


# Property: on any small YAML mapping, fast_load either steps aside (None) or agrees with libyaml.
_plain = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12)
_scalars = st.one_of(
    st.integers(-1000, 10**6).map(str),
    st.sampled_from(["true", "false", "yes", "no", "on", "null", "~", "1.5", "0x1f", "012"]),
    st.sampled_from(["2024-05-01", "2024-05-01T10:00:00Z", "2024-05-01 10:00:00", "1:20"]),
    _plain,
    _plain.map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.sampled_from(['"a\\u00e9\\n\\t\\/"', '"\\x41"', '"\\ud83d"', "'it''s'", '"x" # c']),
)
_keys = st.sampled_from(["title", "name", "on", "y", "url", "width", "true_name", "a b"])


@st.composite
def _documents(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        key = draw(_keys)
        shape = draw(st.sampled_from(["scalar", "list", "map", "empty"]))
        if shape == "scalar":
            lines.append(f"{key}: {draw(_scalars)}")
        elif shape == "list":
            lines.append(f"{key}:")
            indent = draw(st.sampled_from(["", "  ", "    "]))
            lines += [f"{indent}- {draw(_scalars)}" for _ in range(draw(st.integers(0, 3)))]
        elif shape == "map":
            lines.append(f"{key}:")
            lines += [f"  {draw(_keys)}: {draw(_scalars)}" for _ in range(draw(st.integers(1, 3)))]
        else:
            lines.append(f"{key}:")
    return "\n".join(lines) + "\n"


def _libyaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return "<error>"


@settings(max_examples=200, deadline=None)
@given(_documents())
def test_fast_load_agrees_with_libyaml_or_steps_aside(text: str) -> None:
    ours = fast_load(text)
    if ours is not None:
        assert same(ours, _libyaml(text)) == []


def test_fast_load_steps_aside_for_unusual_yaml() -> None:
    for text in (
        "a: &x 1\nb: *x\n",
        "a: !!python/object/apply:os.system ['true']\n",
        "a: [1, 2]\n",
        "a: |\n  block\n",
        "a: 1\na: 2\n",
        "a: 1 # comment\n",
        "a:\n   b: 1\n  c: 2\n",
        "a: 'multi\n  line'\n",
        "a:\tb\n",
        "",
    ):
        assert fast_load(text) is None, text


def test_timestamps_come_out_aware_utc() -> None:
    data = fast_load("publishedDateTime: 2021-02-12T10:23:00Z\n")
    assert data == {"publishedDateTime": datetime(2021, 2, 12, 10, 23, tzinfo=UTC)}


@pytest.mark.parametrize(
    "text",
    [
        "---\na: 1\n---\nbody",
        "\n\n---\na: 1\n----  \n",
        "---   \n\n\na: 1\n---\n---\nb: 2\n---",
        "---\na: 1\n---x\n---\n",
        "---\r\na: 1\r\n---\r\n",
        "---\na: 1\n",
        "a: 1\n---\n",
        "\ufeff---\na: 1\n---\n",
    ],
)
def test_split_matches_python_frontmatter_boundaries(text: str) -> None:
    handler = YAMLHandler()
    normalised = text.replace("\r\n", "\n").strip()
    try:
        expected: str | None = handler.split(normalised)[0] if handler.detect(normalised) else None
    except ValueError:
        expected = None
    assert split_front_matter(text) == expected
