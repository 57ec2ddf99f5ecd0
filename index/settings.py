"""Settings of the knowledge base, read from the environment or `.env` (prefix BRIEFBOT_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.setting_checks import BUNDLED_MODEL, folder_problem, model_problem

__all__ = ["ANN_THRESHOLD", "BUNDLED_MODEL", "IVF_NPROBE", "IndexSettings"]
# Measured choices (benchmarks/scale.py, docs/SCALING.md); index/caches.py and
# index/vectors.py default to them too.
ANN_THRESHOLD = 200_000
IVF_NPROBE = 32


class IndexSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BRIEFBOT_",
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
        validate_default=True,
    )

    data_dir: Path = Field(default=Path("data"), description="Where the index lives.")
    embedding_model: str = Field(
        default=BUNDLED_MODEL,
        description="A sentence-transformers model name or path; the default is bundled.",
    )
    embedding_backend: Literal["auto", "onnx", "torch"] = Field(
        default="auto",
        description="auto: ONNX Runtime when the model allows it (fast start), else torch.",
    )
    model_cache_dir: Path | None = Field(
        default=None,
        description="Where the one-time ONNX export of the model is kept, shared by every "
        "data dir; default: the per-user cache (~/.cache/briefbot/models on Linux).",
    )
    embed_batch_size: int = Field(default=64, ge=1, le=4096)
    embed_threads: int = Field(
        default=0,
        ge=0,
        le=256,
        description="CPU threads for batch embedding (add, import, reindex); 0 = every core. "
        "Questions always embed on one thread (a busy bot answers many at once).",
    )
    chunk_max_chars: int = Field(default=700, ge=100, le=20000)
    chunk_overlap_sentences: int = Field(default=1, ge=0, le=10)
    max_article_chars: int = Field(default=5_000_000, ge=1000)
    dense_candidates: int = Field(default=50, ge=1, le=1000)
    lexical_candidates: int = Field(default=50, ge=1, le=1000)
    dense_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    ann_threshold: int = Field(
        default=ANN_THRESHOLD,
        ge=1,
        le=1_000_000_000,
        description="Chunks in a collection's main cache segment from which search is "
        "approximate (FAISS IVF + BM25 top-k over matching chunks); below it, exact. "
        "docs/SCALING.md.",
    )
    ivf_nprobe: int = Field(
        default=IVF_NPROBE,
        ge=1,
        le=100_000,
        description="Inverted lists an approximate dense search reads (of about 4 sqrt(n)): "
        "higher is slower and closer to exact.",
    )

    # Adding from links and files (issue 6)
    allow_private_urls: bool = Field(
        default=False,
        description="Allow links to private, loopback and link-local addresses (intranets).",
    )
    fetch_timeout: float = Field(default=15.0, gt=0, le=300, description="Connect/read seconds.")
    fetch_total_timeout: float = Field(default=60.0, gt=0, le=3600)
    fetch_max_bytes: int = Field(default=10_000_000, ge=1000, le=1_000_000_000)
    fetch_max_redirects: int = Field(default=5, ge=0, le=20)
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1000, le=1_000_000_000)
    pdf_timeout: float = Field(default=20.0, gt=0, le=600)
    pdf_max_pages: int = Field(default=200, ge=1, le=100_000)
    duplicate_threshold: float = Field(
        default=0.8, gt=0.0, le=1.0, description="Shingle Jaccard at which a copy is flagged."
    )

    # Following feeds (issue 17; docs/FEEDS.md)
    feed_interval: float = Field(
        default=900.0, ge=60, le=7 * 86400, description="Seconds between polls of a feed."
    )
    feed_jitter: float = Field(
        default=0.1, ge=0.0, le=0.5, description="Each wait varies by up to this fraction."
    )
    feed_max_backoff: float = Field(
        default=6 * 3600.0, ge=60, le=30 * 86400, description="Longest wait after failures."
    )
    feed_max_entries: int = Field(
        default=20, ge=1, le=1000, description="New stories taken from a feed per poll."
    )
    feed_max_feeds: int = Field(default=50, ge=1, le=10_000, description="Feeds per collection.")
    feed_max_bytes: int = Field(default=5_000_000, ge=1000, le=1_000_000_000)

    # Many processes (issue 18; docs/SCALING.md, Shards)
    cache_max_mb: float = Field(
        default=0,
        ge=0,
        description="Estimated memory the collections' search caches of one process may hold; "
        "past it the least recently used are dropped (reloaded on next use). 0 = no limit.",
    )

    # A shared store on a PostgreSQL server (docs/SCALING.md); unset: the SQLite file in the
    # data dir. A SecretStr: a password in the URL never shows in a repr, a log or an error.
    store_url: SecretStr | None = Field(
        default=None,
        description="postgresql://user@host:port/db to keep the store on PostgreSQL; the "
        "password from the URL or PGPASSWORD. Unset: SQLite in the data dir.",
    )

    @field_validator("store_url")
    @classmethod
    def _postgresql_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        problem = store_url_problem(value.get_secret_value())
        if problem:
            raise ValueError(problem)
        return value

    # Paths and models are checked when the settings are read: a wrong one is one line
    # naming the setting, before any work, never a traceback from deep inside a command.
    @field_validator("data_dir", "model_cache_dir")
    @classmethod
    def _usable_folder(cls, value: Path | None) -> Path | None:
        problem = folder_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("embedding_model")
    @classmethod
    def _loadable_model(cls, value: str) -> str:
        problem = model_problem(value)
        if problem:
            raise ValueError(problem)
        return value


def masked_url(url: str) -> str:
    """The URL as it may be shown: a password in it becomes '***' (the rest is not secret)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def store_url_problem(url: str) -> str | None:
    """Why this is not a usable postgresql:// URL (never quoting it: it may hold a password)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("postgresql", "postgres"):
        return f"use a postgresql://user@host:port/database URL (not {parts.scheme or 'no'}://)"
    if not parts.path.strip("/"):
        return f"name the database: {masked_url(url)}/<database>"
    return None
