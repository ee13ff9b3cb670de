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


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[31mred\x1b[0m alert", "red alert"),
        ("[31mred[0m alert", "red alert"),  # the ESC byte already stripped upstream
        ("[1;33mwarn[0m", "warn"),
        ("\x1b]8;;https://e.example\x07link\x1b]8;;\x07", "link"),
        ("costs [5m] a year", "costs [5m] a year"),
        ("\\<b\\>templates\\</b\\> are here", "templates are here"),
        ("<b>templates</b> are here", "templates are here"),
        ("&lt;i&gt;it&lt;/i&gt; works", "it works"),
        ("<p>One</p><p>Two</p>", "One Two"),
        ('<a href="https://x.example/?a>b">a link</a>', "a link"),
        ("<script>alert(1)</script>after", "after"),
        ("How to use <style> tags in Vue", "How to use <style> tags in Vue"),
        ("Vec<T> and List<String> in Rust", "Vec<T> and List<String> in Rust"),
        ("if a<b && c>d then", "if a<b && c>d then"),
        ("a < b and c > d", "a < b and c > d"),
        ("<john@example.com> wrote", "<john@example.com> wrote"),
        ("AT&T rocks", "AT&T rocks"),
    ],
)
def test_markup_and_terminal_codes_are_stripped_text_kept(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


_MARKUP = st.lists(
    st.sampled_from([*"<>/\\[];m0123 abi&lt;gp\x1b\x07\"'=", "<b>", "</b>", "[0m", "<style>"]),
    max_size=30,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(_MARKUP)
def test_cleaning_markup_is_idempotent_and_leaves_no_escape_byte(text: str) -> None:
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert "\x1b" not in cleaned
