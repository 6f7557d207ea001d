"""Outcome analytics: the handlers that keep attendance and goals from other services'
events, and the reports read from them (decisions 0230-0232).

Reach: a classroom's report is for its teachers, its school's admins and district admins; a
school's for its admins and district admins; the district's and the growth comparison for
district admins. Another district's ids are not found; within the district the platform's
`out_of_reach` answers 403. Every report read is recorded (who, which report, when).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aptt_contracts.goals import GoalClosed, GoalMet, GoalSet, PracticeLogged
from aptt_contracts.scheduling import (
    AttendanceRecorded,
    FamilyEventTurnoutRecorded,
    VisitCompleted,
)
from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import NotFound
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import Document, UnitOfWork
from aptt_platform.readmodel import Change
from aptt_platform.schoolyear import school_year_of, school_year_span

from aptt_data.domain import outcomes as figures
from aptt_data.domain.outcomes import AttendanceFigures, GoalFigures, GrowthComparison, Reach
from aptt_data.settings import Config
from aptt_data.store import MEETINGS
from aptt_data.store import outcomes as store
from aptt_data.store import roster as roster_store

# -- handlers ------------------------------------------------------------------------------


async def record_attendance(
    uow: UnitOfWork, events: list[tuple[AttendanceRecorded, ReceivedEvent]]
) -> None:
    """Keep each guardian's attendance, then rewrite the summaries of the meetings touched."""
    changes = [
        Change(
            district_id=e.district_id,
            aggregate_id=store.record_id(e.meeting_id, e.student_id, e.guardian_id),
            version=meta.time,
            fields={
                "meeting_id": e.meeting_id,
                "classroom_id": e.classroom_id,
                "school_id": e.school_id,
                "student_id": e.student_id,
                "relationship": e.relationship,
                "present": e.present,
                "meeting_starts_at": e.meeting_starts_at,
            },
        )
        for e, meta in events
    ]
    await store.ATTENDANCE.apply_many(uow, changes)
    touched: dict[str, dict[str, tuple[AttendanceRecorded, datetime | None]]] = {}
    for e, meta in events:
        touched.setdefault(e.district_id, {})[e.meeting_id] = (e, meta.time)
    for district_id, meetings in touched.items():
        await _summarise(uow, district_id, meetings)


async def _summarise(
    uow: UnitOfWork,
    district_id: str,
    meetings: dict[str, tuple[AttendanceRecorded, datetime | None]],
) -> None:
    """Each touched meeting's summary, from all its records (a meeting has a class's worth)."""
    records = await store.attendance_of_meetings(uow, district_id, meetings)
    by_meeting: dict[str, list[Document]] = {}
    for doc in records:
        by_meeting.setdefault(doc["meeting_id"], []).append(doc)
    default_zone = uow.config_as(Config).default_timezone
    zones: dict[str, str] = {}
    summaries = []
    for meeting_id, (event, received) in meetings.items():
        docs = by_meeting.get(meeting_id, [])
        # Older attendance events carry no start: the meeting's own event, else the record's
        # time (attendance is taken at the meeting).
        starts = event.meeting_starts_at or await _meeting_start(uow, district_id, meeting_id)
        if event.school_id not in zones:
            school = await roster_store.get_school(uow, district_id, event.school_id)
            zones[event.school_id] = (school or {}).get("timezone") or default_zone
        zone = zones[event.school_id]
        moment = starts or received
        if moment is None:
            continue
        day = moment.astimezone(ZoneInfo(zone)).date()
        classroom = await roster_store.get_classroom(uow, district_id, event.classroom_id)
        recorded = {d["student_id"] for d in docs}
        in_class = len(classroom.get("student_ids", [])) if classroom else len(recorded)
        present = [d for d in docs if d["present"]]
        summaries.append(
            {
                "meeting_id": meeting_id,
                "classroom_id": event.classroom_id,
                "school_id": event.school_id,
                "starts_on": day.isoformat(),
                "school_year": school_year_of(day),
                "families_in_class": max(in_class, len({d["student_id"] for d in present})),
                "families_attended": len({d["student_id"] for d in present}),
                "guardians": dict(Counter(d["relationship"] for d in present)),
            }
        )
    await store.save_summaries(uow, district_id, summaries)


