"""When a server's next digest is due: its local time on its weekdays, in its own time zone.

Pure: zoneinfo only. A local time that does not exist (the hour skipped when clocks go forward)
is read with the offset before the change, so that day's digest still comes (an hour later); a
local time that happens twice (clocks going back) is the first of the two: one run per local day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.models import GuildSettings


def next_run_after(settings: GuildSettings, after: datetime) -> datetime | None:
    """The first scheduled run strictly after `after` (whole seconds, UTC), or None if inactive."""
    if after.tzinfo is None:
        raise ValueError("next_run_after needs a timezone-aware `after`")
    if not settings.active or not settings.weekdays:
        return None
    zone = ZoneInfo(settings.timezone)
    earliest = after.replace(microsecond=0) + timedelta(seconds=1)
    at = settings.time.replace(second=0, microsecond=0, tzinfo=None)
    day = earliest.astimezone(zone).date() - timedelta(days=1)
    for _ in range(9):  # a week of days, plus one either side of a zone change
        if day.weekday() in settings.weekdays:
            run = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
            if run >= earliest:
                return run
        day += timedelta(days=1)
    return None
