"""The scheduling service's collections and their indexes (every index starts with district_id)."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import IndexModel

INDEXES: dict[str, Sequence[IndexModel]] = {}
