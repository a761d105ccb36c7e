"""OpenAI strict structured outputs: the request shape that guarantees the schema on api.openai.com.

With `strict: true` on the tool (tools mode) or on `response_format.json_schema` (json_schema
mode), OpenAI constrains decoding to the schema, but only accepts a subset of JSON Schema
(platform.openai.com/docs/guides/structured-outputs, "Supported schemas"):

- the root is an object, not `anyOf`; every object lists all its properties in `required`
  and has `additionalProperties: false`; an optional value is a union with null;
- keywords: `type`, `properties`, `required`, `additionalProperties`, `items`, `enum`,
  `const`, `anyOf`, `$ref` / `$defs` (a `$ref` stands alone), `description`; strings
  `pattern` and the formats listed below; numbers `minimum`, `maximum`, `exclusiveMinimum`,
  `exclusiveMaximum`, `multipleOf`; arrays `minItems`, `maxItems`. Not `allOf`, `not`,
  `if`/`then`/`else`, `dependent*`, nor `default`, `minLength`, `maxLength`, `title`;
- at most 5,000 object properties, 10 levels of nesting, 1,000 enum values and 120,000
  characters of property names, definition names, enum and const values.

instructor (1.17) sends neither flag: its `strict=` argument only sets pydantic's validation
strictness, and `Mode.TOOLS_STRICT` is a deprecated alias of `TOOLS`. So instructor builds the
request as usual and `strict_create` rewrites its schema into that subset (`strict_json_schema`)
and sets the flag, just before the request is posted. The answer is still validated by the
pydantic draft model (lengths, country codes, dates in order), which the subset cannot express.

Compatible servers (Ollama, vLLM, llama.cpp, the test servers) keep plain tools:
`uses_strict_schema` turns strict on for api.openai.com only, unless the setting
`strict_schema` (`EXTRACTOR_STRICT_SCHEMA`) says `on` or `off`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any, Final

STRICT_HOSTS: Final = frozenset({"api.openai.com"})
"""Hosts where `auto` turns strict structured outputs on."""

SUPPORTED_FORMATS: Final = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
_ANY: Final = frozenset({"type", "description", "enum", "const", "anyOf", "$ref"})
_BY_TYPE: Final = {
    "object": frozenset({"properties", "required", "additionalProperties"}),
    "array": frozenset({"items", "minItems", "maxItems"}),
    "string": frozenset({"pattern", "format"}),
    "number": frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}),
    "integer": frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}),
}
_TYPES: Final = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
MAX_PROPERTIES: Final = 5000
MAX_DEPTH: Final = 10
MAX_ENUM_VALUES: Final = 1000
MAX_NAME_CHARS: Final = 120_000


def uses_strict_schema(setting: str, *, provider: str, base_url: str | None, mode: str) -> bool:
    """Whether requests ask for strict structured outputs.

    Only requests that carry a schema (tools and json_schema modes) to an OpenAI-style server
    (the openai provider, or replay standing in for one) can; the bundled local model already
    decodes with a grammar. `auto` means: when the server is api.openai.com.
    """
    if provider not in ("openai", "replay") or mode not in ("tools", "json_schema") or setting == "off":
        return False
    if setting == "on":
        return True
    import httpx2  # here: printing the strict schema (`extractor schema --draft --strict`) needs no HTTP stack

    try:
        host = httpx2.URL(base_url).host if base_url else ""
    except (httpx2.InvalidURL, TypeError, ValueError):
        return False
    return host in STRICT_HOSTS


# -- the schema ---------------------------------------------------------------------------------


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()


def _allowed(node: dict[str, Any]) -> frozenset[str]:
    allowed = set(_ANY)
    for kind in _types(node):
        allowed |= _BY_TYPE.get(kind, frozenset())
    if "properties" in node:
        allowed |= _BY_TYPE["object"]
    return frozenset(allowed)


def _strict_node(node: Any, defs: dict[str, Any]) -> Any:
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        # A $ref must stand alone: inline the definition, the node's own keywords winning.
        target = defs.get(ref.removeprefix("#/$defs/"), {})
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    allowed = _allowed(node)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in allowed:
            continue
        if key == "properties":
            out[key] = {name: _strict_node(sub, defs) for name, sub in value.items()}
        elif key == "items":
            out[key] = _strict_node(value, defs)
        elif key == "anyOf":
            out[key] = [_strict_node(sub, defs) for sub in value]
        elif key == "format" and value not in SUPPORTED_FORMATS:
            continue
        else:
            out[key] = value
    if "properties" in out or "object" in _types(node):
        out.setdefault("properties", {})
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


def strict_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` (a pydantic JSON Schema) rewritten into OpenAI's strict subset.

    Every property becomes required (pydantic already writes an optional value as a union
    with null; a defaulted list must now be sent, `[]` when empty), every object closed,
    unsupported keywords dropped; the definitions stay shared under `$defs`.
    """
    defs = schema.get("$defs", {})
    out: dict[str, Any] = _strict_node({k: v for k, v in schema.items() if k != "$defs"}, defs)
    if defs:
        out["$defs"] = {name: _strict_node(sub, defs) for name, sub in defs.items()}
    return out


