"""The search index: derived data, rebuilt or synced from the store by revision."""
