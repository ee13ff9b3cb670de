"""Where article files come from: local folders, and Git repositories kept fresh.

`SourceManager` refreshes each configured source into the store and records its state;
`bot.sources.git` runs git, `bot.sources.tree` builds and swaps a Git source's folder.
"""

from bot.sources.manager import RefreshResult, SourceManager, UnknownSource

__all__ = ["RefreshResult", "SourceManager", "UnknownSource"]
