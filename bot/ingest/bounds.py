"""The ranges an article's numbers must fall in, and how a value is shown in a reason (pure).

A value no real feed produces (beyond 64 bits, infinite, NaN, far outside its scale) makes the
file a rejection naming the field, rather than a crash in the store (SQLite INTEGER is 64-bit)
or a nonsense score. Real folders hold quality 0-189, heat -1 (unknown) or 0 to a few thousand,
image sides of a few thousand pixels and publication dates of this century.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

HEAT_MAX = 1_000_000  # ~270x the highest heat seen in real folders
PIXELS_MAX = 100_000  # an image side
UNKNOWN = -1  # upstream's "unknown" for quality and heat
PUBLISHED_MIN = datetime(1900, 1, 1, tzinfo=UTC)
PUBLISHED_MAX = datetime(2200, 1, 1, tzinfo=UTC)  # exclusive
SQLITE_INT_MIN, SQLITE_INT_MAX = -(2**63), 2**63 - 1
_SHOWN_CHARS = 40


def is_number(value: object) -> bool:
    """An int or float from YAML (booleans are not numbers here)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def whole(value: object) -> int | None:
    """The value as an int when it is a whole number (an int, or a float like 90.0); else None
    (text, booleans, fractions, infinities and NaN)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def fits_64_bits(value: int) -> bool:
    return SQLITE_INT_MIN <= value <= SQLITE_INT_MAX


def shown(value: object) -> str:
    """A value as a reason shows it: short, and never raising (Python refuses to print ints of
    more than 4,300 digits)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not fits_64_bits(value):
            return f"a number beyond 64 bits ({value.bit_length():,} bits)"
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        text = " ".join(value.split())
        return repr(text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…")
    names = {list: "a list", dict: "a mapping", datetime: "a date and time"}
    return names.get(type(value), type(value).__name__)


def as_text(value: object) -> str | None:
    """Text, or a number written as text (a title of `2048`); None for anything else, or for a
    number no text field would hold (beyond 64 bits, infinite, NaN)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if fits_64_bits(value) else None
    if isinstance(value, float) and math.isfinite(value):
        return str(value)
    return None


def in_scale(value: object, maximum: int) -> int | None:
    """A whole number in 0..maximum as itself, UNKNOWN (-1) or a missing value as None; anything
    else raises ValueError with the reason (what it is, what is expected)."""
    if value is None:
        return None
    number = whole(value)
    if number is None:
        raise ValueError(f"must be a whole number, got {shown(value)}")
    if number == UNKNOWN:
        return None
    if not 0 <= number <= maximum:
        raise ValueError(
            f"is out of range: {shown(value)} (expected 0 to {maximum:,}, or -1 for unknown)"
        )
    return number


def published_in_range(value: datetime) -> bool:
    return PUBLISHED_MIN <= value < PUBLISHED_MAX
