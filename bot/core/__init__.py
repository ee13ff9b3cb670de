"""The pure core: articles, ranking, same-story grouping, digest composition.

Imports nothing from discord, the store, the search index or the edge (import-linter holds it).
"""
