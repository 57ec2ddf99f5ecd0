"""Settings of the knowledge base, read from the environment or `.env` (prefix BRIEFBOT_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


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
    embed_batch_size: int = Field(default=64, ge=1, le=4096)
    chunk_max_chars: int = Field(default=700, ge=100, le=20000)
    chunk_overlap_sentences: int = Field(default=1, ge=0, le=10)
    max_article_chars: int = Field(default=5_000_000, ge=1000)
    dense_candidates: int = Field(default=50, ge=1, le=1000)
    lexical_candidates: int = Field(default=50, ge=1, le=1000)
    dense_weight: float = Field(default=0.5, ge=0.0, le=1.0)
