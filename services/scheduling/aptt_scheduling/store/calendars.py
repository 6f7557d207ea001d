"""Calendar templates, engagement calendars and meeting windows.

Window dates are school-local dates, stored as ISO strings (BSON has no date type and a
midnight-UTC datetime would shift the day in every other time zone).
"""

from __future__ import annotations

from datetime import date, datetime

from aptt_platform.mongo import Document, UnitOfWork

from aptt_scheduling.domain.calendars import (
    CalendarTemplate,
    ClassroomWindow,
    EngagementCalendar,
    PlannedWindow,
    WindowDates,
)
from aptt_scheduling.store import CALENDARS, TEMPLATES, WINDOWS


async def insert_template(
    uow: UnitOfWork, district_id: str, template: CalendarTemplate, *, created_by: str, now: datetime
) -> None:
    await uow.collection(TEMPLATES).insert_one(
        {
            "district_id": district_id,
            **template.model_dump(mode="json"),
            "created_by": created_by,
            "created_at": now,
        },
        session=uow.session,
    )


def _template(doc: Document) -> CalendarTemplate:
    return CalendarTemplate.model_validate(
        {k: v for k, v in doc.items() if k in CalendarTemplate.model_fields}
    )


async def get_template(
    uow: UnitOfWork, district_id: str, template_id: str
) -> CalendarTemplate | None:
    doc = await uow.collection(TEMPLATES).find_one(
        {"district_id": district_id, "template_id": template_id}, session=uow.session
    )
    return _template(doc) if doc else None


async def template_named(uow: UnitOfWork, district_id: str, name: str) -> bool:
    found = await uow.collection(TEMPLATES).find_one(
        {"district_id": district_id, "name": name}, session=uow.session
    )
    return found is not None


async def list_templates(uow: UnitOfWork, district_id: str) -> list[CalendarTemplate]:
    cursor = uow.collection(TEMPLATES).find({"district_id": district_id}, session=uow.session)
    return [_template(doc) async for doc in cursor.sort("name").limit(500)]


def _calendar(doc: Document) -> EngagementCalendar:
    return EngagementCalendar(
        calendar_id=doc["calendar_id"],
        school_id=doc["school_id"],
        school_year=doc["school_year"],
        template_id=doc["template_id"],
        created_by=doc["created_by"],
        created_at=doc["created_at"],
        moved=tuple(
            WindowDates(
                sequence=m["sequence"],
                starts_on=date.fromisoformat(m["starts_on"]),
                ends_on=date.fromisoformat(m["ends_on"]),
            )
            for m in doc.get("moved") or []
        ),
    )


async def get_calendar(
    uow: UnitOfWork, district_id: str, school_id: str, school_year: str
) -> EngagementCalendar | None:
    doc = await uow.collection(CALENDARS).find_one(
        {"district_id": district_id, "school_id": school_id, "school_year": school_year},
        session=uow.session,
    )
    return _calendar(doc) if doc else None


async def insert_calendar(uow: UnitOfWork, district_id: str, cal: EngagementCalendar) -> None:
    await uow.collection(CALENDARS).insert_one(
        {
            "district_id": district_id,
            "calendar_id": cal.calendar_id,
            "school_id": cal.school_id,
            "school_year": cal.school_year,
            "template_id": cal.template_id,
            "created_by": cal.created_by,
            "created_at": cal.created_at,
        },
        session=uow.session,
    )


async def get_calendar_by_id(
    uow: UnitOfWork, district_id: str, calendar_id: str
) -> EngagementCalendar | None:
    doc = await uow.collection(CALENDARS).find_one(
        {"district_id": district_id, "calendar_id": calendar_id}, session=uow.session
    )
    return _calendar(doc) if doc else None


async def set_window_dates(
    uow: UnitOfWork, district_id: str, calendar: EngagementCalendar, dates: WindowDates
) -> None:
    """Remember the school's dates for a window (classrooms rostered later get them too)."""
    moved = [m for m in calendar.moved if m.sequence != dates.sequence] + [dates]
    await uow.collection(CALENDARS).update_one(
        {"district_id": district_id, "calendar_id": calendar.calendar_id},
        {
            "$set": {
                "moved": [
                    {
                        "sequence": m.sequence,
                        "starts_on": m.starts_on.isoformat(),
                        "ends_on": m.ends_on.isoformat(),
                    }
                    for m in sorted(moved, key=lambda m: m.sequence)
                ]
            }
        },
        session=uow.session,
    )


