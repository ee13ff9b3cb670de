"""parse_file / parse_bytes: bad files become readable rejections, quirky ones clean articles."""

from __future__ import annotations

import os
import random
import re
import resource
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.articles_gen import generate_article_text
from bot.ingest import ParsedFile, Rejection, parse_bytes, parse_file, parse_related
from tests.ingest.equivalence import check_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "articles"


def parsed(path: Path) -> ParsedFile:
    result = parse_file(path)
    assert isinstance(result, ParsedFile), result
    return result


def rejected(path: Path, **kwargs: int) -> str:
    result = parse_file(path, **kwargs)
    assert isinstance(result, Rejection), result
    assert result.path == str(path)
    return result.error


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("invalid_yaml_provider.md", "invalid YAML at line 14, column 11: mapping values"),
        ("no_front_matter.md", "no front matter"),
        ("not_closed.md", "front matter is not closed"),
        ("binary.md", "binary file, not text (NUL byte at byte 8)"),
        ("not_utf8.md", "not UTF-8 text: invalid byte 0xe9 at byte 30 (line 3)"),
        ("title_list.md", "title must be text, got a list"),
        ("topics_string.md", "topics must be a list, got text"),
        ("empty.md", "empty file"),
        ("blank.md", "empty file"),
        ("event.md", "not a news item (category: event)"),
        ("people.md", "not a news item (category: people)"),
        ("missing_date.md", "not a news item: missing publishedDateTime"),
        ("bad_date.md", "publishedDateTime is not a date and time: 'next tuesday'"),
        ("front_matter_list.md", "front matter is a list, not a mapping"),
        ("billion_laughs.md", "YAML anchors and aliases are not allowed"),
        ("python_tag.md", "could not determine a constructor for the tag"),
        ("deep_nesting.md", "nested too deeply"),
        ("huge_heat.md", "heat is out of range: a number beyond 64 bits"),
        ("huge_quality.md", "quality is out of range: 1e+308"),
        ("nan_heat.md", "heat must be a whole number, got nan"),
        ("ancient_date.md", "publishedDateTime is out of range"),
    ],
)
def test_bad_files_are_rejected_with_a_reason(name: str, reason: str) -> None:
    assert reason in rejected(FIXTURES / "bad" / name)


def test_yaml_bomb_finishes_fast_with_little_memory() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(20):
        rejected(FIXTURES / "bad" / "billion_laughs.md")
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 50_000


def test_python_tags_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (FIXTURES / "bad" / "python_tag.md").read_text()
    text = text.replace("sys.exit [99]", f"os.system ['touch {marker}']")
    result = parse_bytes(text.encode(), "tag.md")
    assert isinstance(result, Rejection)
    assert not marker.exists()


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as handle:
        handle.truncate(5 * 1024 * 1024)  # sparse: refused on its size alone
    assert rejected(path) == "file too large: 5,242,880 bytes (limit 1,048,576)"
    small = FIXTURES / "quirky" / "video.md"
    assert "file too large" in rejected(small, max_bytes=100)
    assert "file too large" in str(parse_bytes(small.read_bytes(), "v.md", max_bytes=100))


def test_unreadable_paths_are_rejections(tmp_path: Path) -> None:
    assert rejected(tmp_path / "missing.md").startswith("cannot read file")
    assert rejected(tmp_path) == "not a regular file"
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    assert rejected(fifo) == "not a regular file"


def test_dirty_text_is_cleaned() -> None:
    article = parsed(FIXTURES / "quirky" / "dirty_text.md").article
    assert article.title == 'Diablo\'s new season: "Loot Reborn" — what’s changing'
    assert article.excerpt.startswith("The studio & team *really* _mean_ it 🔥 |")
    assert article.topics == ("Diablo 4", "Diablo Immortal")  # None, blank, duplicate dropped
    assert article.provider.icon_url is not None
    assert article.provider.icon_url.endswith("wowhead.com-50x50.jpg")


