"""Home visits: educators' enrolments, invitations and draws, visits, the educators' claimed
time blocks, follow-up contacts, reflections and approved pay periods.

Addresses and reflections live only here (decision 0320). Two visits of one educator never
overlap because each visit claims one document per educator per 15-minute block under a
unique index (decision 0321).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import date, datetime

from aptt_platform.errors import Conflict
from aptt_platform.mongo import Document, UnitOfWork
from pymongo import ASCENDING, IndexModel
from pymongo.errors import BulkWriteError, DuplicateKeyError

from aptt_scheduling.domain import visits as rules
from aptt_scheduling.domain.visits import Enrolment, HomeVisit, Invitation

ENROLMENTS = "visit_educators"
INVITATIONS = "visit_invitations"
DRAWS = "visit_draws"
VISITS = "home_visits"
BLOCKS = "educator_blocks"
FOLLOW_UPS = "visit_follow_ups"
REFLECTIONS = "visit_reflections"
APPROVALS = "visit_hour_approvals"


def _keys(*fields_: str) -> list[tuple[str, int]]:
    return [(f, ASCENDING) for f in ("district_id", *fields_)]


VISIT_INDEXES: dict[str, Sequence[IndexModel]] = {
    ENROLMENTS: [
        IndexModel(
            _keys("school_id", "school_year", "educator_id"), name="once_a_year", unique=True
        )
    ],
    INVITATIONS: [
        IndexModel(_keys("invitation_id"), name="one_per_invitation", unique=True),
        IndexModel(_keys("school_year", "student_id"), name="once_a_year", unique=True),
        IndexModel(_keys("classroom_id", "school_year"), name="by_classroom"),
        IndexModel(_keys("student_id"), name="by_student"),
        IndexModel(_keys("school_id", "school_year", "status"), name="by_school_answer"),
    ],
    DRAWS: [IndexModel(_keys("draw_id"), name="one_per_draw", unique=True)],
    VISITS: [
        IndexModel(_keys("visit_id"), name="one_per_visit", unique=True),
        IndexModel(_keys("invitation_id"), name="by_invitation"),
        IndexModel(_keys("student_id", "created_at"), name="by_family"),
        IndexModel(_keys("educator_ids", "starts_at"), name="by_educator"),
        IndexModel(_keys("school_id", "ended_at"), name="by_school_worked"),
        # The first and the second visit of a family's year are each done once.
        IndexModel(
            _keys("school_year", "student_id", "visit_number"),
            name="numbered_once",
            unique=True,
            partialFilterExpression={"status": "done"},
        ),
    ],
    BLOCKS: [IndexModel(_keys("educator_id", "block_at"), name="one_visit_at_a_time", unique=True)],
    FOLLOW_UPS: [IndexModel(_keys("visit_id"), name="by_visit")],
    REFLECTIONS: [
        IndexModel(_keys("visit_id"), name="one_per_visit", unique=True),
        # Deleted by the database once the school year and the district's retention are over.
        IndexModel([("delete_at", ASCENDING)], name="retention", expireAfterSeconds=0),
    ],
    APPROVALS: [
        IndexModel(_keys("school_id", "first_day", "last_day"), name="once_per_period", unique=True)
    ],
}


def _day(value: date) -> datetime:
    return datetime(value.year, value.month, value.day)


# -- educators ------------------------------------------------------------------------


async def enrol(uow: UnitOfWork, district_id: str, enrolment: Enrolment) -> None:
    """Opt an educator in; opting in again updates the training date."""
    doc = {
        **asdict(enrolment),
        "district_id": district_id,
        "trained_on": _day(enrolment.trained_on),
    }
    await uow.collection(ENROLMENTS).replace_one(
        {
            "district_id": district_id,
            "school_id": enrolment.school_id,
            "school_year": enrolment.school_year,
            "educator_id": enrolment.educator_id,
        },
        doc,
        upsert=True,
        session=uow.session,
    )


def _enrolment(doc: Document) -> Enrolment:
    return Enrolment(
        educator_id=doc["educator_id"],
        school_id=doc["school_id"],
        school_year=doc["school_year"],
        trained_on=doc["trained_on"].date(),
        opted_in_at=doc["opted_in_at"],
    )


async def enrolments(
    uow: UnitOfWork, district_id: str, school_id: str, school_year: str, educator_ids: list[str]
) -> dict[str, Enrolment]:
    cursor = uow.collection(ENROLMENTS).find(
        {
            "district_id": district_id,
            "school_id": school_id,
            "school_year": school_year,
            "educator_id": {"$in": educator_ids},
        },
        session=uow.session,
    )
    return {doc["educator_id"]: _enrolment(doc) async for doc in cursor}


async def enrolments_of_school(
    uow: UnitOfWork, district_id: str, school_id: str, school_year: str
) -> list[Enrolment]:
    cursor = uow.collection(ENROLMENTS).find(
        {"district_id": district_id, "school_id": school_id, "school_year": school_year},
        session=uow.session,
    )
    return [_enrolment(doc) async for doc in cursor.sort("educator_id", 1).limit(1000)]


# -- invitations ----------------------------------------------------------------------


def _invitation_doc(district_id: str, invitation: Invitation) -> Document:
    return {
        **asdict(invitation),
        "district_id": district_id,
        "guardian_ids": list(invitation.guardian_ids),
    }


def _invitation(doc: Document) -> Invitation:
    kept: Document = {f.name: doc.get(f.name) for f in fields(Invitation)}
    kept["guardian_ids"] = tuple(doc["guardian_ids"])
    return Invitation(**kept)


async def invited_students(
    uow: UnitOfWork, district_id: str, school_year: str, student_ids: list[str]
) -> set[str]:
    cursor = uow.collection(INVITATIONS).find(
        {
            "district_id": district_id,
            "school_year": school_year,
            "student_id": {"$in": student_ids},
        },
        {"student_id": 1},
        session=uow.session,
    )
    return {doc["student_id"] async for doc in cursor}


async def insert_invitations(
    uow: UnitOfWork, district_id: str, invitations: list[Invitation]
) -> None:
    if not invitations:
        return
    try:
        await uow.collection(INVITATIONS).insert_many(
            [_invitation_doc(district_id, i) for i in invitations], session=uow.session
        )
    except (BulkWriteError, DuplicateKeyError) as exc:
        raise Conflict(
            "another invitation of these families was sent at the same time; try again",
            code="invited-concurrently",
        ) from exc


async def record_draw(uow: UnitOfWork, district_id: str, draw: Document) -> None:
    await uow.collection(DRAWS).insert_one(
        {**draw, "district_id": district_id}, session=uow.session
    )


async def get_invitation(
    uow: UnitOfWork, district_id: str, invitation_id: str
) -> Invitation | None:
    doc = await uow.collection(INVITATIONS).find_one(
        {"district_id": district_id, "invitation_id": invitation_id}, session=uow.session
    )
    return _invitation(doc) if doc else None


async def save_answer(
    uow: UnitOfWork, district_id: str, before: Invitation, after: Invitation
) -> None:
    """Write the answer only over the state it was decided on (a racing answer retries)."""
    done = await uow.collection(INVITATIONS).update_one(
        {
            "district_id": district_id,
            "invitation_id": before.invitation_id,
            "status": before.status,
        },
        {
            "$set": {
                "status": after.status,
                "answered_by": after.answered_by,
                "answer_channel": after.answer_channel,
                "answered_at": after.answered_at,
            }
        },
        session=uow.session,
    )
    if done.matched_count != 1:
        raise Conflict("the invitation changed meanwhile; try again", code="invitation-changed")


async def invitations_of_classroom(
    uow: UnitOfWork, district_id: str, classroom_id: str, school_year: str
) -> list[Invitation]:
    cursor = uow.collection(INVITATIONS).find(
        {"district_id": district_id, "classroom_id": classroom_id, "school_year": school_year},
        session=uow.session,
    )
    return [_invitation(doc) async for doc in cursor.limit(2000)]


async def accepted_invitations_of_school(
    uow: UnitOfWork, district_id: str, school_id: str, school_year: str, limit: int
) -> list[Invitation]:
    cursor = uow.collection(INVITATIONS).find(
        {
            "district_id": district_id,
            "school_id": school_id,
            "school_year": school_year,
            "status": "accepted",
        },
        session=uow.session,
    )
    return [_invitation(doc) async for doc in cursor.sort("answered_at", 1).limit(limit)]


async def invitations_with_pending_visits(
    uow: UnitOfWork, district_id: str, invitation_ids: list[str]
) -> set[str]:
    cursor = uow.collection(VISITS).find(
        {
            "district_id": district_id,
            "invitation_id": {"$in": invitation_ids},
            "status": {"$in": list(rules.PENDING)},
        },
        {"invitation_id": 1},
        session=uow.session,
    )
    return {doc["invitation_id"] async for doc in cursor}


async def invitations_of_guardian(
    uow: UnitOfWork, district_id: str, student_ids: list[str]
) -> list[Invitation]:
    cursor = uow.collection(INVITATIONS).find(
        {"district_id": district_id, "student_id": {"$in": student_ids}}, session=uow.session
    )
    return [_invitation(doc) async for doc in cursor.limit(200)]


# -- visits ---------------------------------------------------------------------------


def _visit_doc(visit: HomeVisit) -> Document:
    doc: Document = {f.name: getattr(visit, f.name) for f in fields(visit) if f.name != "events"}
    doc["educator_ids"] = list(visit.educator_ids)
    doc["proposed_times"] = list(visit.proposed_times)
    doc["family_times"] = list(visit.family_times)
    return doc


def _visit(doc: Document) -> HomeVisit:
    kept = {k: v for k, v in doc.items() if k in HomeVisit.__dataclass_fields__}
    kept["educator_ids"] = tuple(kept["educator_ids"])
    kept["proposed_times"] = tuple(kept["proposed_times"])
    kept["family_times"] = tuple(kept.get("family_times", ()))
    return HomeVisit(**kept)


async def insert_visit(uow: UnitOfWork, visit: HomeVisit) -> None:
    await uow.collection(VISITS).insert_one(_visit_doc(visit), session=uow.session)
    uow.track(visit)


async def save_visit(uow: UnitOfWork, before: HomeVisit, after: HomeVisit) -> None:
    """Replace the visit only if it is still as it was read (its status and how often it was
    moved, so two racing moves of one visit cannot both apply): a racing change retries."""
    # None also matches a visit stored before visits could be moved.
    moves = [0, None] if before.moves == 0 else [before.moves]
    try:
        done = await uow.collection(VISITS).replace_one(
            {
                "district_id": before.district_id,
                "visit_id": before.visit_id,
                "status": before.status,
                "moves": {"$in": moves},
            },
            _visit_doc(after),
            session=uow.session,
        )
    except DuplicateKeyError as exc:
        raise Conflict(
            "this family's visit of that number is already done", code="visit-number-taken"
        ) from exc
    if done.matched_count != 1:
        raise Conflict("the visit changed meanwhile; try again", code="visit-changed")
    uow.track(after)


async def get_visit(uow: UnitOfWork, district_id: str, visit_id: str) -> HomeVisit | None:
    doc = await uow.collection(VISITS).find_one(
        {"district_id": district_id, "visit_id": visit_id}, session=uow.session
    )
    return _visit(doc) if doc else None


async def visits_of_invitation(
    uow: UnitOfWork, district_id: str, invitation_id: str
) -> list[HomeVisit]:
    cursor = uow.collection(VISITS).find(
        {"district_id": district_id, "invitation_id": invitation_id}, session=uow.session
    )
    return [_visit(doc) async for doc in cursor.limit(100)]


async def visits_of_educator(
    uow: UnitOfWork, district_id: str, educator_id: str, limit: int
) -> list[HomeVisit]:
    cursor = uow.collection(VISITS).find(
        {"district_id": district_id, "educator_ids": educator_id}, session=uow.session
    )
    return [_visit(doc) async for doc in cursor.sort("created_at", -1).limit(limit)]


async def visits_of_students(
    uow: UnitOfWork, district_id: str, student_ids: list[str], limit: int
) -> list[HomeVisit]:
    cursor = uow.collection(VISITS).find(
        {"district_id": district_id, "student_id": {"$in": student_ids}}, session=uow.session
    )
    return [_visit(doc) async for doc in cursor.sort("created_at", -1).limit(limit)]


async def done_visits(
    uow: UnitOfWork, district_id: str, school_id: str, start: datetime, end: datetime
) -> list[HomeVisit]:
    """Visits of a school that ended in [start, end)."""
    cursor = uow.collection(VISITS).find(
        {
            "district_id": district_id,
            "school_id": school_id,
            "ended_at": {"$gte": start, "$lt": end},
            "status": "done",
        },
        session=uow.session,
    )
    return [_visit(doc) async for doc in cursor]


async def invitations_of_students(
    uow: UnitOfWork, district_id: str, school_year: str, student_ids: list[str]
) -> list[Invitation]:
    cursor = uow.collection(INVITATIONS).find(
        {
            "district_id": district_id,
            "school_year": school_year,
            "student_id": {"$in": student_ids},
        },
        session=uow.session,
    )
    return [_invitation(doc) async for doc in cursor]


async def done_by_student(
    uow: UnitOfWork, district_id: str, school_year: str, student_ids: list[str]
) -> dict[str, int]:
    cursor = uow.collection(VISITS).find(
        {
            "district_id": district_id,
            "school_year": school_year,
            "student_id": {"$in": student_ids},
            "status": "done",
        },
        {"student_id": 1},
        session=uow.session,
    )
    counts: dict[str, int] = {}
    async for doc in cursor:
        counts[doc["student_id"]] = counts.get(doc["student_id"], 0) + 1
    return counts


async def done_count(uow: UnitOfWork, district_id: str, school_year: str, student_id: str) -> int:
    return await uow.collection(VISITS).count_documents(
        {
            "district_id": district_id,
            "school_year": school_year,
            "student_id": student_id,
            "status": "done",
        },
        session=uow.session,
    )


# -- the educators' time --------------------------------------------------------------


async def busy_blocks(
    uow: UnitOfWork, district_id: str, educator_ids: list[str], block_times: list[datetime]
) -> set[tuple[str, datetime]]:
    cursor = uow.collection(BLOCKS).find(
        {
            "district_id": district_id,
            "educator_id": {"$in": educator_ids},
            "block_at": {"$in": block_times},
        },
        session=uow.session,
    )
    return {(doc["educator_id"], doc["block_at"]) async for doc in cursor}


async def claim_blocks(uow: UnitOfWork, visit: HomeVisit) -> None:
    """Claim both educators' blocks; a block already claimed means one is busy then."""
    assert visit.starts_at is not None
    docs = [
        {
            "district_id": visit.district_id,
            "educator_id": educator_id,
            "block_at": at,
            "visit_id": visit.visit_id,
        }
        for educator_id in visit.educator_ids
        for at in rules.blocks(visit.starts_at, visit.duration_minutes)
    ]
    try:
        await uow.collection(BLOCKS).insert_many(docs, session=uow.session)
    except (BulkWriteError, DuplicateKeyError) as exc:
        raise Conflict(
            "an educator of the pair is on another visit at that time", code="educator-busy"
        ) from exc


