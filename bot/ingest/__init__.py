"""Reading Smartable article files: parse, clean, identify (pure; no Discord, no store).

The ingest runner lives in `bot.store.ingest` and is not re-exported here (import cycles).
"""

from bot.core.urls import clean_url
from bot.ingest.clean import clean_text
from bot.ingest.identity import canonical_url
from bot.ingest.parse import ParsedFile, Rejection, load_front_matter, parse_bytes, parse_file
from bot.ingest.related import parse_related

__all__ = [
    "ParsedFile",
    "Rejection",
    "canonical_url",
    "clean_text",
    "clean_url",
    "load_front_matter",
    "parse_bytes",
    "parse_file",
    "parse_related",
]
