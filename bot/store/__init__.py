"""SQLite storage: articles and their source files (guild settings and the ledger live beside)."""

from bot.store.db import ArticleChange, Store, StoreError, from_us, to_us

__all__ = ["ArticleChange", "Store", "StoreError", "from_us", "to_us"]
