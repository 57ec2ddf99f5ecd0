"""A process's ear on the PostgreSQL store: LISTEN for other processes' writes and have the
caches of the collections this process holds catch up before their next question.

Every write that moves a collection's change id NOTIFYs `briefbot_changes` with
'<collection>:<change id>' in its own transaction (a trigger, index/pg_store.py), so a
notification arrives only for a committed write. The listener is one autocommit connection of
its own (not the pool's: a pooled connection goes back after each call and would stop
listening), read in a daemon thread. The per-question change-id read stays: a notification
missed while the connection was down can delay a refresh, never leave a question answered
from stale caches. On every (re)connection the listener asks for every held collection to be
checked, since what was committed while it was deaf was never announced.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from index.errors import BriefbotError
from index.pg_store import CHANGES_CHANNEL, CONNECT_TIMEOUT, unavailable

logger = logging.getLogger(__name__)
POLL_SECONDS = 0.2  # how long one wait for notifications lasts: stop() answers within this
RETRY_FIRST = 0.5  # seconds before the first reconnection attempt, doubled up to RETRY_MAX
RETRY_MAX = 30.0
# TCP keepalives: a server that vanished without closing the connection (a machine gone) is
# noticed in about 20 s instead of never.
KEEPALIVES: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5}


@dataclass(frozen=True)
class Change:
    """One committed write, as announced: the collection and its change id after the write."""

    collection: str
    change_id: int


def parse_change(payload: str) -> Change | None:
    """'<collection>:<change id>' as a Change (the last ':' splits: names may hold one);
    None for anything else (another program on the same channel)."""
    name, colon, number = payload.rpartition(":")
    if not colon or not name or not number.isdigit():
        return None
    return Change(name, int(number))


class ChangeListener:
    """LISTENs on its own connection in a daemon thread and calls `on_change` for each
    announced change and `on_listening` after each (re)connection; reconnects with back-off
    when the server goes away. The callbacks run in the listener's thread; an error in one
    is logged and the listener carries on."""

    def __init__(
        self,
        url: str,
        on_change: Callable[[Change], None],
        on_listening: Callable[[], None],
        *,
        poll_seconds: float = POLL_SECONDS,
        retry: tuple[float, float] = (RETRY_FIRST, RETRY_MAX),
    ) -> None:
        self.url = url
        self.on_change = on_change
        self.on_listening = on_listening
        self.poll_seconds = poll_seconds
        self.retry = retry
        self.listening = threading.Event()  # set while LISTEN is in force
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start listening in the background (returns at once; connects in the thread)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="briefbot-changes", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop listening; returns whether the thread ended within `timeout` seconds (it
        notices within `poll_seconds`, or at once while waiting to reconnect)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        delay = self.retry[0]
        failing = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, **KEEPALIVES
                ) as conn:
                    conn.execute(f"LISTEN {CHANGES_CHANNEL}")
                    self.listening.set()
                    if failing:
                        logger.info("listening for changes again")
                    failing, delay = False, self.retry[0]
                    self._call(self.on_listening)
                    self._listen(conn)
            except psycopg.Error as exc:
                self.listening.clear()
                log = logger.debug if failing else logger.warning
                log("change listener: %s; retrying in %.1f s", unavailable(self.url, exc), delay)
                failing = True
                self._stop.wait(delay)
                delay = min(delay * 2, self.retry[1])
        self.listening.clear()

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        """Hand each notification on until stopped; a lost connection raises psycopg.Error."""
        while not self._stop.is_set():
            for note in conn.notifies(timeout=self.poll_seconds):
                change = parse_change(note.payload) if note.channel == CHANGES_CHANNEL else None
                if change is not None:
                    self._call(self.on_change, change)
                if self._stop.is_set():
                    break

    @staticmethod
    def _call(callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except BriefbotError as exc:  # the store down for a moment: the next question retries
            logger.info("refreshing caches after a change failed: %s", exc)
        except Exception:  # a failed refresh must not end the listening: the next may work
            logger.warning("refreshing caches after a change failed", exc_info=True)
