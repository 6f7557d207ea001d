"""Collection names, index helper and the date and cursor conventions of the goals store.

Dates are stored as ISO strings (`YYYY-MM-DD`), which sort like dates; instants as UTC
datetimes. Every call runs in the use case's transaction (`session=uow.session`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aptt_platform.mongo import Document
from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, IndexModel

STUDENTS = "students"
CLASSROOMS = "classrooms"
SCHOOLS = "schools"
SKILLS = "skills"
RESULTS = "results"
OPENINGS = "goal_openings"
GOALS = "goals"
PRACTICE = "practice_logs"
ACTIVITIES = "activities"
DISCLOSURES = "disclosures"


def index(*keys: str, unique: bool = False, **options: Any) -> IndexModel:
    return IndexModel(
        [("district_id", ASCENDING), *((k, ASCENDING) for k in keys)], unique=unique, **options
    )


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def parse_day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def required_day(value: str) -> date:
    return date.fromisoformat(value)


def cursor_filter(cursor: str | None) -> Document:
    """Pages run newest first by `_id`; a cursor that is not ours starts from the top."""
    if not cursor:
        return {}
    try:
        return {"_id": {"$lt": ObjectId(cursor)}}
    except (InvalidId, TypeError):
        return {}
