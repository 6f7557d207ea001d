"""Comparing the roster an import describes with the one already accepted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Fields = dict[str, Any]


@dataclass
class Changes:
    """What an import does to one kind of record (schools, students...)."""

    created: dict[str, Fields] = field(default_factory=dict)
    updated: dict[str, tuple[Fields, Fields]] = field(default_factory=dict)  # (before, after)
    deleted: dict[str, Fields] = field(default_factory=dict)
    unchanged: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
            "deleted": len(self.deleted),
        }


def compare(current: Mapping[str, Fields], wanted: Mapping[str, Fields]) -> Changes:
    changes = Changes()
    for key, after in wanted.items():
        before = current.get(key)
        if before is None:
            changes.created[key] = after
        elif before != after:
            changes.updated[key] = (before, after)
        else:
            changes.unchanged += 1
    for key, before in current.items():
        if key not in wanted:
            changes.deleted[key] = before
    return changes


def total(counts: list[dict[str, int]]) -> dict[str, int]:
    keys = ("created", "updated", "unchanged", "deleted")
    return {k: sum(c[k] for c in counts) for k in keys}
