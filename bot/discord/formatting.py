"""Digests and result lists as Discord message payloads, within every Discord limit.

A payload is the JSON body of POST /channels/{id}/messages without a nonce (delivery adds one
per message). Text from articles is markdown-escaped and can never ping anyone; every URL is
a valid http(s) URL of at most 2,048 characters or is left out.
"""

from __future__ import annotations

import colorsys
import re
import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.models import Article, Digest, DigestItem, GuildSettings, Image
from bot.core.server_settings import format_weekdays, summary
from bot.core.urls import safe_url
from bot.store.guilds import GuildState

if TYPE_CHECKING:
    from bot.core.why import Explanation
    from bot.search.index import SearchHit

NO_MENTIONS: dict[str, Any] = {"parse": []}
"""`allowed_mentions` of every payload: nothing pings (each payload gets its own copy)."""
SUPPRESS_NOTIFICATIONS = 4096
RESULTS_PER_PAGE = 5
"""search_page/top_page number their lines as if each page holds this many results."""

CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL_MAX = 6000
URL_MAX = 2048
EXCERPT_MAX = 350
"""Digest excerpts are cut to this many characters: a digest is for skimming."""
LIST_TITLE_MAX = 150
MIN_IMAGE_SIDE = 100
DEFAULT_COLOUR = 0x5865F2

_PLACEHOLDER_IMAGES = (
    "/supported_browsers/dinosaur.png",
    "social-default-image",
    "sd-default-image",
    "/images/default.jpg",
)
_ESCAPE = re.compile(r"([\\*_~|`\[\]()<>])")
_LINE_START = re.compile(r"^(\s*)([#\-+])", re.MULTILINE)
_NUMBERED = re.compile(r"^(\s*\d+)\.(?=\s)", re.MULTILINE)
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)


def escape_markdown(text: str) -> str:
    """Backslash-escape everything Discord would render as markdown, and defuse mentions."""
    escaped = _ESCAPE.sub(r"\\\1", text)
    escaped = _LINE_START.sub(r"\1\\\2", escaped)
    escaped = _NUMBERED.sub(r"\1\\.", escaped)
    return neutralise_mentions(escaped)


