"""The rules' version and fingerprint: what `meta.model` names and what decides a stored result's reuse."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources

RULES_VERSION = "1"
"""Bumped by hand when what the rules find changes on purpose; the fingerprint changes with any edit."""

MODEL_NAME = f"rules-{RULES_VERSION}"


@lru_cache(maxsize=1)
def rules_fingerprint() -> str:
    """A hash of the rules' code and data, and of the gazetteer they read names from."""
    digest = hashlib.sha256()
    package = resources.files("extractor.rules")
    files = sorted(
        [entry for entry in package.iterdir() if entry.name.endswith(".py")]
        + [entry for entry in package.joinpath("data").iterdir() if entry.name.endswith(".json")],
        key=lambda entry: entry.name,
    )
    for entry in files:
        digest.update(entry.name.encode("utf-8") + b"\0" + entry.read_bytes() + b"\0")
    gazetteer = resources.files("extractor.postprocess").joinpath("data/gazetteer.json")
    digest.update(b"gazetteer\0" + gazetteer.read_bytes())
    digest.update(f"{MODEL_NAME}\0".encode())
    return digest.hexdigest()[:32]
