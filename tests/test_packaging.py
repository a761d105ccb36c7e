"""What installs: every package of the source tree, and nothing at the top level but extractor."""

from __future__ import annotations

import tomllib

from tests.support.paths import ROOT


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_package_folder_is_listed():
    listed = set(_setuptools()["packages"])
    on_disk = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "extractor").rglob("__init__.py")} | {
        "extractor.schemas",
        "extractor.prompts",
    }
    assert on_disk == listed


def test_schemas_and_prompts_install_inside_the_extractor_namespace():
    mapping = _setuptools()["package-dir"]
    assert mapping["extractor.schemas"] == "schemas"
    assert mapping["extractor.prompts"] == "prompts"
    assert all(name == "extractor" or name.startswith("extractor.") for name in _setuptools()["packages"])