def neutralise_mentions(text: str) -> str:
    """`@everyone`/`@here` with a zero-width space after the @, so they cannot ping."""
    return _MASS_MENTION.sub("@\u200b\\1", text).replace("<@", "<\u200b@")


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters on a word boundary, ending in an ellipsis."""
    if len(text) <= limit:
        return text
    if limit < 1:
        return ""
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if not text[limit - 1].isspace() and space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-\u2014") + "…"


def fit(text: str, limit: int, *, markdown: bool = True) -> str:
    """Truncate, then escape (when `markdown`), so the result is at most `limit` characters."""
    raw_limit = limit
    while raw_limit > 0:
        cut = truncate(text, raw_limit)
        out = escape_markdown(cut) if markdown else neutralise_mentions(cut)
        if len(out) <= limit:
            return out
        raw_limit -= max(len(out) - limit, 1)
    return ""


def article_link(article: Article) -> str | None:
    """The best usable link: the video for videos, else the article; never a broken one."""
    candidates: tuple[str | None, ...]
    if article.kind == "video":
        candidates = (article.video_url, article.url, article.original_url)
    else:
        candidates = (article.url, article.original_url, article.video_url)
    for candidate in candidates:
        url = safe_url(candidate)
        if url is not None:
            return url
    return None


def usable_image(images: Sequence[Image]) -> str | None:
    """The first image that is a real picture: a valid URL, not a placeholder, not tiny."""
    for image in images:
        url = safe_url(image.url)
        if url is None or any(p in url.lower() for p in _PLACEHOLDER_IMAGES):
            continue
        if (image.width is not None and image.width < MIN_IMAGE_SIDE) or (
            image.height is not None and image.height < MIN_IMAGE_SIDE
        ):
            continue
        return url
    return None


def topic_colour(topic: str, topic_colors: Mapping[str, str]) -> int:
    """The configured `#RRGGBB` colour of a topic, else a stable colour derived from its name."""
    wanted = topic.strip().casefold()
    for name, value in topic_colors.items():
        if name.strip().casefold() == wanted and re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            return int(value[1:], 16)
    hue = (zlib.crc32(wanted.encode("utf-8")) % 360) / 360.0
    red, green, blue = colorsys.hsv_to_rgb(hue, 0.55, 0.85)
    return (round(red * 255) << 16) | (round(green * 255) << 8) | round(blue * 255)


def embed_length(embed: Mapping[str, Any]) -> int:
    """Characters counted against Discord's 6,000 per message (title, description, fields,
    footer text, author name)."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for field in embed.get("fields") or ():
        total += len(field.get("name") or "") + len(field.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def _names(names: Sequence[str], limit: int) -> str:
    """Comma-separated escaped names within `limit`, ending "and N more" when cut."""
    shown: list[str] = []
    length = 0
    for count, name in enumerate(names):
        piece = fit(name, 100)
        remaining = len(names) - count - 1
        reserve = len(f" and {remaining} more") if remaining else 0
        added = len(piece) + (2 if shown else 0)
        if length + added + reserve > limit:
            more = len(names) - count
            return ", ".join(shown) + f" and {more} more" if shown else f"{more} outlets"
        shown.append(piece)
        length += added
    return ", ".join(shown)


def _signals(item: DigestItem, topic: str | None) -> str:
    article = item.article
    parts = [topic] if topic else []
    if article.quality is not None:
        parts.append(f"quality {article.quality}")
    if article.heat is not None:
        parts.append(f"heat {article.heat}")
    if item.coverage > 0:
        parts.append(f"{item.coverage + 1} outlets")
    return " · ".join(parts)


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _title(article: Article, limit: int) -> str:
    title = article.title.strip() or article.provider.name.strip() or "Untitled"
    prefix = "▶ " if article.kind == "video" else ""
    return prefix + fit(title, limit - len(prefix))


def article_embed(
    item: DigestItem, *, topic: str, colour: int, large_image: bool
) -> dict[str, Any]:
    """One story of a digest as an embed."""
    article = item.article
    embed: dict[str, Any] = {"title": _title(article, TITLE_MAX), "color": colour}
    link = article_link(article)
    if link is not None:
        embed["url"] = link
    excerpt = fit(article.excerpt.strip(), EXCERPT_MAX)
    if excerpt:
        embed["description"] = excerpt
    provider = article.provider
    name = fit(provider.name.strip(), AUTHOR_MAX, markdown=False)
    if name:
        author: dict[str, Any] = {"name": name}
        icon = safe_url(provider.icon_url)
        if icon is not None:
            author["icon_url"] = icon
        home = safe_url(f"https://{provider.domain.strip()}") if provider.domain.strip() else None
        if home is not None:
            author["url"] = home
        embed["author"] = author
    if item.also_covered_by:
        embed["fields"] = [
            {
                "name": "Also covered by",
                "value": _names(item.also_covered_by, FIELD_VALUE_MAX),
                "inline": False,
            }
        ]
    image = usable_image(article.images)
    if image is not None:
        embed["image" if large_image else "thumbnail"] = {"url": image}
    embed["timestamp"] = _timestamp(article.published)
    embed["footer"] = {"text": fit(_signals(item, topic), FOOTER_MAX, markdown=False)}
    return embed


def local_date(moment: datetime, timezone: str) -> str:
    """`Thursday 26 November 2026`: the date of `moment` in `timezone` (UTC if unknown)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y}"


def _payload(content: str | None, embeds: list[dict[str, Any]], *, silent: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if content:
        payload["content"] = content
    if embeds:
        payload["embeds"] = embeds
    payload["allowed_mentions"] = {"parse": []}
    if silent:
        payload["flags"] = SUPPRESS_NOTIFICATIONS
    return payload


def pack_messages(
    content: str | None, embeds: Sequence[dict[str, Any]], *, silent: bool = False
) -> list[dict[str, Any]]:
    """Embeds split over as few messages as the limits allow (≤10 and ≤6,000 characters each);
    `content` goes on the first message."""
    messages: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    total = 0
    for embed in embeds:
        size = embed_length(embed)
        if current and (len(current) == EMBEDS_PER_MESSAGE or total + size > EMBED_TOTAL_MAX):
            messages.append(_payload(None if messages else content, current, silent=silent))
            current, total = [], 0
        current.append(embed)
        total += size
    if current or not messages:
        messages.append(_payload(None if messages else content, current, silent=silent))
    return messages


def digest_header(digest: Digest) -> str:
    """The first line of a digest: date in the server's time zone and the topics."""
    date = local_date(digest.window_end, digest.timezone)
    head = f"📰 **News digest** — {date}"
    topics = [section.topic for section in digest.sections]
    if not topics:
        return head
    return f"{head} · {fit(', '.join(topics), CONTENT_MAX - len(head) - 3)}"


def digest_messages(
    digest: Digest, *, topic_colors: Mapping[str, str], silent: bool = False
) -> list[dict[str, Any]]:
    """A digest as message payloads: a header line, then one embed per story, best first.

    The first story of the digest gets a large image, the others a thumbnail.
    """
    embeds: list[dict[str, Any]] = []
    for section in digest.sections:
        colour = topic_colour(section.topic, topic_colors)
        for item in section.items:
            embeds.append(
                article_embed(item, topic=section.topic, colour=colour, large_image=not embeds)
            )
    return pack_messages(digest_header(digest), embeds, silent=silent)


def _list_line(number: int, article: Article, details: Sequence[str]) -> str:
    title = _title(article, LIST_TITLE_MAX)
    link = article_link(article)
    if link is not None:
        title = f"[{title}]({link.replace('(', '%28').replace(')', '%29')})"
    meta = [fit(article.provider.name.strip(), 100)] if article.provider.name.strip() else []
    meta.append(f"<t:{int(article.published.timestamp())}:d>")
    meta.extend(details)
    return f"**{number}.** {title}\n{' · '.join(meta)}"


def _list_embed(title: str, lines: Sequence[str], footer: str, empty: str) -> dict[str, Any]:
    description = ""
    shown = 0
    for line in lines:
        candidate = f"{description}\n\n{line}" if description else line
        if len(candidate) > DESCRIPTION_MAX:
            break
        description, shown = candidate, shown + 1
    embed: dict[str, Any] = {
        "title": title,
        "description": description or empty,
        "color": DEFAULT_COLOUR,
        "footer": {"text": fit(footer, FOOTER_MAX, markdown=False)},
    }
    return embed


def _page_footer(page: int, pages: int, total: int | None) -> str:
    text = f"Page {max(page, 1)}/{max(pages, 1)}"
    if total is not None:
        text += f" · {total} result{'' if total == 1 else 's'}"
    return text


def search_page(
    hits: Sequence[SearchHit], *, query: str, page: int, pages: int, total: int | None = None
) -> dict[str, Any]:
    """One page of search results as one embed of numbered, linked lines."""
    first = (max(page, 1) - 1) * RESULTS_PER_PAGE + 1
    lines = []
    for offset, hit in enumerate(hits):
        details = [fit(hit.article.topics[0], 60)] if hit.article.topics else []
        if hit.also:
            details.append(fit("also: " + ", ".join(hit.also), 200))
        lines.append(_list_line(first + offset, hit.article, details))
    shown_query = query.strip() or "(empty)"
    embed = _list_embed(
        fit(f"🔎 {shown_query}", TITLE_MAX),
        lines,
        _page_footer(page, pages, total),
        f"No articles match {fit(shown_query, 200)}. Try fewer or other words.",
    )
    return _payload(None, [embed], silent=False)


def top_page(
    items: Sequence[DigestItem], *, topic: str | None, page: int, pages: int
) -> dict[str, Any]:
    """One page of `/news top` as one embed of numbered, linked lines with their signals."""
    first = (max(page, 1) - 1) * RESULTS_PER_PAGE + 1
    lines = []
    for offset, item in enumerate(items):
        details = [signals] if (signals := _signals(item, None)) else []
        if item.also_covered_by:
            details.append(fit("also: " + ", ".join(item.also_covered_by[:5]), 200))
        lines.append(_list_line(first + offset, item.article, details))
    heading = f"🏆 Top stories — {topic.strip()}" if topic and topic.strip() else "🏆 Top stories"
    embed = _list_embed(
        fit(heading, TITLE_MAX),
        lines,
        _page_footer(page, pages, None),
        "No stories in this period yet.",
    )
    return _payload(None, [embed], silent=False)


WHY_INCLUDED_COLOUR = 0x57F287
WHY_EXCLUDED_COLOUR = 0xED4245
_WHY_REASON_MAX = 1500


def _link(text: str, url: str | None) -> str:
    """`text` (already escaped) as a markdown link when `url` is usable."""
    link = safe_url(url)
    if link is None:
        return text
    return f"[{text}]({link.replace('(', '%28').replace(')', '%29')})"


def _lines_within(lines: Sequence[str], limit: int, separator: str = "\n") -> str:
    """As many whole lines as fit in `limit` characters, then "… and N more"."""
    shown: list[str] = []
    length = 0
    for count, line in enumerate(lines):
        more = len(lines) - count - 1
        reserve = len(f"{separator}… and {more} more") if more else 0
        if length + len(line) + len(separator) + reserve > limit:
            shown.append(f"… and {len(lines) - count} more")
            break
        shown.append(line)
        length += len(line) + len(separator)
    return separator.join(shown)


def why_message(
    explanation: Explanation, *, settings: GuildSettings, server_digest: bool
) -> dict[str, Any]:
    """`/news why` as one embed: the verdict and its reason, the score, the story, the other
    outlets, and which digest was asked about (this server's, or a default one)."""
    article = explanation.article
    included = explanation.verdict == "included"
    head = "✅ **In the digest**" if included else "❌ **Not in the digest**"
    reason = fit(explanation.reason[:1].upper() + explanation.reason[1:], _WHY_REASON_MAX)
    embed: dict[str, Any] = {
        "title": _title(article, TITLE_MAX),
        "description": f"{head} — {reason}",
        "color": WHY_INCLUDED_COLOUR if included else WHY_EXCLUDED_COLOUR,
    }
    link = article_link(article)
    if link is not None:
        embed["url"] = link
    score = explanation.score
    note = " (of its story's best copy)" if explanation.shown_as is not None else ""
    fields = [
        {
            "name": "Score",
            "value": f"**{score.total:.2f}** = quality {score.quality:.2f} + heat "
            f"{score.heat:.2f} + coverage {score.coverage:.2f} + recency {score.recency:.2f}"
            + note,
            "inline": False,
        }
    ]
    members = [
        f"{'▸ ' if m.id == article.id else ''}{_link(fit(m.title, LIST_TITLE_MAX), m.url)} — "
        f"{fit(m.provider, 100)} · <t:{int(m.published.timestamp())}:d>"
        for m in explanation.members
    ]
    if len(members) > 1:
        fields.append(
            {
                "name": f"Story: {len(members)} copies",
                "value": _lines_within(members, FIELD_VALUE_MAX),
                "inline": False,
            }
        )
    if explanation.coverage:
        outlets = [_link(fit(c.provider, 100), c.url) for c in explanation.coverage]
        fields.append(
            {
                "name": "Also covered by",
                "value": _lines_within(outlets, FIELD_VALUE_MAX, " · "),
                "inline": False,
            }
        )
    topics = fit(", ".join(settings.topics), 300) or "none yet"
    whose = "This server's digest" if server_digest else "A default digest"
    start, end = int(explanation.window_start.timestamp()), int(explanation.window_end.timestamp())
    window = f"window <t:{start}:f> → <t:{end}:f>"
    if start >= end:
        window = f"nothing new yet: the last digest was <t:{end}:R>"
    scope = (
        f"{whose}: topics {topics} · {settings.per_topic} per topic · min quality "
        f"{settings.min_quality} · at most {settings.max_per_provider} per outlet · {window}"
    )
    fields.append({"name": "Digest", "value": scope, "inline": False})  # < 1024: topics ≤ 300
    embed["fields"] = fields
    embed["timestamp"] = _timestamp(article.published)
    provider = fit(article.provider.name.strip(), FOOTER_MAX, markdown=False)
    if provider:
        embed["footer"] = {"text": provider}
    return _payload(None, [embed], silent=False)


def stale_sources_text(stale: Sequence[tuple[str, datetime | None]], limit: int = 1024) -> str:
    """One line per failing news source for `/digest show` (admins): "news source X stale
    since <date> (<relative>)", or "never loaded" when it has not succeeded yet."""
    lines = []
    for name, since in stale:
        label = escape_markdown(name)
        if since is None:
            lines.append(f"⚠️ news source {label} has not loaded yet")
        else:
            moment = since.astimezone(UTC)
            lines.append(
                f"⚠️ news source {label} stale since {moment:%Y-%m-%d %H:%M} UTC "
                f"(<t:{int(moment.timestamp())}:R>)"
            )
    return fit("\n".join(lines), limit, markdown=False)


def text_embed(title: str, description: str) -> dict[str, Any]:
    """A message of one embed with a title and a text (cut to Discord's limit)."""
    return {"embeds": [{"title": title, "description": description[:DESCRIPTION_MAX]}]}


def status_page(
    state: GuildState,
    *,
    guild_name: str | None = None,
    stale_sources: Sequence[tuple[str, datetime | None]] = (),
    delivered_by: str | None = None,
) -> dict[str, Any]:
    """The `/digest show` status page as a message payload (with the failing news sources and,
    when several bot processes run, the one that delivers)."""
    s = state.settings
    tz = ZoneInfo(s.timezone)
    if state.removed_at is not None:
        status = "stopped (the bot left this server)"
    elif state.failing_reason:
        status = f"⚠️ failing: {state.failing_reason}"
    elif s.paused:
        status = "paused (/digest resume to restart)"
    elif s.channel_id is None:
        status = "not set up: choose a channel with /digest channel"
    elif not s.topics:
        status = "not set up: add a topic with /digest topics add"
    else:
        status = "active"
    if state.next_run_at is not None:
        local = state.next_run_at.astimezone(tz)
        next_run = (
            f"{local:%a %Y-%m-%d %H:%M} ({s.timezone}) — <t:{int(state.next_run_at.timestamp())}:R>"
        )
    else:
        next_run = "none"
    fields = [
        {"name": "Status", "value": status[:1024], "inline": False},
        {
            "name": "Channel",
            "value": f"<#{s.channel_id}>" if s.channel_id else "not set",
            "inline": True,
        },
        {"name": "Topics", "value": (", ".join(s.topics) or "none")[:1024], "inline": True},
        {
            "name": "Schedule",
            "value": f"{s.time:%H:%M} {s.timezone}, {format_weekdays(s.weekdays)}",
            "inline": False,
        },
        {"name": "Next run", "value": next_run[:1024], "inline": False},
        {
            "name": "Settings",
            "value": summary(s)[:1024],
            "inline": False,
        },
        {
            "name": "Last result",
            "value": (state.last_result or "no digest yet")[:1024],
            "inline": False,
        },
    ]
    if stale_sources:
        fields.insert(
            1, {"name": "News sources", "value": stale_sources_text(stale_sources), "inline": False}
        )
    if delivered_by:
        fields.append({"name": "Delivered by", "value": delivered_by[:1024], "inline": False})
    title = "News digest" + (f" — {guild_name}"[:200] if guild_name else "")
    return {"embeds": [{"title": title, "fields": fields}]}


def next_run_line(state: GuildState) -> str:
    """One sentence about a server's next digest, in its own time zone."""
    if state.next_run_at is None:
        if state.settings.paused:
            return "No run is scheduled while paused."
        return "No run is scheduled yet (it needs a channel and at least one topic)."
    local = state.next_run_at.astimezone(ZoneInfo(state.settings.timezone))
    return f"Next digest: {local:%a %Y-%m-%d %H:%M} ({state.settings.timezone})."
