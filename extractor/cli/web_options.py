"""The options of commands that fetch URLs (`extract URL`, `batch` with URLs, feeds, sitemaps)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from ..errors import InputError

AllowPrivateOpt = Annotated[
    bool,
    typer.Option(
        "--allow-private", help="fetch from loopback, private and link-local addresses too (never cloud metadata)"
    ),
]
AllowNetworkOpt = Annotated[
    Optional[list[str]],
    typer.Option("--allow-network", help="fetch from this non-public network only, e.g. 10.20.0.0/16 (repeatable)"),
]
IgnoreRobotsOpt = Annotated[bool, typer.Option("--ignore-robots", help="fetch pages robots.txt disallows")]


def fetch_settings(*, allow_private: bool, allow_network: list[str] | None, ignore_robots: bool) -> Any:
    """`FetchSettings` from the environment, with the options given on the command line over it."""
    from pydantic import ValidationError

    from ..input.fetch import FetchSettings

    given: dict[str, Any] = {}
    if allow_private:
        given["allow_private"] = True
    if allow_network:
        given["allow_networks"] = allow_network
    if ignore_robots:
        given["robots"] = False
    try:
        return FetchSettings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InputError(f"invalid fetch setting {field}: {first['msg']}") from None


def print_notes(notes: list[str], *, quiet: bool = False) -> None:
    """Each note on a line of its own on stderr."""
    if not quiet:
        for note in notes:
            typer.echo(f"extractor: note: {note}", err=True)
