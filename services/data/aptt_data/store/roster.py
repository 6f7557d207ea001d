"""Roster queries: accepted OneRoster records, the derived roster, imports, settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from aptt_platform.mongo import Document, UnitOfWork, utcnow
from pymongo import DeleteOne, InsertOne, UpdateOne

from aptt_data.domain.changes import Changes
from aptt_data.domain.roster import ID_FIELDS, Classroom, Guardian, Kind, School, Student, Teacher
from aptt_data.oneroster.resolve import Roster
from aptt_data.store import (
    CLASSROOMS,
    DISTRICTS,
    ROSTER_IMPORTS,
    ROSTER_RECORDS,
    SCHOOLS,
    STUDENTS,
)

_ENTITY_TYPES: tuple[tuple[Kind, type[Any]], ...] = (
    ("schools", School),
    ("classrooms", Classroom),
    ("students", Student),
    ("guardians", Guardian),
    ("teachers", Teacher),
)
ENTITY_FIELDS: dict[Kind, tuple[str, ...]] = {
    kind: tuple(f.name for f in dataclasses.fields(cls)) for kind, cls in _ENTITY_TYPES
}
SCHOOL_SETTINGS = ("timezone", "language")


async def lock_district(uow: UnitOfWork, district_id: str) -> Document:
    """Imports of one district run one at a time: a concurrent one meets a write conflict
    on this document and the driver runs it again after this one commits."""
    doc = await uow.collection(DISTRICTS).find_one_and_update(
        {"district_id": district_id},
        {"$inc": {"roster_version": 1}, "$setOnInsert": {"district_id": district_id}},
        upsert=True,
        return_document=True,
        session=uow.session,
    )
    assert doc is not None
    return doc


async def district_settings(uow: UnitOfWork, district_id: str) -> Document:
    doc = await uow.collection(DISTRICTS).find_one(
        {"district_id": district_id}, session=uow.session
    )
    return doc or {}


async def set_district_settings(
    uow: UnitOfWork, district_id: str, values: Mapping[str, Any]
) -> None:
    await uow.collection(DISTRICTS).update_one(
        {"district_id": district_id},
        {"$set": dict(values), "$setOnInsert": {"district_id": district_id}},
        upsert=True,
        session=uow.session,
    )


async def load_records(uow: UnitOfWork, district_id: str) -> Roster:
    roster: Roster = {}
    cursor = uow.collection(ROSTER_RECORDS).find(
        {"district_id": district_id}, {"file": 1, "sourced_id": 1, "fields": 1}, session=uow.session
    )
    async for doc in cursor:
        roster.setdefault(doc["file"], {})[doc["sourced_id"]] = doc["fields"]
    return roster


async def save_records(uow: UnitOfWork, district_id: str, before: Roster, after: Roster) -> None:
    # Plain inserts for new records: upserts cost a lookup each, and a first import is all new.
    writes: list[Any] = []
    for file in set(before) | set(after):
        old, new = before.get(file, {}), after.get(file, {})
        for sourced_id, fields in new.items():
            key = {"district_id": district_id, "file": file, "sourced_id": sourced_id}
            if sourced_id not in old:
                writes.append(InsertOne({**key, "fields": fields}))
            elif old[sourced_id] != fields:
                writes.append(UpdateOne(key, {"$set": {"fields": fields}}))
        for sourced_id in old.keys() - new.keys():
            writes.append(
                DeleteOne({"district_id": district_id, "file": file, "sourced_id": sourced_id})
            )
    if writes:
        await uow.collection(ROSTER_RECORDS).bulk_write(writes, ordered=False, session=uow.session)


async def load_entities(uow: UnitOfWork, district_id: str, kind: Kind) -> dict[str, Document]:
    """The accepted roster of one kind, each document cut to the entity's own fields."""
    names = ENTITY_FIELDS[kind]
    projection = dict.fromkeys(names, 1) | {"_id": 0}
    cursor = uow.collection(kind).find(
        {"district_id": district_id}, projection, session=uow.session
    )
    return {doc[ID_FIELDS[kind]]: doc async for doc in cursor}


