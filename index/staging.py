"""Reindex staging: new vectors are written beside the live ones, then switched in one
transaction, so a reindex interrupted at any point leaves the old model working and a rerun
resumes. Kept apart from the store's articles and chunks, which every command uses."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from index.models import ChunkDraft, Sentence
from index.store import Store, translating_errors


@translating_errors
class ReindexStaging:
    """The `staged_vectors` table and the `reindex_model` mark of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.path = store.path

    def model(self) -> str | None:
        """The model a reindex in progress is staging vectors for, if any."""
        return self.store.meta("reindex_model")

    def start(self, model: str) -> None:
        """Begin (or resume, for the same model) staging new vectors beside the live ones."""
        self.store.check_before_writing()
        self.store.ensure_tables(
            [
                "CREATE TABLE IF NOT EXISTS staged_vectors (chunk_id INTEGER PRIMARY KEY, "
                "vector BLOB NOT NULL, sentence_vectors BLOB NOT NULL DEFAULT x'')"
            ]
        )
        with self.store.transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'reindex_model'").fetchone()
            if row is None or row[0] != model:
                conn.execute("DELETE FROM staged_vectors")
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('reindex_model', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (model,),
                )

    def unstaged_chunks(self, limit: int) -> list[tuple[int, ChunkDraft]]:
        """(chunk id, chunk with its sentences) of chunks that have no staged vector yet."""
        rows = self.store.rows(
            'SELECT c.id, c.ordinal, c.start, c."end", c.text, c.sentences FROM chunks c '
            "WHERE NOT EXISTS (SELECT 1 FROM staged_vectors s WHERE s.chunk_id = c.id) "
            "ORDER BY c.id LIMIT ?",
            (limit,),
        )
        return [
            (
                int(r[0]),
                ChunkDraft(
                    int(r[1]),
                    int(r[2]),
                    int(r[3]),
                    str(r[4]),
                    tuple(Sentence(int(s), int(e)) for s, e in json.loads(str(r[5]))),
                ),
            )
            for r in rows
        ]

    def stage(
        self, ids: Sequence[int], vectors: np.ndarray, sentence_vectors: Sequence[np.ndarray]
    ) -> None:
        with self.store.transaction() as conn:
            conn.executemany(
                "INSERT INTO staged_vectors(chunk_id, vector, sentence_vectors) VALUES (?, ?, ?) "
                "ON CONFLICT(chunk_id) DO UPDATE SET vector = excluded.vector, "
                "sentence_vectors = excluded.sentence_vectors",
                [
                    (
                        int(i),
                        np.asarray(v, dtype=np.float32).tobytes(),
                        np.asarray(sv, dtype=np.float32).tobytes(),
                    )
                    for i, v, sv in zip(ids, vectors, sentence_vectors, strict=True)
                ],
            )

    def switch(self, model: str, dimension: int) -> int:
        """Make the staged vectors live in ONE transaction (old model or new, never a mix).

        The caller holds the writer lock and has staged every chunk; returns the chunk count.
        """
        with self.store.transaction() as conn:
            missing = conn.execute(
                "SELECT COUNT(*) FROM chunks c WHERE NOT EXISTS "
                "(SELECT 1 FROM staged_vectors s WHERE s.chunk_id = c.id)"
            ).fetchone()[0]
            if missing:
                raise RuntimeError(f"{missing} chunks have no staged vector")
            updated = conn.execute(
                "UPDATE chunks SET "
                "vector = (SELECT s.vector FROM staged_vectors s WHERE s.chunk_id = chunks.id), "
                "sentence_vectors = "
                "(SELECT s.sentence_vectors FROM staged_vectors s WHERE s.chunk_id = chunks.id)"
            ).rowcount
            conn.execute("DELETE FROM staged_vectors")
            conn.execute("DELETE FROM meta WHERE key = 'reindex_model'")
            for key, value in (("model", model), ("dimension", str(dimension))):
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )
            conn.execute("UPDATE collections SET change_id = change_id + 1")
        return int(updated)