async def windows_of_calendar(
    uow: UnitOfWork, district_id: str, calendar_id: str, sequence: int | None = None
) -> list[ClassroomWindow]:
    """The classrooms' windows of one calendar (of one of its windows when `sequence`)."""
    query: Document = {"district_id": district_id, "calendar_id": calendar_id}
    if sequence is not None:
        query["sequence"] = sequence
    cursor = uow.collection(WINDOWS).find(query, session=uow.session)
    return [_window(doc) async for doc in cursor]


async def move_windows(
    uow: UnitOfWork, district_id: str, calendar_id: str, dates: WindowDates
) -> None:
    await uow.collection(WINDOWS).update_many(
        {"district_id": district_id, "calendar_id": calendar_id, "sequence": dates.sequence},
        {"$set": {"starts_on": dates.starts_on.isoformat(), "ends_on": dates.ends_on.isoformat()}},
        session=uow.session,
    )


async def calendars_of_school(
    uow: UnitOfWork, district_id: str, school_id: str
) -> list[EngagementCalendar]:
    cursor = uow.collection(CALENDARS).find(
        {"district_id": district_id, "school_id": school_id}, session=uow.session
    )
    return [_calendar(doc) async for doc in cursor.sort("school_year").limit(100)]


def _window(doc: Document) -> ClassroomWindow:
    return ClassroomWindow(
        window_id=doc["window_id"],
        classroom_id=doc["classroom_id"],
        school_id=doc["school_id"],
        calendar_id=doc["calendar_id"],
        template_id=doc["template_id"],
        school_year=doc["school_year"],
        sequence=doc["sequence"],
        kind=doc["kind"],
        starts_on=date.fromisoformat(doc["starts_on"]),
        ends_on=date.fromisoformat(doc["ends_on"]),
        duration_minutes=doc["duration_minutes"],
        focus_area=doc.get("focus_area"),
        label=doc.get("label"),
    )


async def add_window(
    uow: UnitOfWork,
    district_id: str,
    *,
    window_id: str,
    classroom_id: str,
    school_id: str,
    calendar: EngagementCalendar,
    planned: PlannedWindow,
) -> ClassroomWindow | None:
    """Insert the window unless it exists; return it when it was created now."""
    doc = {
        "district_id": district_id,
        "window_id": window_id,
        "classroom_id": classroom_id,
        "school_id": school_id,
        "calendar_id": calendar.calendar_id,
        "template_id": calendar.template_id,
        "school_year": calendar.school_year,
        "sequence": planned.sequence,
        "kind": planned.kind,
        "starts_on": planned.starts_on.isoformat(),
        "ends_on": planned.ends_on.isoformat(),
        "duration_minutes": planned.duration_minutes,
        "focus_area": planned.focus_area,
        "label": planned.label,
    }
    result = await uow.collection(WINDOWS).update_one(
        {"district_id": district_id, "window_id": window_id},
        {"$setOnInsert": doc},
        upsert=True,
        session=uow.session,
    )
    return _window(doc) if result.upserted_id is not None else None


async def get_window(uow: UnitOfWork, district_id: str, window_id: str) -> ClassroomWindow | None:
    doc = await uow.collection(WINDOWS).find_one(
        {"district_id": district_id, "window_id": window_id}, session=uow.session
    )
    return _window(doc) if doc else None


async def windows_of_classroom(
    uow: UnitOfWork, district_id: str, classroom_id: str, school_year: str | None = None
) -> list[ClassroomWindow]:
    query: Document = {"district_id": district_id, "classroom_id": classroom_id}
    if school_year is not None:
        query["school_year"] = school_year
    cursor = uow.collection(WINDOWS).find(query, session=uow.session)
    return [
        _window(doc) async for doc in cursor.sort([("starts_on", 1), ("sequence", 1)]).limit(500)
    ]
