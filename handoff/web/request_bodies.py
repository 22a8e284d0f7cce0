"""Request bodies a route reads raw (its signature is checked over the exact bytes first) yet documents in OpenAPI.

The pydantic models that check a provider's body give their JSON schemas, definitions inlined, so the OpenAPI
document needs no extra components and a client (or a fuzzer) knows what the route reads.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with every `$ref` replaced by the definition it names (the models are not recursive)."""
    schema = model.model_json_schema()
    definitions: dict[str, Any] = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        resolved = {key: inline(value) for key, value in node.items() if key != "$ref"}
        if "$ref" in node:
            return {**inline(definitions[node["$ref"].rsplit("/", 1)[-1]]), **resolved}
        return resolved

    return dict(inline(schema))


def request_body(schema: dict[str, Any], media_type: str = "application/json") -> dict[str, Any]:
    """`openapi_extra=` for a route that reads its body itself: the body it expects."""
    return {"requestBody": {"required": True, "content": {media_type: {"schema": schema}}}}
