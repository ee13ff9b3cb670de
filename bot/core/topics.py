"""How topics are matched everywhere (digests, search filters, commands): one normaliser."""

from __future__ import annotations


def topic_key(topic: str) -> str:
    """A topic's matching key: case, surrounding and repeated spaces do not matter."""
    return " ".join(topic.split()).casefold()
