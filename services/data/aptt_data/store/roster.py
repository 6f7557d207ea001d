"""Roster queries: accepted OneRoster records, the derived roster, settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from aptt_platform.mongo import Document, UnitOfWork, utcnow
from pymongo import DeleteOne, InsertOne, ReplaceOne, UpdateOne

from aptt_data.domain.changes import Changes
from aptt_data.domain.roster import ID_FIELDS, Classroom, Guardian, Kind, School, Student, Teacher
from aptt_data.store import (
    CLASSROOMS,
    DISTRICTS,
    ROSTER_RECORDS,
    SCHOOLS,
    STUDENTS,
    TEACHERS,
    find_in,
)

Fields = dict[str, Any]

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


REF_CODES = {
    "academicSessions.csv": "a",
    "orgs.csv": "o",
    "courses.csv": "k",
    "classes.csv": "c",
    "users.csv": "u",
    "roles.csv": "r",
    "enrollments.csv": "e",
}


def ref_key(file: str, sourced_id: str) -> str:
    """How a reference to a record is written in `refs` (short: one per link, indexed)."""
    return f"{REF_CODES[file]}:{sourced_id}"


async def records(
    uow: UnitOfWork, district_id: str, file: str, ids: Iterable[str]
) -> dict[str, Fields]:
    found = await find_in(
        uow.collection(ROSTER_RECORDS),
        {"district_id": district_id, "file": file},
        "sourced_id",
        ids,
        projection={"_id": 0, "sourced_id": 1, "fields": 1},
        session=uow.session,
    )
    return {doc["sourced_id"]: doc["fields"] for doc in found}


async def records_referring(
    uow: UnitOfWork, district_id: str, refs: Iterable[str], file: str | None = None
) -> list[Document]:
    """Records that point at any of `refs` (see `ref_key`), of one file or of any."""
    # The file is filtered here, not in the query: SecantusDB plans `file` with the unique
    # (district, file, sourcedId) index and tests the `$in` on every record of the file
    # (44 s for 500 refs among 20,000 records, against 0.5 s on the by_ref index alone).
    found = await find_in(
        uow.collection(ROSTER_RECORDS),
        {"district_id": district_id},
        "refs",
        refs,
        projection={"_id": 0, "file": 1, "sourced_id": 1, "fields": 1},
        session=uow.session,
    )
    return list(
        {(d["file"], d["sourced_id"]): d for d in found if file in (None, d["file"])}.values()
    )


async def has_records(uow: UnitOfWork, district_id: str, file: str) -> bool:
    doc = await uow.collection(ROSTER_RECORDS).find_one(
        {"district_id": district_id, "file": file}, {"_id": 1}, session=uow.session
    )
    return doc is not None


async def write_records(
    uow: UnitOfWork,
    district_id: str,
    upserts: Iterable[tuple[str, str, Fields, list[str]]],
    deletes: Iterable[tuple[str, str]],
) -> None:
    """Accepted records (file, sourcedId, fields, refs) replace what was kept; `deletes` go.

    What is stored is read first (a few `$in` lists per file): new records are plain
    inserts, unchanged ones are not written at all, and only changed ones are replaced (an
    upsert per record costs the local database a lookup each)."""
    by_file: dict[str, dict[str, tuple[Fields, list[str]]]] = {}
    for file, sid, fields, refs in upserts:
        by_file.setdefault(file, {})[sid] = (fields, refs)
    collection = uow.collection(ROSTER_RECORDS)
    writes: list[Any] = []
    for file, wanted in by_file.items():
        stored = {
            doc["sourced_id"]: doc
            for doc in await find_in(
                collection,
                {"district_id": district_id, "file": file},
                "sourced_id",
                wanted,
                projection={"_id": 0, "sourced_id": 1, "fields": 1, "refs": 1},
                session=uow.session,
            )
        }
        for sid, (fields, refs) in wanted.items():
            doc = {
                "district_id": district_id,
                "file": file,
                "sourced_id": sid,
                "fields": fields,
                "refs": refs,
            }
            before = stored.get(sid)
            if before is None:
                writes.append(InsertOne(doc))
            elif before.get("fields") != fields or before.get("refs") != refs:
                writes.append(
                    ReplaceOne({"district_id": district_id, "file": file, "sourced_id": sid}, doc)
                )
    writes += [
        DeleteOne({"district_id": district_id, "file": file, "sourced_id": sid})
        for file, sid in deletes
    ]
    if writes:
        await collection.bulk_write(writes, ordered=False, session=uow.session)


async def entities(
    uow: UnitOfWork, district_id: str, kind: Kind, ids: Iterable[str]
) -> dict[str, Document]:
    """Some of the accepted roster of one kind, each document cut to the entity's fields."""
    names = ENTITY_FIELDS[kind]
    projection = dict.fromkeys(names, 1) | {"_id": 0}
    id_field = ID_FIELDS[kind]
    found = await find_in(
        uow.collection(kind),
        {"district_id": district_id},
        id_field,
        ids,
        projection=projection,
        session=uow.session,
    )
    return {doc[id_field]: doc for doc in found}


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
    found = await find_in(
        uow.collection(CLASSROOMS),
        {"district_id": district_id},
        "student_ids",
        student_ids,
        projection={"classroom_id": 1},
        session=uow.session,
    )
    return list(dict.fromkeys(doc["classroom_id"] for doc in found))


