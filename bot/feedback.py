"""What people thought of the answers, and which questions went unanswered.

Kept in the index's store (its own tables: created here in the SQLite file, by the versioned
migrations on PostgreSQL) so the curators' list survives restarts and the CLI (`briefbot
feedback`) sees what the bot recorded (on another machine too, with BRIEFBOT_STORE_URL). The
rows also remember which Discord message showed which answer, so buttons and follow-ups work
after a restart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.knowledge import DB_FILE
from index.store import Store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bot_answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL,
    question TEXT NOT NULL,
    asked TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    answer_json TEXT NOT NULL,
    user_id INTEGER,
    channel_id INTEGER,
    message_id INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bot_answers_message ON bot_answers(message_id);
CREATE INDEX IF NOT EXISTS bot_answers_channel ON bot_answers(channel_id, id);
CREATE TABLE IF NOT EXISTS bot_feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id INTEGER NOT NULL REFERENCES bot_answers(id) ON DELETE CASCADE,
    user_id INTEGER,
    vote INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE(answer_id, user_id)
);
"""


@dataclass(frozen=True)
class StoredAnswer:
    id: int
    collection: str
    question: str  # as retrieval saw it (a follow-up rewritten)
    data: dict[str, Any]  # render.answer_json of the answer


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FeedbackStore:
    """Answers shown, votes on them, and the list of questions to follow up."""

    def __init__(self, source: Path | Store) -> None:
        """`source`: the knowledge base's store (shared), or a data dir whose SQLite file
        this opens and closes itself."""
        self._owned = not isinstance(source, Store)
        self.store = source if isinstance(source, Store) else Store(Path(source) / DB_FILE)
        self.store.ensure_tables(_SCHEMA.split(";"))

    def close(self) -> None:
        if self._owned:
            self.store.close()

    def record_answer(
        self,
        collection: str,
        question: str,
        answer_data: dict[str, Any],
        user_id: int | None = None,
        channel_id: int | None = None,
    ) -> int:
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO bot_answers (collection, question, asked, abstained, answer_json,"
                " user_id, channel_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    collection,
                    question,
                    str(answer_data.get("question") or question),
                    int(bool(answer_data.get("abstained"))),
                    json.dumps(answer_data, ensure_ascii=False),
                    user_id,
                    channel_id,
                    _now(),
                ),
            )
            return int(cursor.fetchone()[0])

    def set_message(self, answer_id: int, message_id: int) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE bot_answers SET message_id = ? WHERE id = ?", (message_id, answer_id)
            )

    def _answer(self, where: str, params: tuple[Any, ...]) -> StoredAnswer | None:
        rows = self.store.rows(
            f"SELECT id, collection, question, answer_json FROM bot_answers WHERE {where}"
            " ORDER BY id DESC LIMIT 1",
            params,
        )
        if not rows:
            return None
        row = rows[0]
        return StoredAnswer(int(row[0]), str(row[1]), str(row[2]), json.loads(row[3]))

    def answer(self, answer_id: int) -> StoredAnswer | None:
        return self._answer("id = ?", (answer_id,))

    def answer_for_message(self, message_id: int) -> StoredAnswer | None:
        return self._answer("message_id = ?", (message_id,))

    def latest_in_channel(self, channel_id: int) -> StoredAnswer | None:
        return self._answer("channel_id = ?", (channel_id,))

    def vote(self, answer_id: int, user_id: int, up: bool) -> None:
        """One vote per person per answer; voting again changes it."""
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO bot_feedback (answer_id, user_id, vote, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT(answer_id, user_id)"
                " DO UPDATE SET vote = excluded.vote, created_at = excluded.created_at",
                (answer_id, user_id, 1 if up else -1, _now()),
            )

    def to_follow_up(self, collection: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Recent abstentions and thumbs-down answers, newest first."""
        where = "WHERE collection = ?" if collection else ""
        params: tuple[Any, ...] = (collection,) if collection else ()
        sql = f"""
            SELECT * FROM (
                SELECT a.id, a.collection, a.question, a.answer_json, a.created_at,
                       'abstained' AS kind, NULL AS user_id
                FROM bot_answers a WHERE a.abstained = 1
                UNION ALL
                SELECT a.id, a.collection, a.question, a.answer_json, f.created_at,
                       'down' AS kind, f.user_id
                FROM bot_feedback f JOIN bot_answers a ON a.id = f.answer_id WHERE f.vote < 0
            ) AS follow_up {where} ORDER BY created_at DESC, id DESC LIMIT ?
        """
        rows = self.store.rows(sql, (*params, limit))
        items = []
        for answer_id, coll, question, answer_json, created, kind, user_id in rows:
            data = json.loads(answer_json)
            items.append(
                {
                    "kind": kind,
                    "answer_id": answer_id,
                    "collection": coll,
                    "question": question,
                    "answer": data.get("answer"),
                    "citations": [
                        {k: c.get(k) for k in ("n", "article_id", "title", "source", "url")}
                        for c in data.get("citations", [])
                    ],
                    "user_id": user_id,
                    "created_at": created,
                }
            )
        return items
