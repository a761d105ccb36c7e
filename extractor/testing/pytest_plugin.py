"""pytest plugin: opt-in replay of recorded model responses, with the network shut.

Loaded through the `pytest11` entry point wherever extractor is installed, so it imports
nothing but the standard library and pytest, and it does nothing until a project asks for it
(like pytest-socket or pytest-recording): other projects' test sessions are left alone.

Opt in with `extractor_fixtures = replay` in the pytest ini options, or `pytest --extractor-replay`.
Once enabled:

- EXTRACTOR_FIXTURES_MODE=replay (unless set in the environment) and any socket connection
  beyond loopback (127.0.0.0/8, ::1) or a Unix socket fails at once;
- `--record-missing` or EXTRACTOR_RECORD=1: EXTRACTOR_FIXTURES_MODE=record-missing and the
  network stays open, so missing fixtures are recorded from the real provider. The flag is an
  explicit request and enables the plugin by itself; the environment variable does not.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

import pytest

MODE_ENV = "EXTRACTOR_FIXTURES_MODE"
RECORD_ENV = "EXTRACTOR_RECORD"
INI = "extractor_fixtures"
ENABLED = ("replay",)
DISABLED = ("off", "")
# Per session (pytester runs sessions inside sessions): what to restore at the end.
_SAVED = pytest.StashKey[dict[str, Any]]()


class NetworkBlocked(OSError):
    """Raised instead of connecting: tests must replay fixtures, not call a server."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """The opt-in flag, the record flag and the ini option."""
    group = parser.getgroup("extractor", "extractor fixtures")
    group.addoption(
        "--extractor-replay",
        action="store_true",
        default=False,
        help="replay extractor fixtures with the network blocked (ini: extractor_fixtures = replay)",
    )
    group.addoption(
        "--record-missing",
        action="store_true",
        default=False,
        help="record extractor model responses missing from the fixtures (allows network; "
        "with the plugin enabled, env EXTRACTOR_RECORD=1 does the same)",
    )
    parser.addini(
        INI, "replay: replay extractor fixtures with the network blocked; off (default): do nothing", default="off"
    )


def enabled(config: pytest.Config) -> bool:
    """Whether this project asked for the plugin: ini option, --extractor-replay or --record-missing."""
    if config.getoption("--extractor-replay", default=False) or config.getoption("--record-missing", default=False):
        return True
    value = str(config.getini(INI)).strip().lower()
    if value not in ENABLED + DISABLED:
        raise pytest.UsageError(f"{INI} = {value!r}: use replay or off")
    return value in ENABLED


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
    """Whether missing fixtures are to be recorded (only asked once the plugin is enabled)."""
    return bool(config.getoption("--record-missing", default=False)) or os.environ.get(RECORD_ENV, "") not in ("", "0")


def pytest_configure(config: pytest.Config) -> None:
    """Set the fixtures mode and shut the network, when the project opted in."""
    if not enabled(config):
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
    """Give the session back its socket functions and its fixtures mode."""
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
    """One header line saying the mode and whether the network is blocked (enabled sessions only)."""
    if _SAVED not in config.stash:
        return None
    blocked = "connect" in config.stash[_SAVED]
    return f"extractor fixtures: {os.environ.get(MODE_ENV)}, network {'blocked' if blocked else 'open'}"


@pytest.fixture
def extractor_fixtures_mode() -> str:
    """The fixtures mode this test session runs in."""
    return os.environ.get(MODE_ENV, "off")
