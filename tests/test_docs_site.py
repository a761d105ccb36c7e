"""The documentation site builds strictly from docs/ and loads nothing from the network."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

pytest.importorskip("mkdocs", reason="the docs extra (scripts/setup installs it)")
yaml = pytest.importorskip("yaml")  # comes with mkdocs


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    return site


def _nav_pages(nav: list) -> list[str]:
    pages: list[str] = []
    for entry in nav:
        for value in entry.values():
            pages.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return pages


def test_every_page_of_docs_is_in_the_nav_and_built(site):
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    nav = _nav_pages(config["nav"])
    assert sorted(nav) == sorted(page.name for page in (ROOT / "docs").glob("*.md"))
    for page in nav:
        built = site / ("index.html" if page == "index.md" else f"{page.removesuffix('.md')}/index.html")
        assert built.is_file(), page


def test_the_pages_load_no_fonts_scripts_or_styles_from_the_network(site):
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "fonts.googleapis" not in html and "fonts.gstatic" not in html, page
        remote = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="(https?://[^"]+)"', html)
        assert not [url for url in remote if not url.startswith("https://squidfunk.github.io")], (page, remote)


def test_the_api_reference_comes_from_the_docstrings(site):
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    assert "Bring your own client" in api  # Extractor's docstring
    assert "ExtractionFailed" in api and "aextract" in api


def test_the_changelog_page_is_the_changelog_file(site):
    page = (site / "changelog" / "index.html").read_text(encoding="utf-8")
    assert "Keep a Changelog" in page and "Unreleased" in page


CHROMIUM = shutil.which("chromium")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium on PATH")
def test_a_built_page_renders_in_chromium_with_its_bundled_script(site, tmp_path):
    page = site / "getting-started" / "index.html"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    dom = subprocess.run(
        [CHROMIUM, *flags, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000", "--dump-dom"]
        + [page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Quick start: the HTTP service" in dom.stdout
    # The theme's script, loaded from the site's own assets, ran: it marks the page and adds
    # a copy button to each example.
    assert 'class="js-focus-visible js"' in dom.stdout
    assert dom.stdout.count("md-code__button") >= 5