@lru_cache(maxsize=16)
def _strict_from_json(schema_json: str) -> str:
    return json.dumps(strict_json_schema(json.loads(schema_json)))


def cached_strict_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`strict_json_schema`, computed once per distinct schema (instructor sends the same one)."""
    strict: dict[str, Any] = json.loads(_strict_from_json(json.dumps(schema, sort_keys=True)))
    return strict


# -- the check (OpenAI's documented rules, applied to any schema) ------------------------------


def strict_schema_problems(schema: dict[str, Any]) -> list[str]:
    """Why OpenAI would refuse `schema` as a strict schema; `[]` when it follows the rules."""
    problems: list[str] = []
    if schema.get("type") != "object" or "anyOf" in schema:
        problems.append("root: must be an object, not anyOf")
    defs = schema.get("$defs", {})
    counts = {"properties": 0, "enum": 0, "chars": sum(len(name) for name in defs)}

    def walk(node: Any, where: str, depth: int) -> None:
        if not isinstance(node, dict):
            problems.append(f"{where}: not a schema")
            return
        ref = node.get("$ref")
        if ref is not None:
            if len(node) > 1:
                problems.append(f"{where}: $ref with other keywords {sorted(set(node) - {'$ref'})}")
            if not (isinstance(ref, str) and (ref == "#" or ref.removeprefix("#/$defs/") in defs)):
                problems.append(f"{where}: $ref {ref!r} does not name a definition")
            return
        extra = set(node) - _allowed(node) - ({"$defs"} if where == "root" else set())
        if extra:
            problems.append(f"{where}: unsupported keywords {sorted(extra)}")
        if not _types(node) <= _TYPES:
            problems.append(f"{where}: unsupported type {node.get('type')!r}")
        if "format" in node and node["format"] not in SUPPORTED_FORMATS:
            problems.append(f"{where}: unsupported format {node['format']!r}")
        if "type" not in node and "anyOf" not in node and "enum" not in node and "const" not in node:
            problems.append(f"{where}: no type")
        for value in node.get("enum", []):
            counts["enum"] += 1
            counts["chars"] += len(str(value))
        if "const" in node:
            counts["chars"] += len(str(node["const"]))
        properties = node.get("properties")
        if "object" in _types(node) or properties is not None:
            if depth > MAX_DEPTH:
                problems.append(f"{where}: nested deeper than {MAX_DEPTH} levels")
            properties = properties or {}
            if node.get("additionalProperties") is not False:
                problems.append(f"{where}: additionalProperties must be false")
            if sorted(node.get("required", [])) != sorted(properties):
                problems.append(f"{where}: every property must be required")
            counts["properties"] += len(properties)
            counts["chars"] += sum(len(name) for name in properties)
            for name, sub in properties.items():
                walk(sub, f"{where}.{name}", depth + 1)
        if "items" in node:
            walk(node["items"], f"{where}[]", depth)
        for number, sub in enumerate(node.get("anyOf", [])):
            walk(sub, f"{where}|{number}", depth)

    walk(schema, "root", 1)
    for name, sub in defs.items():
        walk(sub, f"$defs.{name}", 2)
    if counts["properties"] > MAX_PROPERTIES:
        problems.append(f"more than {MAX_PROPERTIES} object properties")
    if counts["enum"] > MAX_ENUM_VALUES:
        problems.append(f"more than {MAX_ENUM_VALUES} enum values")
    if counts["chars"] > MAX_NAME_CHARS:
        problems.append(f"names and enum values longer than {MAX_NAME_CHARS} characters in all")
    return problems


# -- the request ---------------------------------------------------------------------------------


def strict_request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """instructor's request kwargs with its schema made strict: tools or response_format."""
    request = dict(kwargs)
    tools = request.get("tools")
    if isinstance(tools, list):
        request["tools"] = [_strict_tool(tool) for tool in tools]
    response_format = request.get("response_format")
    if isinstance(response_format, dict) and isinstance(response_format.get("json_schema"), dict):
        json_schema = response_format["json_schema"]
        request["response_format"] = {
            **response_format,
            "json_schema": {**json_schema, "schema": cached_strict_json_schema(json_schema["schema"]), "strict": True},
        }
    return request


def _strict_tool(tool: Any) -> Any:
    function = tool.get("function") if isinstance(tool, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("parameters"), dict):
        return tool
    parameters = cached_strict_json_schema(function["parameters"])
    return {**tool, "function": {**function, "parameters": parameters, "strict": True}}


def strict_create(create: Callable[..., Any]) -> Callable[..., Any]:
    """A chat-completions `create` that sends instructor's requests as strict structured outputs."""

    def create_strict(**kwargs: Any) -> Any:
        return create(**strict_request(kwargs))

    return create_strict


def async_strict_create(create: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """The async twin of `strict_create`."""

    async def create_strict(**kwargs: Any) -> Any:
        return await create(**strict_request(kwargs))

    return create_strict
