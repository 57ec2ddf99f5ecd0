"""Throttling the edits of a streamed answer: at most one edit per interval, always the final.

Chat platforms rate-limit message edits (Discord allows about five per five seconds per
channel), and a token arrives every few milliseconds. The first partial text goes out at once,
later ones at most once per `interval` (the newest text wins, the ones in between are
skipped), and the final text is always sent, after which late partials are ignored. Pure
apart from the injectable clock; no Discord code here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class EditThrottle:
    """Decides which texts become edits. Thread-safe: partials come from the worker thread
    that runs `Briefbot.ask`, the final from the event loop."""

    def __init__(self, interval: float = 1.0, clock: Clock = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._last_at: float | None = None
        self._last_text: str | None = None
        self._pending: str | None = None
        self._finished = False
        self._lock = threading.Lock()

    def offer(self, text: str) -> str | None:
        """A partial text. Returns it when an edit is due now; otherwise None, and the text is
        kept as `pending` (a later offer or a timer may send it)."""
        with self._lock:
            if self._finished or text == self._last_text:
                return None
            now = self._clock()
            if self._last_at is not None and now - self._last_at < self._interval:
                self._pending = text
                return None
            return self._emit(text, now)

    def pending(self) -> str | None:
        """The newest partial not yet sent, if an edit is due for it now (for a timer)."""
        with self._lock:
            if self._finished or self._pending is None:
                return None
            now = self._clock()
            if self._last_at is not None and now - self._last_at < self._interval:
                return None
            return self._emit(self._pending, now)

    def final(self, text: str) -> str:
        """The final text: always returned, whatever the timing; later offers are ignored."""
        with self._lock:
            self._finished = True
            self._pending = None
            self._last_at, self._last_text = self._clock(), text
            return text

    @property
    def finished(self) -> bool:
        return self._finished

    def _emit(self, text: str, now: float) -> str:
        self._last_at, self._last_text, self._pending = now, text, None
        return text


class ThrottledEditor:
    """Glue between `Briefbot.ask(on_partial=...)` and a message editor.

    `send` is called with each text that should become an edit; for Discord it would
    schedule `message.edit` on the event loop (e.g. `asyncio.run_coroutine_threadsafe`).
    Partials longer than `max_chars` are cut with an ellipsis; the final text is sent as
    given (the caller renders it to fit). `last_result` is what the latest `send` returned
    (e.g. the future of the last partial edit): await it before the final edit so a slow
    partial edit cannot land after the final one.
    """

    def __init__(
        self,
        send: Callable[[str], object],
        interval: float = 1.0,
        clock: Clock = time.monotonic,
        max_chars: int | None = None,
    ) -> None:
        self._send = send
        self._throttle = EditThrottle(interval, clock)
        self._max_chars = max_chars
        self.last_result: object = None

    def on_partial(self, text: str) -> None:
        due = self._throttle.offer(shorten(text, self._max_chars))
        if due is not None:
            self.last_result = self._send(due)

    def finish(self, text: str) -> None:
        self.last_result = self._send(self._throttle.final(text))

    def stop(self) -> None:
        """No more partial edits; the caller sends the final message its own way."""
        self._throttle.final("")


def shorten(text: str, max_chars: int | None) -> str:
    """`text` cut to `max_chars` with a trailing ellipsis (partials show the newest end
    last, so the start is kept: that is where the answer begins)."""
    if max_chars is None or len(text) <= max_chars:
        return text
    return text[: max(0, max_chars - 1)] + "\u2026"
