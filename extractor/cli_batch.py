"""CLI commands (to be filled)."""

import typer


def register(app: typer.Typer) -> None:
    return None
