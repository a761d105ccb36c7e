"""What every `extractor` command shares: provider options, error reporting, safe output.

Kept apart from app.py so command modules can import it without importing the app itself.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ..errors import ExtractorError, InputError
from ..output.files import check_output_path, write_atomically
from .exit_codes import INTERRUPTED, exit_code

if TYPE_CHECKING:
    from ..pipeline import Extractor

ProviderOpt = Annotated[
    Optional[str], typer.Option("--provider", help="auto | openai | rules | local | replay (env EXTRACTOR_PROVIDER)")
]
ModelOpt = Annotated[Optional[str], typer.Option("--model", help="model name as sent to the server")]
BaseUrlOpt = Annotated[
    Optional[str], typer.Option("--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1")
]
ModeOpt = Annotated[Optional[str], typer.Option("--mode", help="tools | json_schema | json | md_json")]
StrictSchemaOpt = Annotated[
    Optional[str],
    typer.Option("--strict-schema", help="auto | on | off: OpenAI strict structured outputs (auto: api.openai.com)"),
]
GroundingOpt = Annotated[Optional[str], typer.Option("--grounding", help="strict | flag | off")]
FixturesModeOpt = Annotated[
    Optional[str], typer.Option("--fixtures-mode", help="off | replay | record | record-missing")
]
FixturesDirOpt = Annotated[Optional[Path], typer.Option("--fixtures", help="fixtures directory")]

__all__ = [
    "check_output_path",
    "fail",
    "make_extractor",
    "run_guarded",
    "with_provider_options",
    "write_atomically",
]


LAST_OUTPUT_SHOWN = 300


def fail(error: Exception, code: int) -> None:
    """One line on stderr, then exit: with the model's last answer when retries ran out on it.

    Any API key the process knows is redacted, wherever it came from (a server may echo it).
    """
    from ..replay.redact import redact_secrets

    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    last_output = getattr(error, "last_output", None)
    if last_output:
        shown = " ".join(last_output.split())
        if len(shown) > LAST_OUTPUT_SHOWN:
            shown = shown[:LAST_OUTPUT_SHOWN] + "…"
        message = f"{message}; last output: {shown}"
    typer.echo(f"extractor: error: {redact_secrets(message)}", err=True)
    raise typer.Exit(code)


_PROVIDER_OPTIONS: dict[str, Any] = {
    "provider": ProviderOpt,
    "model": ModelOpt,
    "base_url": BaseUrlOpt,
    "mode": ModeOpt,
    "strict_schema": StrictSchemaOpt,
    "grounding": GroundingOpt,
    "fixtures_mode": FixturesModeOpt,
    "fixtures_dir": FixturesDirOpt,
}


def with_provider_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the shared provider options; it receives the ones given as `overrides`.

    typer reads options from the signature, so the options are appended to it here once
    instead of being spelled out in every command.
    """
    signature = inspect.signature(command, eval_str=True)
    own = [param for name, param in signature.parameters.items() if name != "overrides"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        for name, annotation in _PROVIDER_OPTIONS.items()
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name, None) for name in _PROVIDER_OPTIONS}
        overrides = {name: value for name, value in given.items() if value is not None}
        return command(*args, overrides=overrides, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=own + added)  # type: ignore[attr-defined]
    return wrapper


def make_extractor(**overrides: Any) -> Extractor:
    """An Extractor from CLI options; bad option values are usage errors (exit 2)."""
    from pydantic import ValidationError

    from ..pipeline import Extractor

    try:
        extractor = Extractor(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InputError(f"invalid setting {field}: {first['msg']}") from None
    if extractor.provider == "local":
        typer.echo(LOCAL_MODEL_NOTICE, err=True)
    elif extractor.provider == "rules" and extractor.settings.provider == "auto":
        typer.echo(RULES_NOTICE, err=True)
    return extractor


LOCAL_MODEL_NOTICE = (
    "extractor: note: the bundled SmolLM2-135M is a demonstration model and its items are mostly wrong; "
    "for real work set OPENAI_API_KEY or use --provider openai --base-url URL --model NAME"
)
"""Said once per command whenever the bundled model answers (also when `auto` chose it)."""


RULES_NOTICE = (
    "extractor: note: no OPENAI_API_KEY, so the deterministic rules extract (provider rules, no model); "
    "for a model use --provider openai (with OPENAI_API_KEY, or --base-url URL for a compatible server), "
    "or --provider replay to replay recorded answers"
)
"""Said once per command when `auto` chose the rules because no key is set."""


def _quiet_instructor_logs() -> None:
    # instructor logs every failed attempt at ERROR; the CLI reports failures itself, once.
    # Done per command, not at import, so `--version` and `--help` need not load logging.
    import logging

    logger = logging.getLogger("instructor")
    if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
        logger.addHandler(logging.NullHandler())
    logger.propagate = False


def run_guarded(action: Callable[[], None]) -> None:
    """Run a command body: named errors become one line on stderr and their exit code."""
    _quiet_instructor_logs()
    try:
        action()
    except ExtractorError as error:
        fail(error, exit_code(error))
    except KeyboardInterrupt:
        typer.echo("extractor: interrupted", err=True)
        raise typer.Exit(INTERRUPTED) from None
    except BrokenPipeError:
        raise typer.Exit(1) from None
