"""Is a new JSON Schema of an event still compatible with one already published?

A published `vN` may gain optional fields and documentation; it may not lose a field,
change a field's type, or gain a required field. Anything else needs a `vN+1` type and topic.

A field may gain an upper bound it had none of (a maximum length, number of items or of
keys): its producer refuses longer values at its edge, far below the bound, and a consumer
meeting an older event beyond it dead-letters that one event with the reason
(docs/decisions/0015-bounded-inputs.md). Changing a bound it had, or adding a lower one,
still breaks.
"""

from __future__ import annotations

from typing import Any

_COSMETIC = {"description", "title", "examples", "default", "$comment"}
_UPPER_BOUNDS = {"maxLength", "maxItems", "maxProperties"}


def _without_added_bounds(old: Any, new: Any) -> Any:
    """`new` without the upper bounds it added where `old` had none."""
    if isinstance(old, dict) and isinstance(new, dict):
        kept: dict[str, Any] = {}
        for key, value in new.items():
            if key in old:
                kept[key] = _without_added_bounds(old[key], value)
            elif key in _UPPER_BOUNDS:
                continue
            elif key == "propertyNames" and isinstance(value, dict) and set(value) <= _UPPER_BOUNDS:
                continue  # bounded keys of a map
            else:
                kept[key] = value
        return kept
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [_without_added_bounds(o, n) for o, n in zip(old, new, strict=True)]
    return new


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
    old_leaf = _strip_refs(old, old_root)
    new_leaf = _without_added_bounds(old_leaf, _strip_refs(new, new_root))
    if _normalize(old_leaf) != _normalize(new_leaf):
        problems.append(f"{at} changed type")
    return problems


def _strip_refs(schema: Any, root: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        resolved = _resolve(schema, root)
        return {k: _strip_refs(v, root) for k, v in resolved.items()}
    if isinstance(schema, list):
        return [_strip_refs(v, root) for v in schema]
    return schema