def test_video_uses_original_url_and_drops_the_placeholder_image() -> None:
    article = parsed(FIXTURES / "quirky" / "video.md").article
    assert article.kind == "video"
    assert article.url == "https://youtube.com/watch?v=AbCdEfGhIjK"
    # the iframe embeds /embed/AbCdEfGhIjK: the same video, so one link for embed and text
    assert article.video_url == article.url
    assert [image.url for image in article.images] == [
        "https://i.ytimg.com/vi/AbCdEfGhIjK/maxresdefault.jpg"
    ]
    assert article.heat is None  # -1 upstream: unknown, not cold
    assert article.trending is False


@pytest.mark.parametrize(
    ("name", "link"),
    [
        ("video_short_link.md", "https://youtu.be/ZyXwVuTsRqP"),  # a youtube-nocookie embed
        ("video_embed_only.md", "https://youtube.com/watch?v=QrStUvWxYz0"),  # no link but the embed
    ],
)
def test_a_video_has_one_page_link_for_its_embed_and_its_text(name: str, link: str) -> None:
    article = parsed(FIXTURES / "quirky" / name).article
    assert (article.url, article.video_url) == (link, link)
    assert "/embed/" not in repr(article)


def test_markup_and_terminal_codes_are_stripped_from_every_shown_text() -> None:
    article = parsed(FIXTURES / "quirky" / "hostile_text.md").article
    assert article.title == "Breaking: Copilot comes to Power Apps"
    assert article.excerpt == "Build apps from templates in minutes. Really. Vec<T> stays."
    assert article.provider.name == "Contoso News"
    [coverage] = parse_related(article.related_yaml)
    assert (coverage.title, coverage.provider) == ("Rival covers it", "Rival Daily")


def test_missing_optional_fields_are_unknown_not_errors() -> None:
    article = parsed(FIXTURES / "quirky" / "minimal.md").article
    assert article.published == datetime(2026, 3, 1, tzinfo=UTC)  # a bare date
    assert (article.quality, article.heat, article.trending) == (None, None, False)
    assert article.images == ()
    assert article.url == ""  # no usable link: identity comes from domain + title
    assert len(article.id) == 16


def test_odd_values_are_normalised() -> None:
    result = parsed(FIXTURES / "quirky" / "odd_values.md")
    article = result.article
    assert result.removed is True
    assert article.published == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # naive: taken as UTC
    assert article.quality == 189  # the 0-189 scale is kept as is
    assert article.heat is None
    assert article.url == "https://www.wowhead.com/news/diablo-4%20ladder/r%C3%A9sum%C3%A9"


def test_secured_blob_is_never_copied() -> None:
    for path in sorted((FIXTURES / "quirky").iterdir()):
        article = parsed(path).article
        assert "c2VjcmV0" not in repr(article)
        assert "c2VjcmV0" not in article.related_yaml


def test_identity_survives_rewrites_and_copies(tmp_path: Path) -> None:
    text = generate_article_text(random.Random(11), related_count=3)
    first = tmp_path / "a" / "2026-01-01-story.md"
    first.parent.mkdir()
    first.write_text(text)
    copy = tmp_path / "b" / "copy.md"
    copy.parent.mkdir()
    shutil.copy(first, copy)
    rewritten = tmp_path / "rewritten.md"
    assert "\nheat: " in text
    rewritten.write_text(re.sub(r"(?m)^heat: .*$", "heat: 999", text))
    a, b, c = parsed(first), parsed(copy), parsed(rewritten)
    assert a.article.id == b.article.id == c.article.id
    assert a.digest == b.digest != c.digest


def test_crlf_files_parse_like_lf_files(tmp_path: Path) -> None:
    text = (FIXTURES / "quirky" / "video.md").read_text()
    lf = parse_bytes(text.encode(), "lf.md")
    crlf = parse_bytes(text.replace("\n", "\r\n").encode(), "crlf.md")
    assert isinstance(lf, ParsedFile)
    assert isinstance(crlf, ParsedFile)
    assert lf.article == crlf.article


