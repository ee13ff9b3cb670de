"""Realistic generated Smartable article folders, for benchmarks and equivalence tests.

    python -m benchmarks.articles_gen DEST COUNT [--seed N] [--related real|short|none|max]

Files look like real ones (../shared/corpus and sibling folders): front matter only, the same
key order and quoting, providers with icons, images in ~66%, videos (~8%, with an iframe and no
webUrl), heat -1 in ~30%, quality 0-189, `published` true/false, a few `removed: true`, dirty
text (entities, double-escaped entities, NBSP, soft hyphens, zero-width spaces, mojibake, emoji,
escaped `\\r\\n`), and `related` lists drawn from the real distribution (median 3, mean ~22,
p90 ~62, max 179), which makes files of ~27 KB on average. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import base64
import random
import re
import sys
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

RELATED_MODES = ("real", "short", "none", "max")
MAX_RELATED = 179

_WORDS = [
    "update",
    "patch",
    "season",
    "build",
    "class",
    "skill",
    "boss",
    "dungeon",
    "raid",
    "loot",
    "legendary",
    "unique",
    "open",
    "beta",
    "launch",
    "release",
    "trailer",
    "gameplay",
    "review",
    "preview",
    "guide",
    "tier",
    "list",
    "meta",
    "nerf",
    "buff",
    "fix",
    "bug",
    "server",
    "queue",
    "crossplay",
    "console",
    "PC",
    "roadmap",
    "developer",
    "studio",
    "interview",
    "report",
    "leak",
    "rumour",
    "price",
    "edition",
    "preorder",
    "expansion",
    "campaign",
    "story",
    "quest",
    "world",
    "event",
    "reward",
    "battle",
    "pass",
    "model",
    "agent",
    "chatbot",
    "training",
    "dataset",
    "benchmark",
    "chip",
    "GPU",
    "cloud",
    "platform",
    "app",
    "low-code",
    "connector",
    "licence",
    "pricing",
    "preview",
    "feature",
    "canvas",
    "portal",
    "copilot",
    "automation",
    "workflow",
    "form",
    "rocket",
    "launch",
    "orbit",
    "satellite",
    "mission",
    "crew",
    "station",
    "lunar",
    "lander",
    "telescope",
    "probe",
    "booster",
    "engine",
    "test",
    "flight",
    "landing",
    "payload",
    "agency",
    "record",
    "first",
    "new",
    "big",
    "small",
    "fast",
    "major",
    "minor",
    "official",
    "confirmed",
    "delayed",
    "announced",
    "revealed",
    "explained",
    "tested",
    "compared",
    "ranked",
]
_TOPICS = ("AI", "Diablo 4", "Power Apps", "Space", "Cybersecurity", "Electric Vehicles")
_PROVIDERS = (
    ("TechCrunch", "techcrunch.com"),
    ("The Verge", "theverge.com"),
    ("Ars Technica", "arstechnica.com"),
    ("Wccftech", "wccftech.com"),
    ("PC Gamer", "pcgamer.com"),
    ("GamesRadar+", "gamesradar.com"),
    ("Polygon", "polygon.com"),
    ("IGN", "ign.com"),
    ("Forbes", "forbes.com"),
    ("Microsoft", "microsoft.com"),
    ("Power Apps Blog | Microsoft", "powerapps.microsoft.com"),
    ("Space.com", "space.com"),
    ("SpaceNews", "spacenews.com"),
    ("Digital Trends", "digitaltrends.com"),
    ("VentureBeat", "venturebeat.com"),
    ("Dexerto", "dexerto.com"),
    ("Game Rant", "gamerant.com"),
    ("Attack of the Fanboy", "attackofthefanboy.com"),
    ("Engadget", "engadget.com"),
    ("ZDNet", "zdnet.com"),
    ("Reuters", "reuters.com"),
    ("Heise Online", "heise.de"),
    ("Le Monde Informatique", "lemondeinformatique.fr"),
    ("Mobile Syrup", "mobilesyrup.com"),
)
_CHANNELS = ("Raxxanterax", "Fextralife", "Wudijo", "Rhykker", "Scott Manley", "Two Minute Papers")
# Dirty-text quirks seen in real folders, with the share of texts that carry each.
_QUIRKS = (
    (0.06, "&#8217;s"),
    (0.03, "&amp;#39;"),
    (0.03, "&quot;quoted&quot;"),
    (0.03, "\u00a0"),
    (0.01, "soft\u00adhyphen"),
    (0.01, "zero\u200bwidth"),
    (0.01, "â€™"),
    (0.02, "🔥"),
    (0.02, "\\r\\n"),
    (0.01, "\\t"),
    (0.02, '\\"Quoted\\"'),
    (0.01, "*bold* _under_ ~strike~ |pipe|"),
    (0.06, "Blizzard's"),
    (0.01, "'single-quoted'"),
)
_DINOSAUR = "https://www.youtube.com/img/desktop/supported_browsers/dinosaur.png"


def _related_count(rng: random.Random, mode: str) -> int:
    """Items of `related`: the real distribution is median 3, mean ~22, p90 ~62, max 179."""
    if mode == "none":
        return 0
    if mode == "max":
        return MAX_RELATED
    if mode == "short":
        return rng.choice((0, 0, 0, 0, 1, 1, 2, 3, 5, 8))
    u = rng.random()
    if u < 0.55:
        return int(u * 7.27)  # 0-3
    if u < 0.9:
        return 4 + int(58 * ((u - 0.55) / 0.35) ** 1.8)  # 4-62, convex
    return 62 + int((u - 0.9) * 10 * (MAX_RELATED - 62))


@cache
def _pool() -> str:
    """A long, fixed text of pseudo sentences; texts are slices of it (fast to draw)."""
    rng = random.Random(20260101)
    sentences = []
    for _ in range(6000):
        words = rng.choices(_WORDS, k=rng.randint(6, 24))
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def _text(rng: random.Random, low: int, high: int) -> str:
    """A slice of the pool of about low-high characters, cut at word boundaries."""
    pool = _pool()
    start = pool.find(" ", rng.randrange(len(pool) - high - 50)) + 1
    end = pool.rfind(" ", start, start + rng.randint(low, high))
    text = pool[start:end] if end > start else pool[start : start + low]
    return text[0].upper() + text[1:]


def _dirty(rng: random.Random, text: str) -> str:
    """Add at most one quirk (in ~27% of texts) and, rarely, untrimmed spaces."""
    u = rng.random()
    for share, quirk in _QUIRKS:
        if u < share:
            cut = max(text.find(" ", int(rng.random() * len(text))), 0)  # between words
            text = f"{text[:cut]} {quirk} {text[cut:]}"
            break
        u -= share
    if u > 0.97:
        text = f" {text}\u00a0 "
    return text


def _title(rng: random.Random) -> str:
    return _text(rng, 40, 110).rstrip(".")


def _slug(title: str) -> str:
    return title.lower().replace(".", "").replace("+", "").replace(" ", "-")[:80]


def _timestamp(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _image_lines(rng: random.Random, indent: str, url: str) -> list[str]:
    width = rng.choice((640, 800, 1024, 1200, 1280, 1920))
    return [
        f'{indent}- url: "{url}"',
        f"{indent}  width: {width}",
        f"{indent}  height: {width * 9 // 16}",
        f"{indent}  isCached: true",
    ]


def _related_item(rng: random.Random, moment: datetime) -> list[str]:
    video = rng.random() < 0.25
    clean_title = _title(rng)
    title = _dirty(rng, clean_title)
    excerpt = _text(rng, 320, 1200)
    published = moment + timedelta(minutes=int(rng.random() * 5760) - 2880)
    if video:
        name, domain = rng.choice(_CHANNELS), "youtube.com"
        web_url = ""
        image = f"https://i.ytimg.com/vi/{rng.randbytes(8).hex()[:11]}/maxresdefault.jpg"
    else:
        name, domain = rng.choice(_PROVIDERS)
        web_url = f"https://www.{domain}/news/{published:%Y/%m}/{_slug(clean_title)}/"
        image = f"https://www.{domain}/wp-content/uploads/{published:%Y/%m}/{int(rng.random() * 10**6)}.jpg"
    lines = [
        f'  - title: "{title}"',
        f'    excerpt: "{_dirty(rng, excerpt)}"',
        f"    publishedDateTime: {_timestamp(published)}",
        f'    webUrl: "{web_url}"',
    ]
    if web_url and rng.random() < 0.33:  # AMP links, as a third of real items have
        cdn = domain.replace(".", "-")
        lines.append(f'    ampWebUrl: "{web_url}amp/"')
        lines.append(
            f'    cdnAmpWebUrl: "https://www-{cdn}.cdn.ampproject.org/c/s/{web_url[8:]}amp/"'
        )
    lines += [
        f"    type: {'video' if video else 'article'}",
        "    provider:",
        f"      name: {name}",
        f"      domain: {domain}",
        f"    quality: {int(rng.random() * 190)}",
    ]
    if rng.random() < 0.8:
        lines.append("    images:")
        lines += _image_lines(rng, "      ", image)
    return lines


def generate_article_text(
    rng: random.Random,
    *,
    related_count: int | None = None,
    related: str = "real",
    video: bool | None = None,
    start: datetime | None = None,
) -> str:
    """One realistic Smartable article file (front matter only), drawn from `rng`."""
    base = start or datetime(2026, 1, 1, tzinfo=UTC)
    moment = base + timedelta(seconds=rng.randrange(365 * 86400))
    video = rng.random() < 0.08 if video is None else video
    title = _title(rng)
    excerpt = _text(rng, 80, 400)
    if rng.random() < 0.026:
        excerpt = ""
    topic_count = 1 if rng.random() < 0.8 else 2
    topics = rng.sample(_TOPICS, topic_count)
    if video:
        name, domain = rng.choice(_CHANNELS), "youtube.com"
        video_id = base64.urlsafe_b64encode(rng.randbytes(9)).decode()[:11]
        original = f"https://youtube.com/watch?v={video_id}"
        web_url = None
    else:
        name, domain = rng.choice(_PROVIDERS)
        web_url = f"https://www.{domain}/{moment:%Y/%m/%d}/{_slug(title)}/"
        if rng.random() < 0.05:
            web_url += "?utm_source=smartable&utm_medium=feed"
        original = web_url
    lines = [
        "---",
        "category: news",
        f'title: "{_dirty(rng, title)}"',
        f'excerpt: "{_dirty(rng, excerpt)}"',
        f"publishedDateTime: {_timestamp(moment)}",
        f'originalUrl: "{original}"',
    ]
    if web_url:
        lines.append(f'webUrl: "{web_url}"')
        if rng.random() < 0.2:
            lines.append(f'ampWebUrl: "{web_url}amp/"')
            cdn = domain.replace(".", "-")
            lines.append(f'cdnAmpWebUrl: "https://{cdn}.cdn.ampproject.org/c/s/{domain}/amp/"')
    lines.append(f"type: {'video' if video else 'article'}")
    if rng.random() > 0.015:
        heat = -1 if rng.random() < 0.3 else rng.randint(0, 3700)
        lines += [
            f"quality: {rng.randint(0, 189)}",
            f"heat: {heat}",
            f"published: {'true' if rng.random() < 0.58 else 'false'}",
        ]
    if rng.random() < 0.005:
        lines.append("removed: true")
    lines.append("")
    if video:
        lines.append(
            'featuredContent: "<iframe width=\\"800\\" height=\\"500\\" frameborder=\\"0\\" '
            f'src=\\"https://www.youtube.com/embed/{video_id}\\" allow=\\"accelerometer; '
            'autoplay; encrypted-media\\" allowfullscreen></iframe>"'
        )
        lines.append("")
    icon = f"https://smartableai.github.io/news/assets/images/organizations/{domain}-50x50.jpg"
    lines += ["provider:", f"  name: {name}", f"  domain: {domain}", "  images:"]
    lines += [f'    - url: "{icon}"', "      width: 50", "      height: 50", ""]
    lines.append("topics:")
    lines += [f"  - {topic}" for topic in topics]
    if rng.random() < 0.003:
        lines.append("  - ")
    lines.append("")
    if video or rng.random() < 0.66:
        lines.append("images:")
        if video:
            url = f"https://i.ytimg.com/vi/{video_id}/maxresdefault.jpg"
            if rng.random() < 0.1:
                url = _DINOSAUR
        else:
            url = f"https://cdn.{domain}/images/{moment:%Y/%m}/{rng.randrange(10**7)}.jpg"
            if rng.random() < 0.02:
                url = url.replace("/images/", "/images/big photo é/")
        lines += _image_lines(rng, "  ", url)
        lines.append("")
    count = _related_count(rng, related) if related_count is None else related_count
    if count:
        lines.append("related:")
        for _ in range(count):
            lines += _related_item(rng, moment)
        lines.append("")
    secured = base64.b64encode(rng.randbytes(rng.randint(200, 320))).decode()
    lines += [f'secured: "{secured};{base64.b64encode(rng.randbytes(16)).decode()}"', "---", ""]
    return "\n".join(lines)


def generate_folder(dest: Path, count: int, *, seed: int = 0, related: str = "real") -> list[Path]:
    """Write `count` articles into `dest` (created); returns their paths, in writing order."""
    if related not in RELATED_MODES:
        raise ValueError(f"related must be one of {', '.join(RELATED_MODES)}, not {related!r}")
    dest.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths: list[Path] = []
    seen: set[str] = set()
    for index in range(count):
        text = generate_article_text(rng, related=related)
        title_line = text.split("\n", 3)[2]
        day = text.split("publishedDateTime: ", 1)[1][:10]
        slug = re.sub(r"[^a-z0-9]+", "-", title_line[8:-1].lower()).strip("-")[:80]
        name = f"{day}-{slug}"
        if name in seen:
            name = f"{name}-{index}"
        seen.add(name)
        path = dest / f"{name}.md"
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dest", type=Path)
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--related", choices=RELATED_MODES, default="real")
    args = parser.parse_args(argv)
    paths = generate_folder(args.dest, args.count, seed=args.seed, related=args.related)
    total = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} files, {total / max(len(paths), 1) / 1024:.1f} KB on average")
    return 0


if __name__ == "__main__":
    sys.exit(main())
