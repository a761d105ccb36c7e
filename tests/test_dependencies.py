"""Every third-party distribution the package imports is declared in pyproject.toml.

The imports are read from the source (every `import`, at any depth, under `extractor/` and
`schemas/`, except those the code does without when missing), mapped to the distributions
that installed them, and compared with what pyproject.toml declares: the core dependencies,
plus the one extra a module belongs to. A distribution that only arrives through another one
(httpx2 through openai) fails here.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from tests.support.paths import ROOT

SOURCES = ("extractor", "schemas")

# The modules that run only with an extra installed, and that extra.
EXTRA_OF_MODULE = {
    "extractor/service/": "service",
    "extractor/cli/serve.py": "service",
    "extractor/engines/ray/": "ray",
    "extractor/ray.py": "ray",
    "extractor/local/": "local",
    # The throwaway PostgreSQL server of the tests and benchmarks makes its databases with psycopg.
    "extractor/testing/postgres.py": "postgres",
    # Loaded by pytest itself (a `pytest11` entry point), so pytest is there when it runs.
    "extractor/testing/pytest_plugin.py": "dev",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return canonical(match.group(1))


def declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = {requirement_name(r) for r in project["dependencies"]}
    extras = {
        extra: {requirement_name(r) for r in requirements}
        for extra, requirements in project.get("optional-dependencies", {}).items()
    }
    return core, extras


def _does_without(handler: ast.ExceptHandler) -> bool:
    """An `except ImportError` that carries on (a fallback), not one that re-raises (a required extra)."""
    caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    catches = any(isinstance(name, ast.Name) and name.id in ("ImportError", "ModuleNotFoundError") for name in caught)
    return catches and not any(isinstance(node, ast.Raise) for node in ast.walk(handler))


def _optional(tree: ast.AST) -> set[int]:
    """The nodes inside a `try` whose `except ImportError` carries on: imports the code does without."""
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_does_without(h) for h in node.handlers):
            guarded.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    return guarded


def third_party_imports(path: Path) -> set[str]:
    """Top-level names of the non-stdlib modules `path` needs: imported anywhere in the file,
    except under a `try` whose `except ImportError` carries on without them."""
    names: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    optional = _optional(tree)
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names and name != "extractor"}


def extra_of(relative: str) -> str | None:
    return next((extra for prefix, extra in EXTRA_OF_MODULE.items() if relative.startswith(prefix)), None)


def undeclared_imports() -> list[str]:
    core, extras = declared()
    installed_by = importlib.metadata.packages_distributions()
    problems = []
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            extra = extra_of(relative)
            allowed = core | (extras.get(extra, set()) if extra else set())
            for module in sorted(third_party_imports(path)):
                distributions = {canonical(d) for d in installed_by.get(module, [])}
                if not distributions:
                    problems.append(f"{relative}: imports {module}, which no installed distribution provides")
                elif not distributions & allowed:
                    where = f"core or the {extra!r} extra" if extra else "the core dependencies"
                    problems.append(
                        f"{relative}: imports {module} ({', '.join(sorted(distributions))}), not in {where}"
                    )
    return problems


def test_every_imported_distribution_is_declared():
    problems = undeclared_imports()
    assert not problems, "\n".join(problems)


def test_the_check_sees_what_is_imported_and_where():
    # The walk finds imports inside functions too (most of ours are lazy), and knows stdlib.
    assert {"httpx2", "instructor", "openai"} <= third_party_imports(ROOT / "extractor/model_call/client.py")
    # Imported inside a function, under an `except ImportError` that says which extra to install.
    assert "llama_cpp" in third_party_imports(ROOT / "extractor/local/model.py")
    assert third_party_imports(ROOT / "extractor/errors.py") == set()
    # httpx is imported only to adapt a transport the caller made with it, under `except ImportError`.
    assert "httpx" not in third_party_imports(ROOT / "extractor/model_call/caller_transport.py")
    assert extra_of("extractor/engines/ray/actor.py") == "ray" and extra_of("extractor/pipeline.py") is None