async def _meeting_start(uow: UnitOfWork, district_id: str, meeting_id: str) -> datetime | None:
    meeting = await MEETINGS.get(uow, district_id, meeting_id, removed=True)
    return meeting.get("starts_at") if meeting else None


async def record_goal_set(uow: UnitOfWork, event: GoalSet, meta: ReceivedEvent) -> None:
    await store.GOALS.upsert(
        uow,
        event.district_id,
        event.goal_id,
        {
            "student_id": event.student_id,
            "skill_code": event.skill_code,
            "starts_on": event.starts_on.isoformat(),
            "ends_on": event.ends_on.isoformat(),
        },
        version=meta.time,
    )


async def record_goal_met(uow: UnitOfWork, event: GoalMet, meta: ReceivedEvent) -> None:
    await store.GOALS.upsert(
        uow,
        event.district_id,
        event.goal_id,
        {"student_id": event.student_id, "skill_code": event.skill_code, "outcome": "met"},
        version=meta.time,
    )


async def record_goal_closed(uow: UnitOfWork, event: GoalClosed, meta: ReceivedEvent) -> None:
    await store.GOALS.upsert(
        uow,
        event.district_id,
        event.goal_id,
        {"student_id": event.student_id, "skill_code": event.skill_code, "outcome": event.outcome},
        version=meta.time,
    )


async def record_family_event(
    uow: UnitOfWork, event: FamilyEventTurnoutRecorded, meta: ReceivedEvent
) -> None:
    await store.FAMILY_EVENTS.upsert(
        uow,
        event.district_id,
        event.family_event_id,
        {
            "school_id": event.school_id,
            "kind": event.kind,
            "learning_linked": event.learning_linked,
            "on": event.on.isoformat(),
            "school_year": school_year_of(event.on),
            "families": event.families_attending,
            "by_relationship": event.by_relationship,
        },
        version=meta.time,
    )


async def record_visit(uow: UnitOfWork, event: VisitCompleted, meta: ReceivedEvent) -> None:
    """A home visit done counts for reach in the school year of the day it was recorded."""
    if meta.time is None:
        raise ValueError("a completed visit without its time cannot be placed in a school year")
    await store.VISITS.upsert(
        uow,
        event.district_id,
        event.visit_id,
        {
            "student_id": event.student_id,
            "school_id": event.school_id,
            "visit_number": event.visit_number,
            "school_year": school_year_of(meta.time.date()),
        },
        version=meta.time,
    )


async def record_practice(uow: UnitOfWork, event: PracticeLogged, meta: ReceivedEvent) -> None:
    await store.add_practice(
        uow,
        event.district_id,
        {
            "event_id": meta.id,
            "goal_id": event.goal_id,
            "student_id": event.student_id,
            "practiced_on": event.practiced_on.isoformat(),
            "minutes": event.minutes,
        },
    )


# -- reach and the record of views ---------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    kind: str  # classroom, school, district
    scope_id: str
    student_ids: frozenset[str]
    minimum: int


async def _minimums(uow: UnitOfWork, district_id: str) -> tuple[int, int]:
    config = uow.config_as(Config)
    doc = await roster_store.district_settings(uow, district_id)
    return (
        int(doc.get("outcomes_min_cell", config.outcomes_min_cell)),
        int(doc.get("outcomes_min_cell_classroom", config.outcomes_min_cell_classroom)),
    )


