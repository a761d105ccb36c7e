"""What a browser or a network can do to the service, refused before any route runs.

- **Host names** (DNS rebinding): a page on `evil.example` whose name an attacker points at
  127.0.0.1 reaches a loopback server with `Host: evil.example`. A server without keys (on
  loopback, so trusting every local caller) serves only loopback host names; with
  `--allowed-hosts` only those (`*.example.org` allows its subdomains); with keys and no
  list, any host (the keys guard it).
- **Origins** (cross-site requests): a page elsewhere can make a browser send a `text/plain`
  POST without a CORS preflight. A server without keys refuses any request whose `Origin` is
  not a loopback one (nor listed in `--cors-origins`).

Both answer a problem (421 for the host, 403 for the origin).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from .auth import is_loopback
from .problems import send_problem


def host_name(value: str) -> str:
    """The name of a Host header value, without its port (IPv6 keeps its brackets off)."""
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(name: str, patterns: list[str]) -> bool:
    name = name.lower().rstrip(".")
    for pattern in patterns:
        pattern = pattern.lower()
        if pattern == "*" or name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:])):
            return True
    return False


class RequestGuard:
    """ASGI middleware: refuse foreign Host names and, on a keyless server, foreign Origins."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: list[str], loopback_only: bool, cors_origins: list[str]) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.loopback_only = loopback_only
        self.cors_origins = set(cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            name.decode(): value.decode("latin-1") for name, value in scope["headers"] if name in (b"host", b"origin")
        }
        name = host_name(headers.get("host", ""))
        if self.allowed_hosts and not host_allowed(name, self.allowed_hosts):
            await _refuse(scope, send, 421, "host_not_allowed", f"this server does not serve the host {name!r}")
            return
        if not self.allowed_hosts and self.loopback_only and not is_loopback(name):
            await _refuse(scope, send, 421, "host_not_allowed", "a server without keys serves only loopback host names")
            return
        origin = headers.get("origin")
        if self.loopback_only and origin is not None and origin not in self.cors_origins:
            if not is_loopback(urlsplit(origin).hostname or ""):
                await _refuse(
                    scope, send, 403, "origin_not_allowed", "a server without keys refuses other sites' requests"
                )
                return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send, status: int, code: str, detail: str) -> None:
    await send_problem(scope, send, status, code, detail)
