"""A service process started by uvicorn's supervisor (`extractor serve --workers N`, N > 1).

The parent prepares the state (schema, import, claims) once, then hands each worker its
settings in one environment variable (`WORKER_ENV`, JSON: the command's options, never a
key: the keys stay in the environment they came from) and shares Prometheus metrics through
a folder (`PROMETHEUS_MULTIPROC_DIR`). A worker dies with its parent (a parent killed with
SIGKILL must not leave workers serving and claiming beside the next start).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
from typing import Any

WORKER_ENV = "EXTRACTOR_SERVICE_WORKER_OPTIONS"
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Linux: SIGKILL this process when the process that started it ends."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return


def worker_options(settings: dict[str, Any], service: dict[str, Any], processes: int) -> str:
    return json.dumps({"settings": settings, "service": service, "processes": processes}, default=str)


def app() -> Any:
    """The ASGI app of one worker, from the options its parent put in the environment."""
    from ..settings import Settings
    from .app import create_app, tune_process
    from .settings import ServiceSettings

    die_with_parent()
    tune_process()
    options = json.loads(os.environ[WORKER_ENV])
    return create_app(
        Settings(**options["settings"]), ServiceSettings(**options["service"]), processes=options["processes"],
        prepared=True, owns_process=True,
    )  # fmt: skip
