"""Settings of the HTTP service, apart from the extraction `Settings` they sit beside.

Same precedence: arguments > environment > `.env`. The keys are `EXTRACTOR_API_KEYS` and
`EXTRACTOR_ADMIN_KEYS` (entries `name:secret` or a bare `secret`, see `auth.py`), the state
folder `EXTRACTOR_SERVICE_DIR`, the database `EXTRACTOR_DATABASE_URL`, every other setting `EXTRACTOR_SERVICE_<NAME>` (so that, say,
the service's concurrency is never mistaken for a batch setting).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .auth import ApiKey, key_id, parse_keys


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
    admin_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, validation_alias=AliasChoices("admin_keys", "EXTRACTOR_ADMIN_KEYS")
    )
    state_dir: Path = Field(
        default=Path("extractor-service"), validation_alias=AliasChoices("state_dir", "EXTRACTOR_SERVICE_DIR")
    )
    # None: SQLite in the state folder; `postgresql://user:password@host/db`: shared by replicas.
    database_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("database_url", "EXTRACTOR_DATABASE_URL")
    )
    database_wait: float = Field(
        default=60.0, ge=0, description="seconds start-up waits for the database to accept connections"
    )
    max_body_bytes: int = Field(default=20_000_000, ge=1024, description="largest request body, in bytes")
    max_job_articles: int = Field(default=10_000, ge=1, description="articles one job may hold")
    max_text_chars: int = Field(default=50_000, ge=1, description="longest article text a request takes, in characters")
    concurrency: int = Field(
        default=64, ge=1, description="model requests in flight at once, requests and jobs together (all workers)"
    )
    max_waiting: int = Field(default=64, ge=0, description="requests queued for a free slot before 429")
    max_pending_articles: int = Field(default=100_000, ge=1, description="job articles queued before 429")
    retry_after: int = Field(default=2, ge=1, description="seconds a 429 asks the client to wait")
    shutdown_timeout: float = Field(default=30.0, gt=0, description="seconds in-flight requests get at SIGTERM")
    keep_alive: float = Field(
        default=75.0,
        gt=0,
        description="seconds an idle client connection stays open; longer than clients' own idle limits",
    )
    workers: int = Field(default=2, ge=1, le=64, description="service processes sharing the port and the database")
    job_deadline: float = Field(
        default=86400.0, gt=0, description="seconds a job's articles may wait out outages before they expire"
    )
    requeue_backoff: float = Field(default=10.0, gt=0, description="first wait before an article hit by an outage")
    requeue_backoff_max: float = Field(default=600.0, gt=0, description="longest wait between such tries")
    rpm: float | None = Field(
        default=None, gt=0, description="model requests a minute for job articles, all replicas together"
    )
    tpm: float | None = Field(default=None, gt=0, description="tokens a minute for job articles, all replicas together")
    replicas: int = Field(
        default=1, ge=1, description="replicas sharing the database: rpm and tpm are split among them"
    )
    claim_lease: float = Field(default=60.0, gt=0, description="seconds a runner's claim on an article lasts unrenewed")
    retention_days: float = Field(default=30.0, ge=0, description="finished jobs are deleted after this; 0 keeps them")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list, description="origins allowed by CORS")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Host names served (default: any with keys, loopback ones without)"
    )
    public_metrics: bool = Field(default=False, description="serve /metrics without a key")
    readiness_ttl: float = Field(default=5.0, ge=0, description="seconds a model server probe is trusted")
    fetch_allow_private: bool = Field(
        default=False, description="job URLs may name loopback, private and link-local addresses"
    )

    @field_validator("api_keys", "admin_keys", "cors_origins", "allowed_hosts", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [entry.strip() for entry in value.split(",") if entry.strip()]
        return value

    @field_validator("api_keys", "admin_keys")
    @classmethod
    def _check_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        for entry in value:
            key_id(entry.get_secret_value())  # a malformed named entry is refused at start
        return value

    def database(self) -> str | None:
        """The service database's URL when it is not the state folder's SQLite file."""
        return self.database_url.get_secret_value() if self.database_url else None

    def key_values(self) -> list[bytes]:
        """The accepted secrets, as bytes."""
        return [key.secret for key in self.keys()]

    def keys(self) -> list[ApiKey]:
        """Every configured key with the caller it is (admins last: an admin entry wins)."""
        plain = parse_keys([key.get_secret_value() for key in self.api_keys], admin=False)
        return plain + parse_keys([key.get_secret_value() for key in self.admin_keys], admin=True)
