"""Opening the service database at start-up: wait for it a bounded time, or say in one line why not.

A replica often starts beside its database (a compose file, a Kubernetes pod): the server may
not accept connections for a few seconds, so start-up retries (tenacity: exponential pauses,
at most `patience` seconds). What waiting cannot fix (a refused password, a database or role
that does not exist, an unreadable URL, a missing driver) stops the start at once.
"""

from __future__ import annotations

from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

from ...errors import ConfigError
from .engine import shown_url
from .repository import Database

# Answers of a server that is up and refuses us: waiting does not change them.
REFUSALS = ("authentication failed", "does not exist", "no password supplied", "pg_hba.conf", "permission denied")


def reason(error: BaseException) -> str:
    """The driver's first line, without SQLAlchemy's wrapping."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    text = str(cause).strip()
    return text.splitlines()[0] if text else type(cause).__name__


def may_come_up(error: BaseException) -> bool:
    """The database is not reachable yet (refused, starting, no route): worth waiting for."""
    return isinstance(error, OperationalError) and not any(word in reason(error) for word in REFUSALS)


def open_database(url: str, patience: float) -> Database:
    """The database at `url`, answering; `ConfigError` (one line, never the password) if it cannot be."""
    shown = shown_url(url)
    try:
        db = Database(url)
    except ImportError as error:
        raise ConfigError(
            f"the service database {shown} needs its driver ({error.name} is missing): pip install 'extractor[postgres]'"
        ) from None
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise ConfigError(f"the service database URL {shown} cannot be used: {reason(error)}") from None
    retrying = Retrying(
        retry=retry_if_exception(may_come_up),
        stop=stop_after_delay(patience),
        wait=wait_exponential(multiplier=0.2, max=2.0),
        reraise=True,
    )
    try:
        retrying(db.ping)
    except Exception as error:
        db.close()
        raise ConfigError(f"the service database at {shown} cannot be used: {reason(error)}") from None
    return db
