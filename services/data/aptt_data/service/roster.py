"""Roster use cases: the events of roster changes, school and district settings (the import
itself is a job: `service.roster_import`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aptt_contracts.data import (
    ClassroomRemoved,
    ClassroomUpserted,
    GuardianContactUpdated,
    SchoolUpserted,
    StudentRemoved,
    StudentUpserted,
)
from aptt_contracts.envelope import EventModel
from aptt_platform.auth import Principal
from aptt_platform.errors import Forbidden, NotFound
from aptt_platform.mongo import Document, UnitOfWork

from aptt_data.domain.changes import Changes
from aptt_data.domain.roster import Kind
from aptt_data.service import Config
from aptt_data.service import reports as report_cases
from aptt_data.store import roster as store

Fields = dict[str, Any]


def kind_events(
    district_id: str,
    kind: Kind,
    changes: Changes,
    settings: Mapping[str, Document],
    config: Config,
) -> list[EventModel]:
    """What other services hear of new and changed records of one kind; an update whose
    event would read the same as before (a name changed, say) is not published again.
    Teachers are kept for later features and published to no one."""
    builders: dict[Kind, Callable[[Fields], EventModel]] = {
        "schools": lambda doc: _school_event(district_id, doc, settings, config),
        "students": lambda doc: _student_event(district_id, doc),
        "guardians": lambda doc: _guardian_event(district_id, doc),
        "classrooms": lambda doc: _classroom_event(district_id, doc),
    }
    build = builders.get(kind)
    if build is None:
        return []
    events = [build(doc) for doc in changes.created.values()]
    for before, after in changes.updated.values():
        event = build(after)
        if event != build(before):
            events.append(event)
    return events


def removal_events(district_id: str, kind: Kind, deleted: Mapping[str, Fields]) -> list[EventModel]:
    """What other services hear of records that left the roster."""
    if kind == "classrooms":
        return [
            ClassroomRemoved(
                district_id=district_id, classroom_id=d["classroom_id"], school_id=d["school_id"]
            )
            for d in deleted.values()
        ]
    if kind == "students":
        return [
            StudentRemoved(
                district_id=district_id, student_id=d["student_id"], school_id=d["school_id"]
            )
            for d in deleted.values()
        ]
    if kind == "guardians":
        # A guardian who left the roster is published once more linked to no one, so notify
        # stops writing to them about any child.
        return [
            _guardian_event(district_id, {**d, "student_ids": [], "school_ids": []})
            for d in deleted.values()
        ]
    return []


def _school_event(
    district_id: str, doc: Fields, settings: Mapping[str, Document], config: Config
) -> EventModel:
    stored = settings.get(doc["school_id"], {})
    return SchoolUpserted(
        district_id=district_id,
        school_id=doc["school_id"],
        timezone=stored.get("timezone", config.default_timezone),
        language=stored.get("language", config.default_language),
    )


def _classroom_event(district_id: str, doc: Fields) -> EventModel:
    return ClassroomUpserted(
        district_id=district_id,
        classroom_id=doc["classroom_id"],
        school_id=doc["school_id"],
        grade=doc["grade"],
        teacher_ids=doc["teacher_ids"],
        student_ids=doc["student_ids"],
    )


def _student_event(district_id: str, doc: Fields) -> EventModel:
    return StudentUpserted(
        district_id=district_id,
        student_id=doc["student_id"],
        school_id=doc["school_id"],
        grade=doc["grade"],
        guardian_ids=doc["guardian_ids"],
    )


def _guardian_event(district_id: str, doc: Fields) -> EventModel:
    return GuardianContactUpdated(
        district_id=district_id,
        guardian_id=doc["guardian_id"],
        given_name=doc["given_name"],
        family_name=doc["family_name"],
        preferred_language=doc["preferred_language"],
        email=doc["email"],
        phone=doc["phone"],
        student_ids=doc["student_ids"],
        school_ids=doc["school_ids"],
    )


async def update_school_settings(
    uow: UnitOfWork,
    *,
    district_id: str,
    school_id: str,
    values: Mapping[str, str],
    by: Principal,
    config: Config,
) -> Document:
    """Change a school's time zone or language, tell the other services, and redraw the
    school's upcoming class reports (the season depends on the local date)."""
    school = await store.get_school(uow, district_id, school_id)
    if school is None:
        raise NotFound(f"no school {school_id}")
    if not by.may_see_school(school_id):
        raise Forbidden("you may change the settings of your own schools only")
    updated = await store.set_school_settings(uow, district_id, school_id, values)
    assert updated is not None
    uow.publish(
        SchoolUpserted(
            district_id=district_id,
            school_id=school_id,
            timezone=updated["timezone"],
            language=updated["language"],
        )
    )
    await report_cases.refresh_district(
        uow, district_id=district_id, config=config, school_id=school_id
    )
    return school_view(updated)


async def school_settings(
    uow: UnitOfWork, *, district_id: str, school_id: str, by: Principal
) -> Document:
    school = await store.get_school(uow, district_id, school_id)
    if school is None:
        raise NotFound(f"no school {school_id}")
    if not by.may_see_school(school_id):
        raise Forbidden("you may read the settings of your own schools only")
    return school_view(school)


def school_view(doc: Document) -> Document:
    return {k: doc[k] for k in ("school_id", "name", "timezone", "language")}


async def district_settings(uow: UnitOfWork, *, district_id: str, config: Config) -> Document:
    doc = await store.district_settings(uow, district_id)
    return {"min_report_group_size": doc.get("min_report_group_size", config.min_report_group_size)}


async def update_district_settings(
    uow: UnitOfWork, *, district_id: str, min_report_group_size: int, config: Config
) -> Document:
    """A new minimum applies to every report of a meeting still ahead."""
    await store.set_district_settings(
        uow, district_id, {"min_report_group_size": min_report_group_size}
    )
    await report_cases.refresh_district(uow, district_id=district_id, config=config)
    return await district_settings(uow, district_id=district_id, config=config)
