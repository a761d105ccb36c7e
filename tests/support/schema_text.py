"""The prose a JSON Schema carries to the model."""

from __future__ import annotations


def descriptions(node: object) -> list[str]:
    """Every `description` in a JSON Schema, depth first."""
    if isinstance(node, dict):
        found = [node["description"]] if isinstance(node.get("description"), str) else []
        return found + [d for value in node.values() for d in descriptions(value)]
    if isinstance(node, list):
        return [d for value in node for d in descriptions(value)]
    return []
