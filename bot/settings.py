"""All of Briefbot's settings: the index's, plus answering, Discord and LLM ones."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr

from index.settings import IndexSettings


class Settings(IndexSettings):
    """Read like IndexSettings (its model_config is inherited: prefix BRIEFBOT_, .env)."""

    # Answering
    top_k: int = Field(default=5, ge=1, le=25, description="Citations shown with an answer.")
    # None: the chosen reader's own default (the trained model's card, or RULES_THRESHOLD).
    abstain_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    reader: Literal["model", "rules"] = Field(
        default="model",
        description="model: the trained answer reader shipped in the package; rules: the "
        "feature rules alone (also the fallback when the model cannot be loaded).",
    )
    max_question_chars: int = Field(default=2000, ge=10, le=100_000)

    # Discord
    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "BRIEFBOT_DISCORD_TOKEN")
    )
    dev_guild_id: int | None = None
    editor_role: str | None = Field(
        default=None, description="Role name or id allowed to add articles; unset = everyone."
    )
    ask_cooldown: float = Field(default=5.0, ge=0, le=3600, description="Seconds between asks.")
    add_cooldown: float = Field(default=15.0, ge=0, le=3600, description="Seconds between adds.")

    # LLM (OpenAI-compatible endpoint)
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "BRIEFBOT_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "BRIEFBOT_OPENAI_BASE_URL")
    )
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = Field(default=30.0, gt=0, le=600)
    answer_mode: Literal["auto", "extractive", "llm"] = "auto"
    # Only this many top passages leave the machine, never whole articles.
    llm_passages: int = Field(default=5, ge=1, le=20)
    llm_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
