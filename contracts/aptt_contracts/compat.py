"""Is a new JSON Schema of an event still compatible with one already published?

A published `vN` may gain optional fields and documentation; it may not lose a field,
change a field's type, or gain a required field. Anything else needs a `vN+1` type and topic.
"""

from __future__ import annotations

from typing import Any

_COSMETIC = {"description", "title", "examples", "default", "$comment"}


def _normalize(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _normalize(v) for k, v in sorted(schema.items()) if k not in _COSMETIC}
    if isinstance(schema, list):
        return [_normalize(v) for v in schema]
    return schema


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _resolve(root.get("$defs", {})[ref.split("/")[-1]], root)
    return schema


def breaking_changes(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    """Return why `new` breaks readers or writers of `old` (empty when compatible)."""
    return _compare(old, new, old, new, path or "payload")


def _compare(
    old: dict[str, Any],
    new: dict[str, Any],
    old_root: dict[str, Any],
    new_root: dict[str, Any],
    at: str,
) -> list[str]:
    old = _resolve(old, old_root)
    new = _resolve(new, new_root)
    problems: list[str] = []
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    if old_props or new_props:
        for name, old_prop in old_props.items():
            if name not in new_props:
                problems.append(f"{at}.{name} was removed")
                continue
            problems += _compare(old_prop, new_props[name], old_root, new_root, f"{at}.{name}")
        old_required = set(old.get("required", []))
        for name in sorted(set(new.get("required", [])) - old_required):
            problems.append(
                f"{at}.{name} is newly required"
                if name in old_props
                else f"{at}.{name} was added as required"
            )
        return problems
    old_enum, new_enum = old.get("enum"), new.get("enum")
    if old_enum is not None and new_enum is not None:
        removed = [v for v in old_enum if v not in new_enum]
        if removed:
            problems.append(f"{at} no longer allows {removed}")
        return problems
    if _normalize(_strip_refs(old, old_root)) != _normalize(_strip_refs(new, new_root)):
        problems.append(f"{at} changed type")
    return problems


def _strip_refs(schema: Any, root: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        resolved = _resolve(schema, root)
        return {k: _strip_refs(v, root) for k, v in resolved.items()}
    if isinstance(schema, list):
        return [_strip_refs(v, root) for v in schema]
    return schema
