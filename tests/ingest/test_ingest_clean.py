"""clean_text and clean_url: what readers and Discord see."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ingest import clean_text, clean_url


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  plain title  ", "plain title"),
        ("Rock &amp; Roll", "Rock & Roll"),
        ("Diablo&amp;#39;s return", "Diablo's return"),  # double-escaped
        ("&quot;Quoted&quot; &#8217;s &hellip;", '"Quoted" ’s …'),
        ("line one\r\n\tline two", "line one line two"),
        ("non\u00a0breaking\u2009thin", "non breaking thin"),
        ("soft\u00adhyphen zero\u200bwidth\u2060joiner", "softhyphen zerowidthjoiner"),
        ("whatâ€™s â€˜newâ€™ â€“ now", "what’s ‘new’ – now"),
        ("ï»¿Leading BOM mojibake", "Leading BOM mojibake"),
        ("CafÃ© crÃ¨me", "Café crème"),
        ("\ufeffreal BOM", "real BOM"),
        ("emoji 🔥 stays, *markdown* _too_ |x|", "emoji 🔥 stays, *markdown* _too_ |x|"),
        ("control\x00\x07 chars", "control chars"),
        ("", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_legitimate_accents_and_scripts_are_left_alone() -> None:
    for text in ("Ångström à la carte", "Ελληνικά", "日本語のニュース", "naïve façade"):
        assert clean_text(text) == text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("https://example.com/a/b?c=1", "https://example.com/a/b?c=1"),
        ("  https://example.com/a b  ", "https://example.com/a%20b"),
        ("https://example.com/résumé", "https://example.com/r%C3%A9sum%C3%A9"),
        ("HTTPS://Example.COM/Path", "https://example.com/Path"),
        ("http://example.com/img.png", "http://example.com/img.png"),
        ("https://example.com/100%", "https://example.com/100%25"),
        ("https://example.com/a%20b", "https://example.com/a%20b"),
        ("https://bücher.example/x", "https://xn--bcher-kva.example/x"),
        ("javascript:alert(1)", None),
        ("ftp://example.com/file", None),
        ("//example.com/x", None),
        ("not a url", None),
        ("https://", None),
        ("https://example.com:99999/", None),
        ("", None),
        (None, None),
        ("https://example.com/" + "a" * 2100, None),
    ],
)
def test_clean_url(raw: str | None, clean: str | None) -> None:
    assert clean_url(raw) == clean


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.sampled_from(["https://example.com/", "http://a.example/", ""]))
def test_clean_url_gives_a_discord_safe_url_or_none(tail: str, head: str) -> None:
    url = clean_url(head + tail)
    if url is not None:
        assert url.isascii()
        assert not any(c.isspace() for c in url)
        assert len(url) <= 2048
        parts = urlsplit(url)
        assert parts.scheme in ("http", "https")
        assert parts.hostname
        assert clean_url(url) == url  # idempotent


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_clean_text_is_idempotent_and_single_line(text: str) -> None:
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert "\n" not in cleaned
    assert cleaned == cleaned.strip()
