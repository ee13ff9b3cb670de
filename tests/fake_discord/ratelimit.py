"""Discord-style rate limits: a global sliding window and per-route buckets with headers."""

from __future__ import annotations

import hashlib
import time
from collections import deque
from dataclasses import dataclass, field

#: Default per-route buckets: (method, template) -> (limit, per seconds).
DEFAULT_BUCKETS: dict[tuple[str, str], tuple[int, float]] = {
    ("POST", "/channels/{channel_id}/messages"): (5, 5.0),
}
DEFAULT_LIMIT = (50, 1.0)
#: Path parameters that make a bucket distinct (Discord's "major parameters").
MAJOR_PARAMS = ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id")


@dataclass(slots=True)
class Bucket:
    limit: int
    per: float
    used: int = 0
    window_end: float = 0.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """Outcome of one request against the limits: headers to send, and a 429 when limited."""

    headers: dict[str, str]
    limited: bool = False
    is_global: bool = False
    retry_after: float = 0.0


@dataclass(slots=True)
class RateLimiter:
    """Global limit (sliding one-second window) and fixed-window per-route buckets."""

    enabled: bool = True
    global_limit: int = 50
    global_window: float = 1.0
    buckets: dict[tuple[str, str], tuple[int, float]] = field(
        default_factory=lambda: dict(DEFAULT_BUCKETS)
    )
    default: tuple[int, float] = DEFAULT_LIMIT
    _global_hits: deque[float] = field(default_factory=deque)
    _state: dict[tuple[str, str, tuple[str, ...]], Bucket] = field(default_factory=dict)

    def set_bucket(self, method: str, template: str, *, limit: int, per: float) -> None:
        """Configure one route's bucket (e.g. 5 per 5 s for message creation)."""
        self.buckets[(method.upper(), template)] = (limit, per)
        self._state.clear()

    def reset(self) -> None:
        self._global_hits.clear()
        self._state.clear()

    def check(
        self, method: str, template: str, params: dict[str, str], *, global_exempt: bool
    ) -> Verdict:
        """Count one request; report its headers and whether it is limited (not counted then)."""
        now = time.monotonic()
        limit, per = self.buckets.get((method, template), self.default)
        major = tuple(params.get(p, "") for p in MAJOR_PARAMS)
        key = (method, template, major)
        bucket = self._state.get(key)
        if bucket is None or now >= bucket.window_end:
            bucket = Bucket(limit=limit, per=per, used=0, window_end=now + per)
            self._state[key] = bucket
        bucket_hash = hashlib.sha1(f"{method} {template}".encode(), usedforsecurity=False)
        reset_after = max(bucket.window_end - now, 0.0)

        def headers(remaining: int) -> dict[str, str]:
            return {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": bucket_hash.hexdigest()[:16],
            }

        if not self.enabled:
            return Verdict(headers(max(limit - 1, 0)))
        if not global_exempt:
            while self._global_hits and self._global_hits[0] <= now - self.global_window:
                self._global_hits.popleft()
            if len(self._global_hits) >= self.global_limit:
                retry = self._global_hits[0] + self.global_window - now
                return Verdict(
                    {"X-RateLimit-Global": "true"}, limited=True, is_global=True, retry_after=retry
                )
        if bucket.used >= limit:
            return Verdict(headers(0), limited=True, retry_after=reset_after)
        bucket.used += 1
        if not global_exempt:
            self._global_hits.append(now)
        return Verdict(headers(limit - bucket.used))
