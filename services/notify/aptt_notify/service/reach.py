"""Personal contacts and reach: which families heard from the school in person lately.

A personal contact is one document per (kind, source, student), recorded where it happens: a
personal note when it is sent, a team meeting when attendance says a guardian was there, a
home visit when it is done. Conference bookings are one handler calling
`record_personal_contact` when their events exist (docs/decisions/0512). A family is a
student's guardians; reach counts students, so a family with two children in one class
counts for each child.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aptt_contracts.scheduling import VisitCompleted
from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import Document, UnitOfWork, utcnow

from aptt_notify import store
from aptt_notify.service import staff
from aptt_notify.settings import Config

# Kinds of personal contact; "conference-booked" comes with its events.
NOTE, TEAM_MEETING, HOME_VISIT = "note", "team-meeting", "home-visit"
REACH_MAX_STUDENTS = 5000


async def record_personal_contact(
    uow: UnitOfWork,
    *,
    district_id: str,
    student_id: str,
    kind: str,
    source_id: str,
    at: datetime,
    school_id: str | None = None,
    teacher_id: str | None = None,
) -> None:
    if school_id is None:
        student = await store.roster.students.get(uow, district_id, student_id)
        school_id = (student or {}).get("school_id")
    await store.notes.record_contact(
        uow,
        {
            "_id": store.doc_id(district_id, kind, source_id, student_id),
            "district_id": district_id,
            "student_id": student_id,
            "school_id": school_id,
            "kind": kind,
            "source_id": source_id,
            "teacher_id": teacher_id,
            "at": at,
        },
    )


async def on_home_visit(uow: UnitOfWork, event: VisitCompleted, meta: ReceivedEvent) -> None:
    """A home visit done is a personal contact with the family (no educator is its teacher:
    the pair may not teach the child)."""
    await record_personal_contact(
        uow,
        district_id=meta.district_id,
        student_id=event.student_id,
        kind=HOME_VISIT,
        source_id=event.visit_id,
        at=meta.time or utcnow(),
        school_id=event.school_id,
    )


async def last_contacts(
    uow: UnitOfWork, district_id: str, student_ids: list[str], since: datetime
) -> dict[str, Document]:
    """Per student, the latest personal contact since `since`."""
    latest: dict[str, Document] = {}
    for contact in await store.notes.contacts_since(uow, district_id, student_ids, since):
        kept = latest.get(contact["student_id"])
        if kept is None or contact["at"] > kept["at"]:
            latest[contact["student_id"]] = contact
    return latest


@dataclass(frozen=True)
class Reach:
    days: int
    families: int
    reached: int | None  # None: withheld, fewer families than the district's minimum
    not_reached: list[str]  # student ids, so the teacher knows whom to write to next

    @property
    def withheld(self) -> bool:
        return self.reached is None

    @property
    def rate(self) -> float | None:
        if self.reached is None or not self.families:
            return None
        return round(self.reached / self.families, 3)


async def reach_of(
    uow: UnitOfWork,
    *,
    principal: Principal,
    classroom_id: str | None,
    teacher_id: str | None,
    school_id: str | None,
    days: int | None,
    now: datetime,
) -> Reach:
    """Reach of one classroom, one teacher's classrooms (of one school, when named), or one
    school. An admin reading a teacher's reach compares staff: with fewer families than the
    district's minimum group, only the number of families is given (decision 0606)."""
    district_id = principal.district_id
    days = days or uow.config_as(Config).reach_days
    student_ids: set[str] = set()
    withhold = False
    if classroom_id is not None:
        classroom = await staff.classroom(uow, principal, classroom_id)
        student_ids = set(classroom.get("student_ids", []))
    elif teacher_id is not None:
        classrooms = await staff.teacher_classrooms(uow, district_id, teacher_id)
        if school_id is not None:
            if teacher_id != principal.subject:
                staff.school(principal, school_id)
            classrooms = [c for c in classrooms if c.get("school_id") == school_id]
        if teacher_id != principal.subject:
            if not principal.has_any("district_admin", "school_admin"):
                raise out_of_reach(principal, "teacher")
            classrooms = [c for c in classrooms if principal.may_see_school(c.get("school_id", ""))]
            withhold = True
        student_ids = {s for c in classrooms for s in c.get("student_ids", [])}
    elif school_id is not None:
        staff.school(principal, school_id)
        found = await store.roster.students.find_live(
            uow,
            district_id,
            {"school_id": school_id},
            projection={"student_id": 1},
            limit=REACH_MAX_STUDENTS,
        )
        student_ids = {d["student_id"] for d in found}
    ordered = sorted(student_ids)
    if withhold and len(ordered) < await staff.min_group(uow, district_id):
        return Reach(days=days, families=len(ordered), reached=None, not_reached=[])
    latest = await last_contacts(uow, district_id, ordered, now - timedelta(days=days))
    return Reach(
        days=days,
        families=len(ordered),
        reached=len(latest),
        not_reached=[s for s in ordered if s not in latest],
    )