async def scope_for(uow: UnitOfWork, principal: Principal, kind: str, scope_id: str) -> Scope:
    """The scope if the caller reaches it: classroom (its teachers, school admins, district
    admins), school (its admins, district admins), district (district admins)."""
    district_id = principal.district_id
    wide, classroom_minimum = await _minimums(uow, district_id)
    if kind == "classroom":
        classroom = await roster_store.get_classroom(uow, district_id, scope_id)
        if classroom is None:
            raise NotFound("no such classroom", code="unknown-classroom")
        teaches = principal.has_any("teacher") and principal.subject in classroom["teacher_ids"]
        if not (teaches or _admin_of(principal, classroom["school_id"])):
            raise out_of_reach(principal, "classroom")
        return Scope(kind, scope_id, frozenset(classroom["student_ids"]), classroom_minimum)
    if kind == "school":
        if await roster_store.get_school(uow, district_id, scope_id) is None:
            raise NotFound("no such school", code="unknown-school")
        if not _admin_of(principal, scope_id):
            raise out_of_reach(principal, "school")
        rooms = await store.classrooms_where(uow, district_id, school_id=scope_id)
        students = frozenset(s for c in rooms for s in c.get("student_ids", []))
        return Scope(kind, scope_id, students, wide)
    if not principal.is_district_admin:
        raise out_of_reach(principal, "district report")
    return Scope("district", district_id, frozenset(), wide)


def _admin_of(principal: Principal, school_id: str) -> bool:
    return principal.is_district_admin or (
        principal.has_any("school_admin") and school_id in principal.school_ids
    )


async def _viewed(
    uow: UnitOfWork, principal: Principal, report: str, scope: Scope, now: datetime, **extra: Any
) -> None:
    await store.record_view(
        uow,
        {
            "district_id": principal.district_id,
            "viewer": principal.subject,
            "roles": sorted(principal.roles),
            "report": report,
            "scope": scope.kind,
            "scope_id": scope.scope_id,
            "at": now,
            **extra,
        },
    )


# -- reports -------------------------------------------------------------------------------

ROWS_BY = {"classroom": "meeting", "school": "classroom", "district": "school"}
FIELD_OF = {"classroom": "classroom_id", "school": "school_id", "district": None}


async def attendance_report(
    uow: UnitOfWork,
    *,
    principal: Principal,
    kind: str,
    scope_id: str,
    school_year: str,
    now: datetime,
) -> tuple[Scope, AttendanceFigures]:
    scope = await scope_for(uow, principal, kind, scope_id)
    field = FIELD_OF[kind]
    meetings = await store.summaries(
        uow, principal.district_id, school_year, field=field, value=scope_id if field else None
    )
    await _viewed(uow, principal, "attendance", scope, now, school_year=school_year)
    found = figures.attendance(meetings, by=ROWS_BY[kind], minimum=scope.minimum)
    if kind == "classroom" or found.suppressed:
        return scope, found
    events = await store.unlinked_turnouts(
        uow, principal.district_id, school_year, scope_id if kind == "school" else None
    )
    fathers = figures.fathers_compared(meetings, events, minimum=scope.minimum)
    return scope, replace(found, fathers=fathers)


async def goals_report(
    uow: UnitOfWork,
    *,
    principal: Principal,
    kind: str,
    scope_id: str,
    school_year: str,
    now: datetime,
) -> tuple[Scope, GoalFigures]:
    scope = await scope_for(uow, principal, kind, scope_id)
    district_id = principal.district_id
    first, last = school_year_span(school_year)
    meetings = await store.summaries(
        uow, district_id, school_year, field=FIELD_OF[kind], value=scope_id
    )
    records = await store.attendance_of_meetings(uow, district_id, [m.meeting_id for m in meetings])
    attended: dict[str, set[str]] = {}
    for doc in records:
        if doc["present"]:
            attended.setdefault(doc["meeting_id"], set()).add(doc["student_id"])
    rows = [
        (m.meeting_id, m.starts_on, frozenset(attended.get(m.meeting_id, ()))) for m in meetings
    ]
    goals = [
        g
        for g in await store.goals_of_students(uow, district_id, scope.student_ids)
        if g.starts_on is None or first <= g.starts_on <= last
    ]
    practice = await store.practice_of_students(uow, district_id, scope.student_ids, first, last)
    window = uow.config_as(Config).goals_after_meeting_days
    await _viewed(uow, principal, "goals", scope, now, school_year=school_year)
    return scope, figures.goals(rows, goals, practice, window_days=window, minimum=scope.minimum)


