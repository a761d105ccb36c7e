"""Keep the contract page (`docs/contract.md`) and the Pydantic models in step.

The page is hand-written prose with one field table per contract model, each right after a
marker line `<!-- fields: ModelName -->`. The `field` and `type` columns of those tables are
rendered from the models; the `meaning` column belongs to the page, and a field new to the page
starts with its model's description. So regenerating never loses prose, and a renamed, added,
dropped or retyped field shows up as a difference:

    python -m extractor.docs docs/contract.md           # rewrite the tables from the models
    python -m extractor.docs docs/contract.md --check   # report drift, exit 1 (for CI)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from .cli.exit_codes import exit_code
from .errors import InputError
from .schemas import (
    Actor,
    Aircraft,
    Article,
    ArticleExtraction,
    Evidence,
    Exercise,
    ExtractionMeta,
    Notice,
    PoliticalStatement,
    Usage,
)

CONTRACT_MODELS: dict[str, type[BaseModel]] = {
    model.__name__: model
    for model in (
        ArticleExtraction,
        Article,
        Actor,
        Evidence,
        Exercise,
        Aircraft,
        PoliticalStatement,
        ExtractionMeta,
        Notice,
        Usage,
    )
}
"""Every model of the output contract, by the name its page section uses."""

DEFAULT_PAGE = Path("docs") / "contract.md"
MARKER = re.compile(r"^<!-- fields: (\w+) -->$")
HEADER = ("| field | type | meaning |", "|---|---|---|")
# A cell boundary is a pipe that is not escaped as `\|` (types and prose may contain those).
CELL_BOUNDARY = re.compile(r"(?<!\\)\|")
SCALAR_NAMES: dict[Any, str] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    dt.date: "date",
    dt.datetime: "datetime",
    type(None): "null",
}


@dataclass(frozen=True)
class Row:
    """One line of a field table."""

    field: str
    type: str
    meaning: str

    def render(self) -> str:
        return f"| {self.field} | {self.type} | {self.meaning} |"


@dataclass(frozen=True)
class Table:
    """A field table found in the page: its model and where its lines are."""

    model: str
    rows: list[Row]
    start: int  # index of the first line after the marker
    end: int  # index one past its last row


def type_name(annotation: Any) -> str:
    """The contract's spelling of a type: `str | null`, `list[Actor]`, `"air" | "naval"`."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return type_name(args[0])
    if origin is Union or origin is types.UnionType:
        present = [type_name(arg) for arg in args if arg is not type(None)]
        return " | ".join(present + (["null"] if type(None) in args else []))
    if origin is Literal:
        return " | ".join(json.dumps(value) for value in args)
    if origin is list:
        return f"list[{type_name(args[0])}]"
    if annotation in SCALAR_NAMES:
        return SCALAR_NAMES[annotation]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " | ".join(json.dumps(member.value) for member in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    raise TypeError(f"no contract spelling for the type {annotation!r}")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def model_rows(model: type[BaseModel]) -> list[Row]:
    """The rows of a model's table as the model declares them (meaning = field description)."""
    return [
        Row(name, f"`{_cell(type_name(field.annotation))}`", _cell(field.description or ""))
        for name, field in model.model_fields.items()
    ]


def _parse_row(line: str, number: int) -> Row:
    cells = [cell.strip() for cell in CELL_BOUNDARY.split(line.strip().strip("|"))]
    if len(cells) != 3:
        raise InputError(f"line {number}: a field table row needs 3 cells (field, type, meaning), found {len(cells)}")
    return Row(*cells)


def find_tables(lines: Sequence[str]) -> list[Table]:
    """Every marked field table of the page, in page order."""
    tables = []
    for index, line in enumerate(lines):
        marker = MARKER.match(line.strip())
        if marker is None:
            continue
        start = index + 1
        if tuple(line.strip() for line in lines[start : start + 2]) != HEADER:
            raise InputError(f"line {start + 1}: the table after {line.strip()} must start with {HEADER[0]}")
        end = start + 2
        while end < len(lines) and lines[end].lstrip().startswith("|"):
            end += 1
        rows = [_parse_row(lines[i], i + 1) for i in range(start + 2, end)]
        tables.append(Table(marker.group(1), rows, start, end))
    return tables


def check(text: str) -> list[str]:
    """Every difference between the page's field tables and the models; empty when in step."""
    tables = find_tables(text.splitlines())
    problems = [f"{t.model}: not a contract model" for t in tables if t.model not in CONTRACT_MODELS]
    documented = {t.model for t in tables}
    problems += [f"{name}: no field table in the page" for name in CONTRACT_MODELS if name not in documented]
    for table in tables:
        if table.model in CONTRACT_MODELS:
            problems += _table_problems(table, model_rows(CONTRACT_MODELS[table.model]))
    return problems


def _table_problems(table: Table, declared_rows: list[Row]) -> list[str]:
    page = {row.field: row for row in table.rows}
    declared = {row.field: row for row in declared_rows}
    problems = [f"{table.model}.{name}: field missing from the page" for name in declared if name not in page]
    problems += [f"{table.model}.{name}: the model has no such field" for name in page if name not in declared]
    for name in declared:
        if name in page and declared[name].type != page[name].type:
            problems.append(
                f"{table.model}.{name}: type is {declared[name].type} in the model, {page[name].type} in the page"
            )
    if not problems and [row.field for row in table.rows] != list(declared):
        problems.append(f"{table.model}: fields are not in the model's order")
    return problems


def render(text: str) -> str:
    """The page with every field table rebuilt from its model, the page's meanings kept."""
    lines = text.splitlines()
    for table in reversed(find_tables(lines)):  # from the end, so earlier indices stay valid
        model = CONTRACT_MODELS.get(table.model)
        if model is None:
            raise InputError(f"{table.model}: not a contract model (known: {', '.join(CONTRACT_MODELS)})")
        meanings = {row.field: row.meaning for row in table.rows}
        rows = [Row(r.field, r.type, meanings.get(r.field) or r.meaning) for r in model_rows(model)]
        lines[table.start : table.end] = [*HEADER, *(row.render() for row in rows)]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the page's field tables from the models, or with `--check` only report drift."""
    parser = argparse.ArgumentParser(prog="python -m extractor.docs", description=__doc__.splitlines()[0])
    parser.add_argument("page", nargs="?", type=Path, default=DEFAULT_PAGE, help=f"default: {DEFAULT_PAGE}")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if the page has drifted")
    options = parser.parse_args(argv)
    try:
        text = options.page.read_text(encoding="utf-8")
        if options.check:
            problems = check(text)
            for problem in problems:
                print(f"{options.page}: {problem}", file=sys.stderr)
            return 1 if problems else 0
        updated = render(text)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: {options.page}: cannot read ({exc.__class__.__name__})", file=sys.stderr)
        return exit_code(InputError())
    except InputError as exc:
        print(f"error: {options.page}: {exc}", file=sys.stderr)
        return exit_code(exc)
    if updated != text:
        from .output.files import write_atomically

        write_atomically(options.page, updated)
        print(f"{options.page}: field tables updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
