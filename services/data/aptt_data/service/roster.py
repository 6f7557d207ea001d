"""Roster use cases: import a OneRoster package and tell the other services what changed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from datetime import date
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
from aptt_platform.mongo import Document, UnitOfWork

from aptt_data.domain.changes import Changes, compare, total
from aptt_data.domain.roster import KINDS, Kind, derive
from aptt_data.oneroster.csvfile import Rejection
from aptt_data.oneroster.package import RosterUpload
from aptt_data.oneroster.resolve import resolve
from aptt_data.service import Config, stored_now
from aptt_data.service import reports as report_cases
from aptt_data.store import ROSTER_IMPORTS
from aptt_data.store import roster as store

Fields = dict[str, Any]


async def import_roster(
    uow: UnitOfWork,
    *,
    district_id: str,
    upload: RosterUpload,
    by: Principal,
    today: date,
    config: Config,
) -> Document:
    """Apply a checked package: refuse rows that break the roster's integrity, apply the
    rest in this one transaction, publish what changed, and keep the report."""
    await store.lock_district(uow, district_id)
    before = await store.load_records(uow, district_id)
    resolution = await asyncio.to_thread(resolve, upload, before)
    await store.save_records(uow, district_id, before, resolution.roster)
    settings = await store.school_settings(uow, district_id)
    view = derive(
        resolution.roster,
        today=today,
        school_languages={
            k: v.get("language", config.default_language) for k, v in settings.items()
        },
        default_language=config.default_language,
    )
    changes: dict[Kind, Changes] = {}
    for kind in KINDS:
        current = await store.load_entities(uow, district_id, kind)
        changes[kind] = compare(current, view.documents(kind))
        on_insert = None
        if kind == "schools":
            on_insert = {"timezone": config.default_timezone, "language": config.default_language}
        await store.write_entities(uow, district_id, kind, changes[kind], on_insert=on_insert)
    for event in roster_events(district_id, changes, settings, config):
        uow.publish(event)
    await report_cases.refresh_classrooms(
        uow,
        district_id=district_id,
        classroom_ids=await _touched_classrooms(uow, district_id, changes),
        config=config,
    )
    rejections = sorted(
        [
            *upload.rejections,
            *(r for p in upload.files.values() for r in p.rejections),
            *resolution.rejections,
        ],
        key=lambda r: (r.file, r.line or 0, r.column or ""),
    )
    report = _report(district_id, upload.mode, changes, rejections, by, config)
    await store.insert_import(uow, ROSTER_IMPORTS, report)
    report.pop("_id", None)
    return report


def _report(
    district_id: str,
    mode: str,
    changes: Mapping[Kind, Changes],
    rejections: list[Rejection],
    by: Principal,
    config: Config,
) -> Document:
    by_kind = {kind: c.counts() for kind, c in changes.items()}
    shown = rejections[: config.max_rejections_reported]
    return {
        "district_id": district_id,
        "import_id": str(uuid.uuid4()),
        "mode": mode,
        "counts": total(list(by_kind.values())),
        "by_kind": by_kind,
        "rejected": [r.as_dict() for r in shown],
        "rejected_count": len(rejections),
        "rejected_truncated": len(shown) < len(rejections),
        "imported_by": by.subject,
        "imported_at": stored_now(),
    }


async def _touched_classrooms(
    uow: UnitOfWork, district_id: str, changes: Mapping[Kind, Changes]
) -> set[str]:
    """Classrooms whose upcoming class reports may read differently after this import."""
    rooms = changes["classrooms"]
    touched = set(rooms.created) | set(rooms.updated) | set(rooms.deleted)
    students = changes["students"]
    changed_students = set(students.updated) | set(students.deleted)
    if changed_students:
        touched |= set(await store.classrooms_of_students(uow, district_id, changed_students))
    return touched


def roster_events(
    district_id: str,
    changes: Mapping[Kind, Changes],
    settings: Mapping[str, Document],
    config: Config,
) -> list[EventModel]:
    """What other services hear, in dependency order; an update whose event would read the
    same as before (a name changed, say) is not published again."""

    def school(doc: Fields) -> EventModel:
        stored = settings.get(doc["school_id"], {})
        return SchoolUpserted(
            district_id=district_id,
            school_id=doc["school_id"],
            timezone=stored.get("timezone", config.default_timezone),
            language=stored.get("language", config.default_language),
        )

    def classroom(doc: Fields) -> EventModel:
        return ClassroomUpserted(
            district_id=district_id,
            classroom_id=doc["classroom_id"],
            school_id=doc["school_id"],
            grade=doc["grade"],
            teacher_ids=doc["teacher_ids"],
            student_ids=doc["student_ids"],
        )

    def student(doc: Fields) -> EventModel:
        return StudentUpserted(
            district_id=district_id,
            student_id=doc["student_id"],
            school_id=doc["school_id"],
            grade=doc["grade"],
            guardian_ids=doc["guardian_ids"],
        )

    def guardian(doc: Fields) -> EventModel:
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

    events: list[EventModel] = []
    builders: tuple[tuple[Kind, Callable[[Fields], EventModel]], ...] = (
        ("schools", school),
        ("students", student),
        ("guardians", guardian),
        ("classrooms", classroom),
    )
    for kind, build in builders:
        found = changes[kind]
        events.extend(build(doc) for doc in found.created.values())
        for before, after in found.updated.values():
            event = build(after)
            if event != build(before):
                events.append(event)
    for doc in changes["classrooms"].deleted.values():
        events.append(
            ClassroomRemoved(
                district_id=district_id,
                classroom_id=doc["classroom_id"],
                school_id=doc["school_id"],
            )
        )
    for doc in changes["students"].deleted.values():
        events.append(
            StudentRemoved(
                district_id=district_id, student_id=doc["student_id"], school_id=doc["school_id"]
            )
        )
    # A guardian who left the roster is published once more linked to no one, so notify
    # stops writing to them about any child.
    for doc in changes["guardians"].deleted.values():
        events.append(guardian({**doc, "student_ids": [], "school_ids": []}))
    return events