async def write_entities(
    uow: UnitOfWork,
    district_id: str,
    kind: Kind,
    changes: Changes,
    *,
    on_insert: Mapping[str, Any] | None = None,
) -> None:
    id_field = ID_FIELDS[kind]
    now = utcnow()
    writes: list[Any] = [
        InsertOne({**doc, **(on_insert or {}), "district_id": district_id, "updated_at": now})
        for doc in changes.created.values()
    ]
    writes.extend(
        UpdateOne(
            {"district_id": district_id, id_field: key}, {"$set": {**after, "updated_at": now}}
        )
        for key, (_, after) in changes.updated.items()
    )
    writes.extend(DeleteOne({"district_id": district_id, id_field: key}) for key in changes.deleted)
    if writes:
        await uow.collection(kind).bulk_write(writes, ordered=False, session=uow.session)


async def school_settings(uow: UnitOfWork, district_id: str) -> dict[str, Document]:
    cursor = uow.collection(SCHOOLS).find(
        {"district_id": district_id},
        {"school_id": 1, "timezone": 1, "language": 1},
        session=uow.session,
    )
    return {doc["school_id"]: doc async for doc in cursor}


async def get_school(uow: UnitOfWork, district_id: str, school_id: str) -> Document | None:
    return await uow.collection(SCHOOLS).find_one(
        {"district_id": district_id, "school_id": school_id}, session=uow.session
    )


async def set_school_settings(
    uow: UnitOfWork, district_id: str, school_id: str, values: Mapping[str, str]
) -> Document | None:
    return await uow.collection(SCHOOLS).find_one_and_update(
        {"district_id": district_id, "school_id": school_id},
        {"$set": {**values, "updated_at": utcnow()}},
        return_document=True,
        session=uow.session,
    )


async def get_student(uow: UnitOfWork, district_id: str, student_id: str) -> Document | None:
    return await uow.collection(STUDENTS).find_one(
        {"district_id": district_id, "student_id": student_id}, session=uow.session
    )


async def students(
    uow: UnitOfWork, district_id: str, student_ids: Iterable[str]
) -> dict[str, Document]:
    cursor = uow.collection(STUDENTS).find(
        {"district_id": district_id, "student_id": {"$in": list(student_ids)}}, session=uow.session
    )
    return {doc["student_id"]: doc async for doc in cursor}


async def student_schools(
    uow: UnitOfWork, district_id: str, school_ids: Iterable[str] | None
) -> dict[str, str]:
    """Student id -> school id, for the whole district or for some schools."""
    query: dict[str, Any] = {"district_id": district_id}
    if school_ids is not None:
        query["school_id"] = {"$in": list(school_ids)}
    cursor = uow.collection(STUDENTS).find(
        query, {"student_id": 1, "school_id": 1}, session=uow.session
    )
    return {doc["student_id"]: doc["school_id"] async for doc in cursor}


async def get_classroom(uow: UnitOfWork, district_id: str, classroom_id: str) -> Document | None:
    return await uow.collection(CLASSROOMS).find_one(
        {"district_id": district_id, "classroom_id": classroom_id}, session=uow.session
    )


async def classrooms_of_students(
    uow: UnitOfWork, district_id: str, student_ids: Iterable[str]
) -> list[str]:
    cursor = uow.collection(CLASSROOMS).find(
        {"district_id": district_id, "student_ids": {"$in": list(student_ids)}},
        {"classroom_id": 1},
        session=uow.session,
    )
    return [doc["classroom_id"] async for doc in cursor]


async def teaches_student(
    uow: UnitOfWork, district_id: str, teacher_id: str, student_id: str
) -> bool:
    doc = await uow.collection(CLASSROOMS).find_one(
        {"district_id": district_id, "teacher_ids": teacher_id, "student_ids": student_id},
        {"_id": 1},
        session=uow.session,
    )
    return doc is not None


async def insert_import(uow: UnitOfWork, collection: str, doc: Document) -> None:
    await uow.collection(collection).insert_one(dict(doc), session=uow.session)


async def get_import(
    uow: UnitOfWork, collection: str, district_id: str, import_id: str
) -> Document | None:
    return await uow.collection(collection).find_one(
        {"district_id": district_id, "import_id": import_id}, {"_id": 0}, session=uow.session
    )


__all__ = ["ROSTER_IMPORTS", "SCHOOL_SETTINGS"]
