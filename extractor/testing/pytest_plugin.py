"""pytest plugin: tests replay recorded model responses, with the network shut.

Loaded through the `pytest11` entry point wherever extractor is installed, so it imports
nothing but the standard library and pytest, and it can be switched off per project:
`extractor_fixtures = off` in the pytest ini options, or `-p no:extractor_fixtures`.

- default: EXTRACTOR_FIXTURES_MODE=replay (unless set in the environment) and any socket
  connection beyond loopback (127.0.0.0/8, ::1) or a Unix socket fails at once;
- `--record-missing` or EXTRACTOR_RECORD=1: EXTRACTOR_FIXTURES_MODE=record-missing and the
  network stays open, so missing fixtures are recorded from the real provider.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

import pytest

MODE_ENV = "EXTRACTOR_FIXTURES_MODE"
RECORD_ENV = "EXTRACTOR_RECORD"
# Per session (pytester runs sessions inside sessions): what to restore at the end.
_SAVED = pytest.StashKey[dict[str, Any]]()


class NetworkBlocked(OSError):
    """Raised instead of connecting: tests must replay fixtures, not call a server."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("extractor", "extractor fixtures")
    group.addoption(
        "--record-missing",
        action="store_true",
        default=False,
        help="record model responses missing from the fixtures (allows network; env EXTRACTOR_RECORD=1)",
    )
    parser.addini("extractor_fixtures", "on (default): replay fixtures with the network blocked; off: do nothing", default="on")


def _loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) and address else address
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded(original: Any) -> Any:
    def connect(self: socket.socket, address: Any, *args: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address):
            raise NetworkBlocked(
                f"network access to {address!r} blocked by extractor_fixtures: "
                "replay fixtures, or record them with `pytest --record-missing`"
            )
        return original(self, address, *args)

    return connect


def recording(config: pytest.Config) -> bool:
    return bool(config.getoption("--record-missing", default=False)) or os.environ.get(RECORD_ENV, "") not in ("", "0")


def pytest_configure(config: pytest.Config) -> None:
    if str(config.getini("extractor_fixtures")).strip().lower() in ("off", "false", "0", "no"):
        return
    saved = config.stash[_SAVED] = {"mode": os.environ.get(MODE_ENV)}
    if recording(config):
        os.environ[MODE_ENV] = "record-missing"
        return
    # An explicit choice in the environment wins (a nightly job may run live with `off`).
    if os.environ.setdefault(MODE_ENV, "replay") != "replay":
        return
    saved["connect"], saved["connect_ex"] = socket.socket.connect, socket.socket.connect_ex
    socket.socket.connect = _guarded(socket.socket.connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded(socket.socket.connect_ex)  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    saved = config.stash.get(_SAVED, {})
    if "connect" in saved:
        socket.socket.connect = saved.pop("connect")  # type: ignore[method-assign]
        socket.socket.connect_ex = saved.pop("connect_ex")  # type: ignore[method-assign]
    if "mode" in saved:
        previous = saved.pop("mode")
        if previous is None:
            os.environ.pop(MODE_ENV, None)
        else:
            os.environ[MODE_ENV] = previous


def pytest_report_header(config: pytest.Config) -> str | None:
    mode = os.environ.get(MODE_ENV)
    blocked = "connect" in config.stash.get(_SAVED, {})
    return f"extractor fixtures: {mode}, network {'blocked' if blocked else 'open'}" if mode else None


@pytest.fixture
def extractor_fixtures_mode() -> str:
    """The fixtures mode this test session runs in."""
    return os.environ.get(MODE_ENV, "off")
