"""Bearer keys, who they are (a key id, never the key) and what they may see.

`EXTRACTOR_API_KEYS` and `EXTRACTOR_ADMIN_KEYS` hold comma-separated entries, each either
`name:secret` or a bare `secret`. A job belongs to the key id of the key that created it:

- `name:secret`: the key id is the name. Rotating a key is replacing its secret under the
  same name (or listing `name:old,name:new` while clients move): the jobs stay its own.
- a bare `secret` (as before names existed): the key id is `sha256:` followed by the first 16
  hex digits of the SHA-256 of the secret. Such a key cannot be rotated without its jobs
  moving to the new id; give it a name to rotate it.

Admin keys see and manage every job (their own jobs are theirs too). Without any key the
server listens only on loopback and every caller is the one local admin, `local`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass, field

from fastapi import Request

from .problems import ApiError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
LOCAL = "local"


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


@dataclass(frozen=True)
class Caller:
    """Who is asking: the key id jobs are owned by, and whether it sees everyone's."""

    key_id: str
    admin: bool = False

    def sees(self, owner: str) -> bool:
        return self.admin or owner == self.key_id


@dataclass(frozen=True)
class ApiKey:
    secret: bytes = field(repr=False)
    caller: Caller = Caller(LOCAL)


def key_id(entry: str) -> tuple[str, str]:
    """(key id, secret) of one configured entry, `name:secret` or a bare secret."""
    name, colon, secret = entry.partition(":")
    if colon:
        if not NAME.fullmatch(name) or not secret:
            raise ValueError("a named key is name:secret, the name of letters, digits, '.', '_' or '-' (64 at most)")
        return name, secret
    return f"sha256:{hashlib.sha256(entry.encode()).hexdigest()[:16]}", entry


def parse_keys(entries: list[str], *, admin: bool) -> list[ApiKey]:
    keys = []
    for entry in entries:
        identity, secret = key_id(entry)
        keys.append(ApiKey(secret.encode(), Caller(identity, admin)))
    return keys


def caller_of(token: bytes, keys: list[ApiKey]) -> Caller | None:
    """The caller a key is, comparing with every configured key in constant time."""
    found: Caller | None = None
    for key in keys:
        if hmac.compare_digest(token, key.secret) and (found is None or key.caller.admin):
            found = key.caller
    return found


def bearer(request: Request) -> bytes | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip().encode() if scheme.lower() == "bearer" else None


async def require_key(request: Request) -> Caller:
    """FastAPI dependency: the caller, or 401 unless `Authorization: Bearer <key>` names a configured key.

    With no keys configured the server only listens on loopback (checked at start), and
    every local caller is trusted.
    """
    keys: list[ApiKey] = request.app.state.api_keys
    if not keys:
        caller = Caller(LOCAL, admin=True)
    else:
        token = bearer(request)
        found = caller_of(token, keys) if token else None
        if found is None:
            raise ApiError(401, "unauthorized", "missing or unknown API key", {"WWW-Authenticate": "Bearer"})
        caller = found
    request.state.caller = caller
    return caller
