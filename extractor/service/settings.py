"""Settings of the HTTP service, apart from the extraction `Settings` they sit beside.

Same precedence: arguments > environment > `.env`. The keys are `EXTRACTOR_API_KEYS`, the
state folder `EXTRACTOR_SERVICE_DIR`, every limit `EXTRACTOR_SERVICE_<NAME>` (so that, say,
the service's concurrency is never mistaken for a batch setting).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What `extractor serve` needs besides the provider: keys, state folder and limits."""

    model_config = SettingsConfigDict(
        env_prefix="EXTRACTOR_SERVICE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,
    )

    # NoDecode: the environment holds "k1,k2", not a JSON list.
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, validation_alias=AliasChoices("api_keys", "EXTRACTOR_API_KEYS")
    )
    state_dir: Path = Field(
        default=Path("extractor-service"), validation_alias=AliasChoices("state_dir", "EXTRACTOR_SERVICE_DIR")
    )
    max_body_bytes: int = Field(default=20_000_000, ge=1024, description="largest request body, in bytes")
    max_job_articles: int = Field(default=10_000, ge=1, description="articles one job may hold")
    concurrency: int = Field(default=16, ge=1, description="model extractions at once, requests and jobs together")
    max_waiting: int = Field(default=64, ge=0, description="requests queued for a free slot before 429")
    max_pending_articles: int = Field(default=100_000, ge=1, description="job articles queued before 429")
    retry_after: int = Field(default=2, ge=1, description="seconds a 429 asks the client to wait")
    shutdown_timeout: float = Field(default=30.0, gt=0, description="seconds in-flight requests get at SIGTERM")

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    def key_values(self) -> list[bytes]:
        """The accepted keys, as bytes for hmac.compare_digest."""
        return [key.get_secret_value().encode() for key in self.api_keys]
