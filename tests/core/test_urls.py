"""The one URL policy: cleaning, canonical form and embed safety are idempotent and never raise."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.urls import MAX_URL_LENGTH, canonical_url, clean_url, safe_url, video_page_url

_HOSTS = st.sampled_from(
    [
        *("example.com", "www.Example.com", "exämple.com", "youtu.be", "www.youtube.com"),
        *("localhost", "a.b.c.example", "[::1]", "bad host.com", "x", "例え.jp"),
    ]
)
_PARTS = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@st.composite
def urlish(draw: st.DrawFn) -> str:
    """Mostly URL-shaped text: odd schemes, hosts, ports, paths, queries and fragments."""
    scheme = draw(st.sampled_from(["http", "https", "HTTPS", "ftp", "javascript", ""]))
    host = draw(_HOSTS)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":99999", ":x"]))
    path = draw(_PARTS)
    query = draw(st.sampled_from(["", "?utm_source=x&b=2&a=1", "?v=dQw4w9WgXcQ", "?q=ä b"]))
    fragment = draw(st.sampled_from(["", "#top", "#[x]"]))
    return f"{scheme}://{host}{port}/{path}{query}{fragment}"


ANY_URL = st.one_of(urlish(), st.text(max_size=60))


@settings(max_examples=400, deadline=None)
@given(ANY_URL)
def test_each_form_is_idempotent(raw: str) -> None:
    cleaned = clean_url(raw)
    if cleaned is not None:
        assert clean_url(cleaned) == cleaned
        assert canonical_url(cleaned) == canonical_url(raw)  # cleaning keeps the identity
    canonical = canonical_url(raw)
    assert canonical_url(canonical) == canonical
    embed = safe_url(raw)
    if embed is not None:
        assert safe_url(embed) == embed
    page = video_page_url(raw)
    assert video_page_url(page) == page


@settings(max_examples=400, deadline=None)
@given(ANY_URL)
def test_what_goes_into_an_embed_is_a_plain_http_url(raw: str) -> None:
    embed = safe_url(raw)
    if embed is None:
        return
    assert embed.startswith(("http://", "https://"))
    assert len(embed) <= MAX_URL_LENGTH
    assert embed.isascii()
    assert not any(ch.isspace() for ch in embed)
    assert "@" not in embed.split("/")[2]  # no user name or password
    assert "[" not in embed
    assert "]" not in embed


def test_youtube_forms_are_one_video() -> None:
    forms = [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ&utm_source=x",
        "https://youtu.be/dQw4w9WgXcQ",
        "https://www.youtube.com/embed/dQw4w9WgXcQ?autoplay=1",
    ]
    assert {canonical_url(f) for f in forms} == {"https://youtube.com/watch?v=dQw4w9WgXcQ"}
    assert {video_page_url(f) for f in forms} == {"https://youtube.com/watch?v=dQw4w9WgXcQ"}
