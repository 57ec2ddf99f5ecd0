"""All of Briefbot's settings: the index's, plus answering, Discord and LLM ones."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import NoDecode

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
    reader_tokens: int | None = Field(
        default=None,
        ge=32,
        le=256,
        description="word pieces of question and sentence the reader reads; unset: the "
        "model's own limit (64). 96 reads long sentences whole: on SQuAD about +0.6 points of "
        "answer accuracy, for about 10 ms more a question (docs/READER.md).",
    )
    answer_spans: Literal["model", "rules"] = Field(
        default="model",
        description="model: the reader's span head marks the answering words when sure (else "
        "the span rules); rules: the span rules alone (about 3.3 ms faster per answer shown).",
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

    # Many processes (issue 18; docs/SCALING.md, Shards)
    shard_count: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="Shards of the whole bot, over every process; unset: Discord's "
        "recommended count, all run by this process.",
    )
    # NoDecode: "0,1" or "0-3" as written, not JSON.
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = Field(
        default=None,
        description="The shards this process runs, e.g. 0,1 or 0-3; needs BRIEFBOT_SHARD_COUNT; "
        "unset: all of them.",
    )

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _parse_shard_ids(cls, value: Any) -> Any:
        return parse_shard_ids(value) if isinstance(value, str) else value

    @field_validator("shard_ids")
    @classmethod
    def _shard_ids_within_count(
        cls, value: tuple[int, ...] | None, info: ValidationInfo
    ) -> tuple[int, ...] | None:
        if value is None or "shard_count" not in info.data:  # no ids, or the count was wrong
            return value
        count = info.data["shard_count"]
        if count is None:
            raise ValueError("shard ids need BRIEFBOT_SHARD_COUNT (the shards of every process)")
        outside = [i for i in value if not 0 <= i < count]
        if outside:
            raise ValueError(
                f"shard {outside[0]} is outside 0-{count - 1} (BRIEFBOT_SHARD_COUNT is {count})"
            )
        return value


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """'0,1', '0-3' or '0-3,6' to sorted distinct ids; a ValueError names the bad part."""
    ids: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        first, dash, last = part.partition("-")
        try:
            low = int(first)
            high = int(last) if dash else low
        except ValueError:
            raise ValueError(f"'{part}' is not a shard id or a range like 0-3") from None
        if low < 0 or high < low:
            raise ValueError(f"'{part}' is not a shard id or a range like 0-3")
        ids.update(range(low, high + 1))
    return tuple(sorted(ids))
