"""When each feed is polled next: the interval with jitter, and back-off for a failing feed.

Pure functions of the time given and a random source, so the timing is tested with a fake
clock and a seeded generator, and the asyncio task that drives the poller only sleeps until
`seconds_until_due`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from index.feeds.state import FeedInfo


@dataclass(frozen=True)
class Schedule:
    interval: float = 900.0  # seconds between polls of a healthy feed
    jitter: float = 0.1  # +- this fraction, so feeds added together do not poll in lockstep
    max_backoff: float = 6 * 3600.0  # a failing feed is still tried at least this often

    def jittered(self, delay: float, rng: random.Random) -> float:
        return delay * (1.0 + rng.uniform(-self.jitter, self.jitter))

    def after_success(self, now: float, rng: random.Random) -> float:
        return now + self.jittered(self.interval, rng)

    def backoff(self, failures: int) -> float:
        """The wait after `failures` failed polls in a row: the interval doubled each time
        (2x after the first failure), never more than max_backoff."""
        if failures <= 0:
            return self.interval
        return min(self.interval * 2.0 ** min(failures, 60), self.max_backoff)

    def after_failure(self, now: float, failures: int, rng: random.Random) -> float:
        return now + self.jittered(self.backoff(failures), rng)


def due(feeds: Iterable[FeedInfo], now: float) -> list[FeedInfo]:
    """The feeds whose next poll time has come."""
    return [f for f in feeds if f.next_poll.timestamp() <= now]


def seconds_until_due(feeds: Iterable[FeedInfo], now: float) -> float | None:
    """How long until the next feed is due (0 when one is already); None without feeds."""
    times = [f.next_poll.timestamp() for f in feeds]
    return max(0.0, min(times) - now) if times else None
