"""Real Git repositories in a tmp folder, shaped like a Smartable site (one `_news/` folder)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ARTICLE = """---
title: "{title}"
excerpt: "About {title}."
publishedDateTime: 2026-03-0{day}T08:30:00Z
originalUrl: "https://news.example.com/{slug}"
webUrl: "https://news.example.com/{slug}"
type: article
quality: {quality}
heat: {heat}
published: false
removed: {removed}
provider:
  name: Example News
  domain: example.com
topics:
  - {topic}
secured: "opaque-{heat}"
---
"""


def article_text(
    slug: str,
    *,
    title: str | None = None,
    heat: int = -1,
    quality: int = 80,
    removed: bool = False,
    topic: str = "AI",
    day: int = 2,
) -> str:
    return ARTICLE.format(
        title=title or slug.replace("-", " ").title(),
        slug=slug,
        heat=heat,
        quality=quality,
        removed="true" if removed else "false",
        topic=topic,
        day=day,
    )


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - the test's own arguments
        ["git", *args],  # noqa: S607 - the git on PATH, as the bot uses it
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout.strip()


class Origin:
    """A repository to fetch from (through a file:// URL, so shallow fetches really apply)."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = path
        self.branch = branch
        path.mkdir(parents=True)
        git(path, "init", "--quiet", "-b", branch)
        for key, value in (
            ("user.name", "Publisher"),
            ("user.email", "publisher@example.com"),
            ("uploadpack.allowFilter", "true"),
            ("uploadpack.allowAnySHA1InWant", "true"),
            ("commit.gpgsign", "false"),
        ):
            git(path, "config", key, value)
        (path / "_config.yml").write_text("title: news site\n", encoding="utf-8")
        (path / "index.html").write_text("<html></html>\n", encoding="utf-8")

    @property
    def url(self) -> str:
        return self.path.as_uri()

    def news(self, slug: str, **fields: object) -> Path:
        target = self.path / "_news" / f"2026-03-02-{slug}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(article_text(slug, **fields), encoding="utf-8")  # type: ignore[arg-type]
        return target

    def delete(self, slug: str) -> None:
        (self.path / "_news" / f"2026-03-02-{slug}.md").unlink()

    def commit(self, message: str = "update") -> str:
        git(self.path, "add", "-A")
        git(self.path, "commit", "--quiet", "--allow-empty", "-m", message)
        return git(self.path, "rev-parse", "HEAD")