async def release_blocks(uow: UnitOfWork, visit: HomeVisit) -> None:
    await uow.collection(BLOCKS).delete_many(
        {"district_id": visit.district_id, "visit_id": visit.visit_id}, session=uow.session
    )


# -- follow-ups and reflections -------------------------------------------------------


async def add_follow_up(uow: UnitOfWork, district_id: str, follow_up: Document) -> None:
    await uow.collection(FOLLOW_UPS).insert_one(
        {**follow_up, "district_id": district_id}, session=uow.session
    )


async def follow_ups(uow: UnitOfWork, district_id: str, visit_id: str) -> list[Document]:
    cursor = uow.collection(FOLLOW_UPS).find(
        {"district_id": district_id, "visit_id": visit_id}, {"_id": 0}, session=uow.session
    )
    return [doc async for doc in cursor.sort("contacted_on", 1).limit(200)]


async def save_reflection(uow: UnitOfWork, district_id: str, reflection: Document) -> None:
    await uow.collection(REFLECTIONS).replace_one(
        {"district_id": district_id, "visit_id": reflection["visit_id"]},
        {**reflection, "district_id": district_id},
        upsert=True,
        session=uow.session,
    )


async def get_reflection(uow: UnitOfWork, district_id: str, visit_id: str) -> Document | None:
    return await uow.collection(REFLECTIONS).find_one(
        {"district_id": district_id, "visit_id": visit_id}, {"_id": 0}, session=uow.session
    )


# -- pay periods ----------------------------------------------------------------------


async def approve_period(uow: UnitOfWork, district_id: str, approval: Document) -> None:
    try:
        await uow.collection(APPROVALS).insert_one(
            {**approval, "district_id": district_id}, session=uow.session
        )
    except DuplicateKeyError as exc:
        raise Conflict("this pay period is already approved", code="period-approved") from exc


async def get_approval(
    uow: UnitOfWork, district_id: str, school_id: str, first: date, last: date
) -> Document | None:
    return await uow.collection(APPROVALS).find_one(
        {
            "district_id": district_id,
            "school_id": school_id,
            "first_day": _day(first),
            "last_day": _day(last),
        },
        {"_id": 0},
        session=uow.session,
    )
