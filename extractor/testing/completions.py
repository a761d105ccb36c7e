"""Fake OpenAI `chat.completion` response bodies: the one builder behind every fake server.

The fault server, the scripted test server and the authored fixtures all answer chat requests
without a model; they build their answers here so the shape (tool call or message content,
usage, ids) is written once.
"""

from __future__ import annotations

import json
from typing import Any

DEFAULT_TOOL = "ExtractionDraft"


def chat_completion(
    answer: str,
    *,
    model: str,
    tool: str | None = None,
    completion_id: str = "test",
    usage: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """A chat.completion whose answer is `answer` (JSON text).

    With `tool`, the answer is the arguments of a call to that tool (finish reason
    `tool_calls`); without, it is the message content (finish reason `stop`). `usage` is
    (prompt tokens, completion tokens).
    """
    if tool is not None:
        call = {"id": f"call_{completion_id}", "type": "function", "function": {"name": tool, "arguments": answer}}
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
        finish = "tool_calls"
    else:
        message, finish = {"role": "assistant", "content": answer}, "stop"
    prompt_tokens, completion_tokens = usage
    return {
        "id": f"chatcmpl-{completion_id}",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def requested_tool(body: dict[str, Any]) -> str | None:
    """The tool a chat request wants called: its forced `tool_choice`, else its first tool.

    None when the request offers no tools (JSON modes answer in the message content).
    """
    tools = body.get("tools") or []
    if not tools:
        return None
    choice = body.get("tool_choice")
    # tool_choice may also be a string ("auto", "required"): then no tool is forced.
    forced = (choice.get("function") or {}).get("name") if isinstance(choice, dict) else None
    return forced or (tools[0].get("function") or {}).get("name") or DEFAULT_TOOL


def answer_for(
    body: dict[str, Any],
    answer: str,
    *,
    completion_id: str,
    usage: tuple[int, int] = (0, 0),
    default_model: str = "unknown",
) -> dict[str, Any]:
    """What an OpenAI-compatible server returns for the request `body` when its answer is `answer`.

    A tool call when the request offers tools (see `requested_tool`), else message content;
    the model is the one asked for, or `default_model` when the request names none.
    """
    return chat_completion(
        answer,
        model=body.get("model") or default_model,
        tool=requested_tool(body),
        completion_id=completion_id,
        usage=usage,
    )


def tool_call_completion(
    arguments: dict[str, Any] | str, *, model: str = "gpt-4o-mini", usage: tuple[int, int] = (100, 20)
) -> dict[str, Any]:
    """A completion calling ExtractionDraft with `arguments` (a dict is sent as JSON): the usual test answer."""
    answer = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return chat_completion(answer, model=model, tool=DEFAULT_TOOL, usage=usage)