async def reach_report(
    uow: UnitOfWork,
    *,
    principal: Principal,
    kind: str,
    scope_id: str,
    school_year: str,
    now: datetime,
) -> Reach:
    """Families of a classroom or school visited at home this school year."""
    scope = await scope_for(uow, principal, kind, scope_id)
    visits = await store.visits_of_students(
        uow, principal.district_id, scope.student_ids, school_year
    )
    await _viewed(uow, principal, "reach", scope, now, school_year=school_year)
    return figures.reach(scope.student_ids, visits, minimum=scope.minimum)


@dataclass(frozen=True)
class GrowthReport:
    skill_code: str
    grade: int
    school_year: str
    aptt_classrooms: int
    comparison_classrooms: int
    comparison: GrowthComparison


async def growth_report(
    uow: UnitOfWork,
    *,
    principal: Principal,
    skill_code: str,
    grade: int,
    school_year: str,
    now: datetime,
) -> GrowthReport:
    """Growth on a skill in APTT classrooms of a grade against the district's other
    classrooms of that grade (decision 0232)."""
    scope = await scope_for(uow, principal, "district", principal.district_id)
    district_id = principal.district_id
    rooms = await store.classrooms_where(uow, district_id, grade=grade)
    marked = await store.aptt_classrooms(uow, district_id)
    aptt = {s for c in rooms if c["classroom_id"] in marked for s in c.get("student_ids", [])}
    other = {s for c in rooms if c["classroom_id"] not in marked for s in c.get("student_ids", [])}
    # A student in both kinds of classroom belongs to neither group.
    aptt, other = aptt - other, other - aptt
    first, last = school_year_span(school_year)
    results = await store.results_of_students(uow, district_id, aptt | other, skill_code)
    growth = {
        s: g
        for s, rs in results.items()
        if (g := figures.growth_of(r for r in rs if first <= r[0] <= last)) is not None
    }
    await _viewed(
        uow, principal, "growth", scope, now, school_year=school_year, skill_code=skill_code
    )
    return GrowthReport(
        skill_code=skill_code,
        grade=grade,
        school_year=school_year,
        aptt_classrooms=sum(1 for c in rooms if c["classroom_id"] in marked),
        comparison_classrooms=sum(1 for c in rooms if c["classroom_id"] not in marked),
        comparison=figures.compare_growth(
            [growth[s] for s in sorted(aptt) if s in growth],
            [growth[s] for s in sorted(other) if s in growth],
            minimum=scope.minimum,
        ),
    )


async def mark_classroom(
    uow: UnitOfWork, *, principal: Principal, classroom_id: str, runs_aptt: bool, now: datetime
) -> None:
    """A district marks which classrooms run APTT; the rest are comparisons."""
    if not principal.is_district_admin:
        raise out_of_reach(principal, "classroom")
    if await roster_store.get_classroom(uow, principal.district_id, classroom_id) is None:
        raise NotFound("no such classroom", code="unknown-classroom")
    await store.mark_aptt(
        uow, principal.district_id, classroom_id, runs_aptt, principal.subject, now
    )


async def report_views(
    uow: UnitOfWork, *, principal: Principal, before: datetime | None, limit: int
) -> list[Document]:
    """Who viewed which outcome report, newest first (district admins)."""
    if not principal.is_district_admin:
        raise out_of_reach(principal, "report views")
    return await store.report_views(uow, principal.district_id, before=before, limit=limit)
