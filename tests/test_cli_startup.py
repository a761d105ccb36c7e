"""`extractor --version`, `--help` and `schema` start without loading the model client stack.

Asserted on the modules a fresh interpreter has imported, not on timings: the client stack
(openai, instructor, httpx) and the batch machinery (asyncio) are what made start-up slow.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("openai", "instructor", "httpx", "asyncio")

# Runs the CLI the way the console script does, then reports which heavy modules got imported.
PROBE = """
import json, sys
sys.argv = ["extractor", *sys.argv[1:]]
from extractor.cli import main
try:
    main()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
print(json.dumps({"code": code, "loaded": [name for name in HEAVY if name in sys.modules]}))
""".replace("HEAVY", repr(HEAVY))


def run_cli(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["schema"], ["schema", "--draft"]])
def test_fast_commands_do_not_import_the_client_stack(args):
    outcome = run_cli(*args)
    assert outcome == {"code": 0, "loaded": []}


def test_the_probe_sees_the_client_stack_when_a_command_needs_it():
    # The same probe on a command that builds an Extractor must see openai: the check above can fail.
    outcome = run_cli("extract", "--provider", "openai", "--base-url", "http://127.0.0.1:9/v1", "/nonexistent.txt")
    assert outcome["code"] != 0
    assert "openai" in outcome["loaded"]
