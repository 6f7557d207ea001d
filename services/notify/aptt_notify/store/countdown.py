"""Incoming kindergarten families, from the data service's restricted kindergarten topic."""

from __future__ import annotations

from collections.abc import Sequence

from aptt_platform.readmodel import ReadModel
from pymongo import IndexModel

INCOMING_FAMILIES = "incoming_families"
incoming_families = ReadModel(INCOMING_FAMILIES, "family_id")
INDEXES: dict[str, Sequence[IndexModel]] = {INCOMING_FAMILIES: [incoming_families.index()]}


def guardian_id(family_id: str, n: int) -> str:
    """The recipient id of an incoming family's guardian, until the SIS gives them one."""
    return f"kg-{family_id}-{n}"
