"""Every shell and Python example of README.md and docs/ runs, as written, against offline providers.

A page's examples run in order in one bash script (an example may use a file an earlier one
wrote), in a scratch folder holding the repository's data (seeds/, corpus/, gold/, fixtures/)
and its .venv, with the environment of a user who set nothing: no key, no EXTRACTOR_* variable.
So a renamed flag or a changed default breaks a test here, not a reader.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.doc_examples import Block, failed_block, page_script, read_blocks
from tests.support.paths import ROOT

PAGES = ["README.md", *sorted(f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md"))]
DATA = ("seeds", "corpus", "gold", "scripts", "bench", "tests")  # read-only: linked
COPIED = ("fixtures",)  # examples prune and author fixtures: a copy
# A hang guard, not a timing assertion: the slowest page (Ray) takes well under a minute idle.
HANG_GUARD_SECONDS = 900


def _blocks(page: str) -> list[Block]:
    return read_blocks(ROOT / page, page)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _user_environment(workdir: Path) -> dict[str, str]:
    """The environment of someone who set nothing up beyond the checkout's .venv."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("EXTRACTOR_", "OPENAI_", "PYTEST_")) and name not in ("VIRTUAL_ENV",)
    }
    environment["PATH"] = f"{workdir / '.venv' / 'bin'}{os.pathsep}{environment.get('PATH', '')}"
    environment["HOME"] = str(workdir)  # nothing read from or written to the real home
    return environment


def _workdir(tmp_path: Path) -> Path:
    """A folder that looks like the repository's root to the examples, writes landing in tmp_path."""
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    for name in DATA:
        (workdir / name).symlink_to(ROOT / name)
    for name in COPIED:
        shutil.copytree(ROOT / name, workdir / name)
    (workdir / ".venv").symlink_to(Path(sys.prefix))
    return workdir


def _runnable(page: str) -> tuple[str, ...]:
    return tuple(block.code for block in _blocks(page) if block.skip_reason is None)


# Pages whose runnable examples are the same (the README's quick start is the getting-started
# page's) run once, under the first of them.
RUN_ONCE = {_runnable(page): page for page in reversed(PAGES) if _runnable(page)}


@pytest.mark.parametrize("page", sorted(RUN_ONCE.values(), key=PAGES.index))
def test_the_examples_of_a_page_run(page, tmp_path):
    workdir = _workdir(tmp_path)
    script = page_script(_blocks(page), python=str(workdir / ".venv" / "bin" / "python"), port=_free_port())
    run = subprocess.run(
        ["bash", "-c", script],
        cwd=workdir,
        env=_user_environment(workdir),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        start_new_session=True,
        check=False,
    )
    assert run.returncode == 0, (
        f"example {failed_block(run.stderr)} failed (exit {run.returncode}):\n"
        f"--- stderr (end) ---\n{run.stderr[-4000:]}\n--- stdout (end) ---\n{run.stdout[-2000:]}"
    )


def test_every_example_either_runs_or_says_why_not():
    blocks = [block for page in PAGES for block in _blocks(page)]
    assert len(blocks) > 30  # the collector finds the pages' examples
    skipped = [block for block in blocks if block.skip_reason is not None]
    assert all(len(block.skip_reason or "") > 10 for block in skipped)
    # Skipping is for what cannot run offline (a real model, a cluster, the test suite itself), not a habit.
    assert len(skipped) * 2 < len(blocks), [block.where for block in skipped]


def test_the_readme_is_a_front_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    for command in ("scripts/run", "scripts/test"):
        assert command in readme
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("exec scripts/test")


def test_the_collector_reads_fences_languages_and_skip_reasons(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n```bash\necho one\n```\n\n```json\n{}\n```\n\n"
        "```python\n# not run by the tests: needs a real key\nprint(2)\n```\n\n"
        "````py\nprint('```')\n````\n",
        encoding="utf-8",
    )
    blocks = read_blocks(page, "page.md")
    assert [(b.line, b.language, b.skip_reason) for b in blocks] == [
        (3, "shell", None),
        (11, "python", "needs a real key"),
        (16, "python", None),
    ]
    assert blocks[2].code == "print('```')\n"


def test_a_failing_example_is_named_with_its_page_and_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```bash\ntrue\n```\n\n```python\nraise SystemExit(3)\n```\n", encoding="utf-8")
    script = page_script(read_blocks(page, "page.md"), python=sys.executable, port=_free_port())
    run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert run.returncode == 3
    assert failed_block(run.stderr) == "page.md:5"


def test_the_service_port_of_an_example_is_swapped_for_a_free_one():
    block = Block("p.md", 1, "shell", "serve --port 8000 &\ncurl http://127.0.0.1:8000/v1 localhost:80001\n", None)
    script = page_script([block], python="python", port=41234)
    assert "--port 41234" in script and "127.0.0.1:41234/v1" in script
    assert "localhost:80001" in script  # another number is left alone
