"""`briefbot reindex`: re-embed every article with the configured model, crash-safely.

New vectors are staged in a side table (`staged_vectors`), in batches, each its own short
transaction under the writer lock, so other writers and readers keep working with the old model
meanwhile. The switch is ONE transaction: every chunk's vector replaced, the model recorded, every
collection's change id bumped. A crash before it leaves the old model whole (running reindex again
resumes the staging); a crash after it leaves the new one, whose caches are then rebuilt like any
stale cache. There is never a store with vectors of two models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from index.embedding import embed_chunked
from index.knowledge import KnowledgeBase
from index.staging import ReindexStaging

logger = logging.getLogger(__name__)
ReindexProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReindexReport:
    model: str
    previous_model: str | None
    chunks: int
    embedded: int  # chunks embedded by this run (fewer than `chunks` when it resumed)
    collections: tuple[str, ...]


def reindex(
    kb: KnowledgeBase, progress: ReindexProgress | None = None, batch_size: int = 256
) -> ReindexReport:
    """Re-embed every chunk of every collection with kb's embedder and switch to it."""
    store = kb.store
    model, dimension = kb.embedder.name, kb.embedder.dimension
    previous = store.meta("model")
    with kb.writing():
        ReindexStaging(store).start(model)
    total = sum(store.count(c)[1] for c in store.collections())
    embedded = _stage_all(kb, batch_size, progress, total, locked=False)
    with kb.writing():
        # Chunks added (by writers using the old model) while we staged: embed them now.
        embedded += _stage_all(kb, batch_size, progress, total, locked=True)
        chunks = ReindexStaging(store).switch(model, dimension)
        collections = tuple(store.collections())
        kb.reset_caches()
        for name in collections:
            kb.caches.refresh(name)
    logger.info("reindexed %d chunks with %s (was %s)", chunks, model, previous)
    return ReindexReport(model, previous, chunks, embedded, collections)


def _stage_all(
    kb: KnowledgeBase,
    batch_size: int,
    progress: ReindexProgress | None,
    total: int,
    locked: bool,
) -> int:
    done = 0
    staging = ReindexStaging(kb.store)
    while todo := staging.unstaged_chunks(batch_size):
        found = embed_chunked(kb.embedder, [[chunk] for _, chunk in todo])
        ids = [chunk_id for chunk_id, _ in todo]
        vectors = np.vstack([f.chunks for f in found])
        sentences = [f.sentences[0] for f in found]
        if locked:
            staging.stage(ids, vectors, sentences)
        else:
            with kb.writing():
                staging.stage(ids, vectors, sentences)
        done += len(todo)
        if progress:
            progress(min(done, total), total)
    return done
