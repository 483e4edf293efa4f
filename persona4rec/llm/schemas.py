"""The JSON schema sent to the server for a pydantic answer model.

Both protocols get every property required (nullable ones as string-or-null) and no extra properties,
so a grammar-constrained server (llama.cpp) must write every slot, null included, and OpenAI's strict
mode accepts it. OpenAI's strict mode rejects some keywords (lengths, defaults), so `for_openai` keeps
only the ones it documents; the answer is validated with the pydantic model afterwards either way.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

_OPENAI_KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "anyOf",
    "$ref",
    "$defs",
    "const",
}
# Titles and descriptions (the models' docstrings) only cost prompt tokens, and small models copy a
# description into the answer instead of writing one; the prompt files define every field instead.
_DROP_ALWAYS = {"default", "title", "description"}


def map_string_nodes(schema: Any, change) -> Any:
    """A copy of `schema` in which every `{"type": "string", ...}` node is replaced by `change(node)`."""
    if isinstance(schema, list):
        return [map_string_nodes(x, change) for x in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: map_string_nodes(v, change) for k, v in schema.items()}
    return change(out) if out.get("type") == "string" else out


def clamp_max_length(schema: Any, limit: int) -> Any:
    """`schema` with every string maxLength at most `limit` (a copy; other keywords untouched)."""

    def clamp(node: dict) -> dict:
        over = isinstance(node.get("maxLength"), int) and node["maxLength"] > limit
        return {**node, "maxLength": limit} if over else node

    return map_string_nodes(schema, clamp)


def wire_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The answer model's JSON schema with every property required and no extra properties."""
    return _tighten(copy.deepcopy(model.model_json_schema()), False)


def for_openai(schema: dict[str, Any]) -> dict[str, Any]:
    """A wire schema (from `wire_schema`) cut down to the keywords OpenAI's strict mode accepts."""
    return _tighten(copy.deepcopy(schema), True)


def _tighten(node: Any, openai_only: bool) -> Any:
    if isinstance(node, list):
        return [_tighten(x, openai_only) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in _DROP_ALWAYS or (openai_only and key not in _OPENAI_KEYWORDS):
            continue
        if key in ("properties", "$defs"):
            out[key] = {name: _tighten(sub, openai_only) for name, sub in value.items()}
        else:
            out[key] = _tighten(value, openai_only)
    if out.get("type") == "object" and "properties" in out:
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out