def test_a_utf8_bom_is_tolerated() -> None:
    data = b"\xef\xbb\xbf" + (FIXTURES / "quirky" / "minimal.md").read_bytes()
    assert isinstance(parse_bytes(data, "bom.md"), ParsedFile)


def test_related_block_is_kept_raw_and_counted() -> None:
    text = generate_article_text(random.Random(5), related_count=12)
    result = parse_bytes(text.encode(), "r.md")
    assert isinstance(result, ParsedFile)
    assert result.article.related_count == 12
    coverage = parse_related(result.article.related_yaml)
    assert len(coverage) == 12
    assert all(c.title and c.domain for c in coverage)


def test_bad_provider_inside_related_rejects_the_file_like_frontmatter() -> None:
    text = generate_article_text(random.Random(5), related_count=5)
    line = next(line for line in text.splitlines() if line.startswith("      name: "))
    broken = text.replace(line, "      name: DM: Diablo Immortal", 1)
    result = parse_bytes(broken.encode(), "broken.md")
    assert isinstance(result, Rejection)
    assert "invalid YAML" in result.error


@pytest.mark.parametrize("seed", range(30))
def test_truncated_or_garbled_files_never_raise(seed: int) -> None:
    rng = random.Random(seed)
    data = bytearray(generate_article_text(rng, related_count=rng.randint(0, 5)).encode())
    del data[rng.randrange(len(data)) :]
    for _ in range(rng.randint(0, 5)):
        data[rng.randrange(len(data))] = rng.choice(b":-\"'&*!|>[]{}# \n\t\\")
    result = parse_bytes(bytes(data), "garbled.md")
    assert isinstance(result, ParsedFile | Rejection)


@pytest.mark.parametrize(
    "body",
    [
        "\nA body.\n\n---\n\nmore: text\n",
        "\n---\nrelated:\n  - title: x\n---\n",
        "\n----\n",
    ],
)
def test_a_body_with_more_dashed_lines_reads_like_python_frontmatter(body: str) -> None:
    text = generate_article_text(random.Random(8), related_count=2) + body
    assert check_file(text.encode(), "body.md") == []


def test_damage_deep_inside_related_keeps_the_article_without_coverage() -> None:
    text = generate_article_text(random.Random(5), related_count=3)
    line = next(line for line in text.splitlines() if line.startswith("    excerpt: "))
    broken = text.replace(line, line + " and then some", 1)  # text after the closing quote
    result = parse_bytes(broken.encode(), "damaged.md")
    assert isinstance(result, ParsedFile)
    assert result.article.related_count == 3
    assert parse_related(result.article.related_yaml) == ()


# The kept `related` block leaves out other outlets' excerpts and AMP links (nothing reads
# them) when that is safe; coverage read from it is always the one of the whole block.

_HEAD = """---
title: "Ours"
publishedDateTime: 2026-03-04T10:00:00Z
webUrl: "https://ours.example/story"
type: article
provider:
  name: Ours
  domain: ours.example
topics:
  - AI
"""


def _kept(related: str) -> tuple[str, str]:
    """(the block as kept, the block in the file) for a file with this related block."""
    result = parse_bytes(f'{_HEAD}{related}secured: "x"\n---\n'.encode(), "r.md")
    assert isinstance(result, ParsedFile), result
    return result.article.related_yaml, related


def test_other_outlets_excerpts_and_amp_links_are_left_out() -> None:
    kept, whole = _kept(
        "related:\n"
        '  - title: "Rival covers it"\n'
        '    excerpt: "A long text with \\"escaped quotes\\" and a backslash \\\\ in it"\n'
        '    webUrl: "https://rival.example/story"\n'
        '    ampWebUrl: "https://rival.example/story/amp"\n'
        '    cdnAmpWebUrl: "https://rival-example.cdn.ampproject.org/c/s/story"\n'
        "    provider:\n"
        "      name: Rival\n"
        "      domain: rival.example\n"
    )
    assert "excerpt" not in kept
    assert "ampWebUrl" not in kept
    assert "cdnAmpWebUrl" not in kept
    assert parse_related(kept) == parse_related(whole)
    assert parse_related(kept)[0].url == "https://rival.example/story"


