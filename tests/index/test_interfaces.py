"""The default storage implements the Protocols a server backend would implement."""

from __future__ import annotations

from index.interfaces import DenseSearch, LexicalSearch, PassageSource
from index.models import RawArticle


def test_sqlite_store_and_faiss_bm25s_caches_conform(kb) -> None:
    kb.add([RawArticle(text="Officials said 11,000 troops were deployed.", title="T")])
    cache = kb.caches.get("default")
    assert isinstance(kb.store, PassageSource)
    assert isinstance(cache.vectors, DenseSearch)
    assert isinstance(cache.lexical, LexicalSearch)
    assert isinstance(cache.vectors.main, DenseSearch)  # one segment alone conforms too
