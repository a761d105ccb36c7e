"""Bearer-key authentication for the `/v1` routes."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import Request

from .problems import ApiError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(host: str) -> bool:
    """True for addresses that only this machine can reach."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def key_matches(given: bytes, keys: list[bytes]) -> bool:
    """Compare against every key in constant time, so timing tells nothing about any key."""
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given, key)
    return matched


async def require_key(request: Request) -> None:
    """FastAPI dependency: 401 unless `Authorization: Bearer <key>` names a configured key.

    With no keys configured the server only listens on loopback (checked at start), and
    every local caller is trusted.
    """
    keys: list[bytes] = request.app.state.api_keys
    if not keys:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key_matches(token.strip().encode(), keys):
        raise ApiError(401, "unauthorized", "missing or unknown API key", {"WWW-Authenticate": "Bearer"})