@pytest.mark.parametrize(
    "item",
    [
        # a single-quoted title spanning lines holds an excerpt-like line: nothing is left out
        "  - title: 'It begins\n    excerpt: \"inside the title\"\n    and ends'\n",
        # a double-quoted excerpt that goes on to the next line
        '  - title: "T"\n    excerpt: "first line\n      second line"\n',
        # a value ending in an escaped quote is not whole
        '  - title: "T"\n    excerpt: "ends with \\\\\\"\n      more"\n',
        # a comment after the value
        '  - title: "T"\n    excerpt: "text" # note\n',
        # deeper than an item's own keys
        '  - title: "T"\n    provider:\n      excerpt: "not an item key"\n      name: X\n',
    ],
)
def test_lines_that_are_not_a_whole_item_value_are_kept(item: str) -> None:
    kept, whole = _kept("related:\n" + item)
    assert kept == whole
    assert parse_related(kept) == parse_related(whole)


def test_an_apostrophe_inside_a_word_does_not_stop_leaving_out() -> None:
    kept, _ = _kept(
        'related:\n  - title: "Blizzard\'s news"\n    excerpt: "It\'s long"\n    webUrl: "https://r.example/a"\n'
    )
    assert "excerpt" not in kept
    assert parse_related(kept)[0].title == "Blizzard's news"


def test_a_quote_that_may_open_a_single_quoted_value_keeps_the_block_whole() -> None:
    kept, whole = _kept(
        'related:\n  - title: "One"\n    excerpt: "long"\n  - title: \'Two\'\n    excerpt: "x"\n'
    )
    assert kept == whole
    assert [c.title for c in parse_related(kept)] == ["One", "Two"]


def test_items_at_the_left_margin_are_trimmed_too() -> None:
    kept, whole = _kept(
        'related:\n- title: "Edge"\n  excerpt: "gone"\n  webUrl: "https://e.example/1"\n'
    )
    assert "excerpt" not in kept
    assert parse_related(kept) == parse_related(whole)


def test_the_libyaml_path_leaves_out_the_same_keys() -> None:
    text = generate_article_text(random.Random(5), related_count=4)
    commented = text.replace("---\n", "---\n# a comment: the fast reader steps aside\n", 1)
    result = parse_bytes(commented.encode(), "commented.md")
    assert isinstance(result, ParsedFile), result
    assert result.article.related_count == 4
    assert "excerpt:" not in result.article.related_yaml
    plain = parse_bytes(text.encode(), "plain.md")
    assert isinstance(plain, ParsedFile)
    assert parse_related(result.article.related_yaml) == parse_related(plain.article.related_yaml)


@pytest.mark.parametrize(
    "quoted",
    [
        "  - title: 'Two'\n",  # after `: `
        "  - 'Two'\n",  # a sequence entry
        "  - title:\n      'Two'\n",  # at the start of a line
        "  - title: !!str 'Two'\n",  # after a tag
        "  - title: &name 'Two'\n",  # after an anchor
        "  - title: ['Two']\n",  # in a flow sequence
        "  - title: {a: 'Two'}\n",  # in a flow mapping
        "  - ? 'Two'\n    : x\n",  # an explicit key
    ],
)
def test_every_place_a_single_quoted_value_can_start_keeps_the_block_whole(quoted: str) -> None:
    kept, whole = _kept(f'related:\n  - title: "One"\n    excerpt: "long"\n{quoted}')
    assert kept == whole


def test_quotes_inside_double_quoted_text_do_not_keep_the_block_whole() -> None:
    kept, _ = _kept(
        "related:\n"
        "  - title: \"He said 'no' to it\"\n"
        "    excerpt: \"The 'plan' was 'dead' on arrival\"\n"
        '    webUrl: "https://r.example/a"\n'
    )
    assert "excerpt" not in kept
    assert parse_related(kept)[0].title == "He said 'no' to it"
