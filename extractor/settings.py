"""Settings: explicit arguments win over the environment, which wins over `.env`."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, TypedDict

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Provider = Literal["auto", "openai", "local", "replay", "rules"]
ResolvedProvider = Literal["openai", "local", "replay", "rules"]
Mode = Literal["tools", "json_schema", "json", "md_json"]
GroundingMode = Literal["strict", "flag", "off"]
FixturesMode = Literal["off", "replay", "record", "record-missing"]
StrictSchema = Literal["auto", "on", "off"]

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
LOCAL_MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1"


class Settings(BaseSettings):
    """Every knob of an extraction; docs/configuration.md says what each does.

    Unknown names are a `TypeError` here (a misspelt `temprature=` must not pass unnoticed);
    unknown `EXTRACTOR_*` variables in the environment or `.env` are ignored.
    """

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
    strict_schema: StrictSchema = Field(
        default="auto",
        description="OpenAI strict structured outputs: auto = on for api.openai.com, plain tools elsewhere",
    )

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

    def __init__(self, **values: Any) -> None:
        # pydantic-settings' own private arguments (`_env_file`, ...) start with an underscore.
        check_setting_names((name for name in values if not name.startswith("_")), caller="Settings()")
        super().__init__(**values)

    def resolved_provider(self) -> ResolvedProvider:
        """`auto`: replay when fixtures are set to replay, openai when a key is set, else rules.

        Without a key `auto` takes the best offline backend by F1 on the gold articles:
        the deterministic rules, well ahead of the bundled model (docs/providers.md).
        """
        if self.provider != "auto":
            return self.provider
        if self.fixtures_mode == "replay":
            return "replay"
        if self.api_key is not None and self.api_key.get_secret_value():
            return "openai"
        return "rules"

    def resolved_model(self, provider: ResolvedProvider) -> str:
        """The model asked for, or the provider's default; the rules are their own model."""
        if provider == "rules":
            from .rules.version import MODEL_NAME

            return MODEL_NAME
        if self.model:
            return self.model
        return LOCAL_MODEL_NAME if provider == "local" else DEFAULT_OPENAI_MODEL

    def context_chars(self, provider: ResolvedProvider) -> int:
        """How many characters of article one model call may carry."""
        if self.chunk_chars:
            return self.chunk_chars
        # The local context must hold prompt, article and answer; 4 chars a token is conservative.
        return max(2000, (self.local_n_ctx - self.local_max_tokens - 800) * 3) if provider == "local" else 48_000


class SettingsOverrides(TypedDict, total=False):
    """Settings an `Extractor` (or `extract`) takes as keyword arguments, typed for checkers.

    Every `Settings` field but `provider` and `model`, which are explicit parameters; a test
    keeps the two in step.
    """

    api_key: SecretStr | str | None
    base_url: str | None
    mode: Mode
    strict_schema: StrictSchema
    temperature: float
    max_tokens: int
    seed: int | None
    request_timeout: float
    max_reasks: int
    transport_retries: int
    backoff_initial: float
    backoff_max: float
    retry_after_max: float
    max_input_bytes: int
    chunk_chars: int | None
    grounding: GroundingMode
    fuzzy_threshold: float
    fixtures_mode: FixturesMode
    fixtures_dir: Path | str
    local_model_path: Path | str | None
    local_n_ctx: int
    local_n_threads: int
    local_max_tokens: int
    local_constrain: bool


def setting_names() -> frozenset[str]:
    """Every name `Settings` accepts as an argument: field names and their aliases."""
    names = set(Settings.model_fields)
    for info in Settings.model_fields.values():
        if isinstance(info.validation_alias, AliasChoices):
            names.update(choice for choice in info.validation_alias.choices if isinstance(choice, str))
    return frozenset(names)


def check_setting_names(names: Iterable[str], *, caller: str, also: Iterable[str] = ()) -> None:
    """Raise `TypeError` naming every argument that is no setting (nor one of `also`)."""
    reject_unknown(names, setting_names() | set(also), caller=caller)


def reject_unknown(names: Iterable[str], known: Iterable[str], *, caller: str) -> None:
    """Raise `TypeError` naming every name not in `known`, with the closest known one as a hint."""
    known_names = sorted(set(known))
    unknown = [name for name in names if name not in known_names]
    if not unknown:
        return
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, known_names, n=1)
        hints.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    plural = "s" if len(unknown) > 1 else ""
    raise TypeError(f"{caller} got unexpected keyword argument{plural} {', '.join(hints)}")
