"""What every `extractor` command shares: provider options, error reporting, safe output.

Kept apart from cli.py so command modules can import it without importing the app itself.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import ExtractorError, InputError

ProviderOpt = Annotated[
    Optional[str], typer.Option("--provider", help="auto | openai | local | replay (env EXTRACTOR_PROVIDER)")
]
ModelOpt = Annotated[Optional[str], typer.Option("--model", help="model name as sent to the server")]
BaseUrlOpt = Annotated[
    Optional[str], typer.Option("--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1")
]
ModeOpt = Annotated[Optional[str], typer.Option("--mode", help="tools | json_schema | json | md_json")]
GroundingOpt = Annotated[Optional[str], typer.Option("--grounding", help="strict | flag | off")]
FixturesModeOpt = Annotated[
    Optional[str], typer.Option("--fixtures-mode", help="off | replay | record | record-missing")
]
FixturesDirOpt = Annotated[Optional[Path], typer.Option("--fixtures", help="fixtures directory")]


LAST_OUTPUT_SHOWN = 300


def fail(error: Exception, code: int) -> None:
    """One line on stderr, then exit: with the model's last answer when retries ran out on it."""
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    last_output = getattr(error, "last_output", None)
    if last_output:
        shown = " ".join(last_output.split())
        if len(shown) > LAST_OUTPUT_SHOWN:
            shown = shown[:LAST_OUTPUT_SHOWN] + "…"
        message = f"{message}; last output: {shown}"
    typer.echo(f"extractor: error: {message}", err=True)
    raise typer.Exit(code)


def provider_overrides(
    provider: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    mode: str | None = None,
    grounding: str | None = None,
    fixtures_mode: str | None = None,
    fixtures_dir: Path | None = None,
) -> dict:
    given = dict(
        provider=provider,
        model=model,
        base_url=base_url,
        mode=mode,
        grounding=grounding,
        fixtures_mode=fixtures_mode,
        fixtures_dir=fixtures_dir,
    )
    return {key: value for key, value in given.items() if value is not None}


def make_extractor(**overrides):
    """An Extractor from CLI options; bad option values are usage errors (exit 2)."""
    from pydantic import ValidationError

    from .extract import Extractor

    try:
        return Extractor(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InputError(f"invalid setting {field}: {first['msg']}") from None


def check_output_path(path: Path) -> Path:
    """Fail before any model call when the output could not be written anyway."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not an output file")
    if not path.parent.is_dir():
        raise InputError(f"{path}: output directory does not exist")
    return path


def write_atomically(path: Path, content: str) -> None:
    """Write the whole file or nothing: a failed run leaves no partial output behind."""
    path = check_output_path(path)
    directory = path.parent
    handle, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); an output file gets the usual umask mode.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(content)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def run_guarded(action) -> None:
    """Run a command body: named errors become one line on stderr and their exit code."""
    try:
        action()
    except ExtractorError as error:
        fail(error, error.exit_code)
    except KeyboardInterrupt:
        typer.echo("extractor: interrupted", err=True)
        raise typer.Exit(130)
    except BrokenPipeError:
        raise typer.Exit(1)
