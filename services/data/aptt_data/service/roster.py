"""Roster use cases: the events of roster changes (the import itself is a job:
`service.roster_import`; school and district settings are `service.schools`)."""

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
from aptt_platform.mongo import Document

from aptt_data.domain.changes import Changes
from aptt_data.domain.roster import Kind
from aptt_data.service import Config

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
        student_birth_dates=doc.get("student_birth_dates") or {},
    )
