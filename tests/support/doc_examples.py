"""The shell and Python examples of the README and the documentation pages, as code blocks to run.

A page's examples are read in order from its fenced blocks (```bash, ```sh, ```shell,
```console, ```python, ```py). A block that cannot run offline says so on its first line, in
words the reader sees: `# not run by the tests: <reason>`. Other fences (text, json, toml,
yaml, ...) are not examples. tests/test_doc_examples.py turns a page into one bash script
(each Python block fed to the project's Python) and runs it in a scratch folder that holds
the repository's data, as a user in a checkout would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SHELL = frozenset({"bash", "sh", "shell", "console"})
PYTHON = frozenset({"python", "py"})
SKIP = re.compile(r"^#\s*not run by the tests:\s*(?P<reason>\S.*)$")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
# The port the examples' service listens on; each run swaps in a free one.
EXAMPLE_PORT = "8000"


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the opening fence, 1-based
    language: str  # "shell" or "python"
    code: str
    skip_reason: str | None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def read_blocks(path: Path, name: str) -> list[Block]:
    """Every shell and Python block of a Markdown page, in page order."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, info = opening["fence"], opening["info"].strip()
        language = info.split()[0].lower() if info else ""
        body: list[str] = []
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index])
            index += 1
        index += 1  # the closing fence
        kind = "shell" if language in SHELL else "python" if language in PYTHON else None
        if kind is None:
            continue
        first = next((line.strip() for line in body if line.strip()), "")
        skipped = SKIP.match(first)
        blocks.append(
            Block(
                page=name,
                line=index - len(body) - 1,
                language=kind,
                code="\n".join(body) + "\n",
                skip_reason=skipped["reason"] if skipped else None,
            )
        )
    return blocks


def page_script(blocks: list[Block], python: str, port: int) -> str:
    """One bash script running a page's examples in order; each block announces itself on stderr."""
    parts = [
        "set -euo pipefail",
        # Background servers a block started (`extractor serve ... &`) end with the script.
        "trap 'jobs -p | xargs -r kill 2>/dev/null || true' EXIT",
    ]
    for number, block in enumerate(blocks):
        if block.skip_reason is not None:
            continue
        parts.append(f"echo '>>> example {block.where}' >&2")
        code = _with_port(block.code, port)
        if block.language == "shell":
            parts.append(code)
        else:
            marker = f"PYTHON_EXAMPLE_{number}"
            parts.append(f"{python} - <<'{marker}'\n{code}{marker}")
    return "\n".join(parts) + "\n"


def failed_block(stderr: str) -> str:
    """The example a failed script was running: the last one it announced."""
    announced = re.findall(r"^>>> example (\S+)$", stderr, flags=re.MULTILINE)
    return announced[-1] if announced else "(before the first example)"


def _with_port(code: str, port: int) -> str:
    return re.sub(rf"(127\.0\.0\.1:|localhost:|--port ){EXAMPLE_PORT}\b", rf"\g<1>{port}", code)
