"""The rules' version and fingerprint: what `meta.model` names and what decides a stored result's reuse."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable

RULES_VERSION = "1"
"""Bumped by hand when what the rules find changes on purpose; the fingerprint changes with any edit."""

MODEL_NAME = f"rules-{RULES_VERSION}"


def rules_files() -> list[Traversable]:
    """The rules' code and data, and the gazetteer they read names from."""
    package = resources.files("extractor.rules")
    files = [entry for entry in package.iterdir() if entry.name.endswith(".py")]
    files += [entry for entry in package.joinpath("data").iterdir() if entry.name.endswith(".json")]
    files.append(resources.files("extractor.postprocess").joinpath("data/gazetteer.json"))
    return sorted(files, key=lambda entry: entry.name)


def digest_of(files: Iterable[Traversable]) -> str:
    """A hash of the files' names and bytes, and of the version."""
    digest = hashlib.sha256(f"{MODEL_NAME}\0".encode())
    for entry in files:
        digest.update(entry.name.encode("utf-8") + b"\0" + entry.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


@lru_cache(maxsize=1)
def rules_fingerprint() -> str:
    """Equal fingerprints mean the rules would find the same items in the same text."""
    return digest_of(rules_files())
