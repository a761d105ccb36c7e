"""Provider selection and settings precedence: arguments > environment > .env."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor import Extractor, Settings
from extractor import local as local_module


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith(("EXTRACTOR_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env from the project


def test_auto_prefers_openai_when_a_key_is_set(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert Settings().resolved_provider() == "openai"


def test_auto_without_a_key_takes_the_rules_even_with_the_local_model_installed(monkeypatch):
    # By F1 on the gold articles the rules are the best offline backend (docs/providers.md).
    monkeypatch.setattr(local_module, "local_available", lambda: True)
    assert Settings().resolved_provider() == "rules"


def test_auto_without_anything_installed_still_extracts(monkeypatch):
    monkeypatch.setattr(local_module, "local_available", lambda: False)
    assert Settings().resolved_provider() == "rules"


def test_auto_uses_replay_when_fixtures_mode_is_replay(monkeypatch):
    monkeypatch.setenv("EXTRACTOR_FIXTURES_MODE", "replay")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert Settings().resolved_provider() == "replay"


def test_explicit_provider_wins():
    assert Settings(provider="replay").resolved_provider() == "replay"


def test_precedence_arguments_over_environment_over_dotenv(monkeypatch, tmp_path: Path):
    (tmp_path / ".env").write_text("EXTRACTOR_MODEL=from-dotenv\nEXTRACTOR_MAX_REASKS=5\nEXTRACTOR_MODE=json\n")
    assert Settings().model == "from-dotenv"
    monkeypatch.setenv("EXTRACTOR_MODEL", "from-env")
    settings = Settings()
    assert settings.model == "from-env"
    assert settings.max_reasks == 5  # still from .env
    assert Settings(model="from-argument").model == "from-argument"
    extractor = Extractor(provider="replay", model="from-argument")
    assert extractor.model == "from-argument"
    assert extractor.settings.mode == "json"


def test_base_url_and_key_read_from_openai_variables(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    settings = Settings()
    assert settings.base_url == "http://127.0.0.1:11434/v1"
    assert "sk-secret-value" not in repr(settings)
    assert "sk-secret-value" not in str(settings.model_dump())


def test_default_models_per_provider():
    assert Settings().resolved_model("local").startswith("SmolLM2")
    assert Settings().resolved_model("openai") == "gpt-4o-mini"
    assert Settings(model="llama3.1").resolved_model("openai") == "llama3.1"


def test_local_forces_json_schema_mode_and_other_modes_are_kept():
    from extractor.model_call.client import effective_mode

    assert effective_mode(Settings(mode="tools"), "local") == "json_schema"
    assert effective_mode(Settings(mode="json"), "openai") == "json"


def test_fingerprint_changes_with_model_and_decoding():
    a = Extractor(provider="replay")
    b = Extractor(provider="replay", model="other")
    c = Extractor(provider="replay", temperature=0.7)
    assert len({a.fingerprint, b.fingerprint, c.fingerprint}) == 3
    assert a.fingerprint == Extractor(provider="replay").fingerprint


def test_env_example_documents_every_setting_and_loads_as_is(monkeypatch, tmp_path: Path):
    import re

    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z_]+)=", example, re.M))
    # the service's own settings are checked with ServiceSettings (tests/test_service.py)
    documented = {name for name in documented if not name.startswith("EXTRACTOR_SERVICE_")} - {
        "EXTRACTOR_API_KEYS",
        "EXTRACTOR_ADMIN_KEYS",
    }
    expected = {f"EXTRACTOR_{name.upper()}" for name in Settings.model_fields} - {
        "EXTRACTOR_API_KEY",
        "EXTRACTOR_BASE_URL",
    }
    assert documented == expected | {"OPENAI_API_KEY", "OPENAI_BASE_URL"}
    (tmp_path / ".env").write_text(example)
    settings = Settings()  # the empty placeholders must not break loading
    assert settings.provider == "auto" and settings.api_key is None and settings.chunk_chars is None