async def teaches_student(
    uow: UnitOfWork, district_id: str, teacher_id: str, student_id: str
) -> bool:
    # The teacher's classrooms (a few) on their index; the student is looked for here, as a
    # second array field beside that index would make the query a collection scan.
    found = await (
        uow.collection(CLASSROOMS)
        .find(
            {"district_id": district_id, "teacher_ids": teacher_id},
            {"student_ids": 1},
            session=uow.session,
        )
        .to_list()
    )
    return any(student_id in doc.get("student_ids", []) for doc in found)


__all__ = ["SCHOOL_SETTINGS"]


async def schools_of_students(
    uow: UnitOfWork, district_id: str, student_ids: Iterable[str], school_ids: Iterable[str] | None
) -> dict[str, str]:
    """Student id -> school id for those of `student_ids` in the roster (and in the schools).

    The schools are checked here: a second `$in` beside the students' is a collection scan."""
    found = await find_in(
        uow.collection(STUDENTS),
        {"district_id": district_id},
        "student_id",
        student_ids,
        projection={"student_id": 1, "school_id": 1},
        session=uow.session,
    )
    schools = None if school_ids is None else set(school_ids)
    return {
        doc["student_id"]: doc["school_id"]
        for doc in found
        if schools is None or doc.get("school_id") in schools
    }


async def students_of_guardian(
    uow: UnitOfWork, district_id: str, guardian_id: str
) -> list[Document]:
    cursor = uow.collection(STUDENTS).find(
        {"district_id": district_id, "guardian_ids": guardian_id}, session=uow.session
    )
    return await cursor.to_list()


async def classrooms_where(
    uow: UnitOfWork, district_id: str, field: str, values: Iterable[str] | None, limit: int
) -> list[Document]:
    """Classrooms by one indexed field (`teacher_ids`, `school_id`), or all of the district."""
    projection = {
        "_id": 0,
        "classroom_id": 1,
        "school_id": 1,
        "title": 1,
        "grade": 1,
        "teacher_ids": 1,
    }
    if values is None:
        cursor = uow.collection(CLASSROOMS).find(
            {"district_id": district_id}, projection, session=uow.session, limit=limit
        )
        return await cursor.to_list()
    found = await find_in(
        uow.collection(CLASSROOMS),
        {"district_id": district_id},
        field,
        values,
        projection=projection,
        session=uow.session,
    )
    return found[:limit]


async def schools(
    uow: UnitOfWork, district_id: str, school_ids: Iterable[str]
) -> dict[str, Document]:
    """School id -> name and time zone."""
    found = await find_in(
        uow.collection(SCHOOLS),
        {"district_id": district_id},
        "school_id",
        school_ids,
        projection={"_id": 0, "school_id": 1, "name": 1, "timezone": 1},
        session=uow.session,
    )
    return {doc["school_id"]: doc for doc in found}


async def teacher_names(
    uow: UnitOfWork, district_id: str, teacher_ids: Iterable[str]
) -> dict[str, Document]:
    """Teacher id -> given and family name (never the contact)."""
    found = await find_in(
        uow.collection(TEACHERS),
        {"district_id": district_id},
        "teacher_id",
        teacher_ids,
        projection={"_id": 0, "teacher_id": 1, "given_name": 1, "family_name": 1},
        session=uow.session,
    )
    return {doc["teacher_id"]: doc for doc in found}
