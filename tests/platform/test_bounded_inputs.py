"""Every string, list and map a service takes has a bound, in every request of the four
services' OpenAPI and in every event's JSON Schema; every number a request takes has a
range. A route or event added without bounds fails here."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from aptt_contracts.generate import schema_of
from aptt_contracts.registry import EVENT_MODELS

SERVICES = ("data", "scheduling", "goals", "notify")
# Strings parsed into values of a fixed size (a date, a time, a uuid).
PARSED_FORMATS = {"date", "date-time", "time", "duration", "uuid"}


def unbounded(
    schema: Any, root: dict[str, Any], at: str, *, numbers: bool, seen: frozenset[str] = frozenset()
) -> Iterator[str]:
    """Where `schema` lets a string, list, map (or number) grow without a bound."""
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.split("/")[-1]
        if name not in seen:
            defs = root.get("$defs") or root.get("components", {}).get("schemas", {})
            yield from unbounded(defs[name], root, at, numbers=numbers, seen=seen | {name})
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from unbounded(option, root, at, numbers=numbers, seen=seen)
    if "enum" in schema or "const" in schema:
        return
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    # An upload (contentMediaType) is held to its route's body limit (aptt_platform.bodylimit).
    fixed = schema.get("format") in PARSED_FORMATS or "contentMediaType" in schema
    if "string" in kinds and "maxLength" not in schema and not fixed:
        yield f"{at}: a string without maxLength"
    if "array" in kinds:
        if "maxItems" not in schema:
            yield f"{at}: a list without maxItems"
        yield from unbounded(schema.get("items"), root, f"{at}[]", numbers=numbers, seen=seen)
    if "object" in kinds:
        for name, prop in schema.get("properties", {}).items():
            yield from unbounded(prop, root, f"{at}.{name}", numbers=numbers, seen=seen)
        values = schema.get("additionalProperties")
        if isinstance(values, dict):
            if "maxProperties" not in schema:
                yield f"{at}: a map without maxProperties"
            keys = {"type": "string", **schema.get("propertyNames", {})}
            yield from unbounded(keys, root, f"{at}{{key}}", numbers=numbers, seen=seen)
            yield from unbounded(values, root, f"{at}{{}}", numbers=numbers, seen=seen)
    if numbers and {"integer", "number"} & set(kinds):
        low = "minimum" in schema or "exclusiveMinimum" in schema
        high = "maximum" in schema or "exclusiveMaximum" in schema
        if not (low and high):
            yield f"{at}: a number without minimum and maximum"


def request_gaps(api: dict[str, Any]) -> Iterator[str]:
    for path, operations in api["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                at = f"{where} {parameter['in']} {parameter['name']}"
                yield from unbounded(parameter.get("schema"), api, at, numbers=True)
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                at = f"{where} body ({media})"
                yield from unbounded(content.get("schema"), api, at, numbers=True)


@pytest.mark.parametrize("service", SERVICES)
def test_every_request_of_the_service_is_bounded(service: str) -> None:
    main = importlib.import_module(f"aptt_{service}.main")
    api = main.build_app().openapi()
    assert list(request_gaps(api)) == []


def test_every_event_is_bounded() -> None:
    # Numbers of events are computed by their producers from bounded inputs; a published
    # type cannot gain a lower bound (aptt_contracts.compat), so only lengths are checked.
    gaps = [
        gap
        for event_type, model in sorted(EVENT_MODELS.items())
        for gap in unbounded(schema_of(model), schema_of(model), event_type, numbers=False)
    ]
    assert gaps == []


def test_the_walk_finds_what_has_no_bound() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "ids": {"type": "array", "items": {"type": "string", "maxLength": 9}},
            "texts": {"type": "object", "additionalProperties": {"type": "string"}},
            "count": {"type": "integer", "minimum": 0},
            "day": {"type": "string", "format": "date"},
            "code": {"anyOf": [{"type": "string", "maxLength": 9}, {"type": "null"}]},
        },
    }
    assert list(unbounded(schema, schema, "body", numbers=True)) == [
        "body.name: a string without maxLength",
        "body.ids: a list without maxItems",
        "body.texts: a map without maxProperties",
        "body.texts{key}: a string without maxLength",
        "body.texts{}: a string without maxLength",
        "body.count: a number without minimum and maximum",
    ]
