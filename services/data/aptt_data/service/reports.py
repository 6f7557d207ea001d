"""Class reports for team meetings (docs/decisions/0203-class-reports.md).

A report is prepared when the meeting is scheduled: each student of the classroom gets a
fresh private number, published at once to notify (restricted topic) so families hear it
before the meeting. Until the meeting starts the report follows the data (new results,
roster changes, a reschedule) keeping its numbers; students who join get new numbers. From
the meeting's start it is frozen: it is what was shown, and the next report's growth is
measured against it.

What we know of each meeting is a read model (`meetings`) kept from scheduling's events,
applied only when newer than what it holds: retries may reorder a meeting's events, and a
cancellation must not be undone by a late scheduling event.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date
from typing import Any

from aptt_contracts.data import ClassReportPublished, PrivateNumberAssigned
from aptt_contracts.scheduling import (
    TeamMeetingCancelled,
    TeamMeetingRescheduled,
    TeamMeetingScheduled,
)
from aptt_contracts.skills import BUILT_IN_SKILLS, Skill, season_of
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import Document, UnitOfWork, utcnow

from aptt_data.domain.reports import (
    Entry,
    Figures,
    draw_numbers,
    figures,
    local_date,
    number_newcomers,
    with_scores,
)
from aptt_data.service import Config
from aptt_data.store import MEETINGS
from aptt_data.store import assessments as results_store
from aptt_data.store import reports as store
from aptt_data.store import roster as roster_store


async def on_meeting_scheduled(
    uow: UnitOfWork, event: TeamMeetingScheduled, meta: ReceivedEvent
) -> None:
    """A team meeting was scheduled: draw its private numbers and build its report."""
    applied = await MEETINGS.upsert(
        uow,
        event.district_id,
        event.meeting_id,
        {
            "classroom_id": event.classroom_id,
            "school_id": event.school_id,
            "starts_at": event.starts_at,
            "skill_code": event.focus_skill_code,
        },
        version=meta.time,
    )
    if not applied.written:
        if not applied.was_live or (applied.before or {}).get("skill_code"):
            return  # cancelled since, or already known: nothing this older event can add
        # A reschedule overtook this event: its time stands, but only this event names the
        # focus skill, which no later event changes.
        await store.set_meeting_skill(
            uow, event.district_id, event.meeting_id, event.focus_skill_code
        )
    await _follow_meeting(
        uow, event.district_id, event.meeting_id, config=uow.config_as(Config), scheduled=True
    )


async def on_meeting_rescheduled(
    uow: UnitOfWork, event: TeamMeetingRescheduled, meta: ReceivedEvent
) -> None:
    """Move the report; if the meeting is still ahead, refresh it (the season may change)."""
    applied = await MEETINGS.upsert(
        uow,
        event.district_id,
        event.meeting_id,
        {
            "classroom_id": event.classroom_id,
            "school_id": event.school_id,
            "starts_at": event.starts_at,
        },
        version=meta.time,
    )
    if applied.written:
        await _follow_meeting(
            uow, event.district_id, event.meeting_id, config=uow.config_as(Config)
        )


async def on_meeting_cancelled(
    uow: UnitOfWork, event: TeamMeetingCancelled, meta: ReceivedEvent
) -> None:
    """Withdraw the report; a late, older scheduling event cannot bring it back."""
    applied = await MEETINGS.remove(
        uow,
        event.district_id,
        event.meeting_id,
        version=meta.time,
        keep={"classroom_id": event.classroom_id, "school_id": event.school_id},
    )
    if applied.written:
        await _follow_meeting(
            uow, event.district_id, event.meeting_id, config=uow.config_as(Config)
        )


async def _follow_meeting(
    uow: UnitOfWork, district_id: str, meeting_id: str, *, config: Config, scheduled: bool = False
) -> None:
    """Bring the meeting's report in line with what we know of the meeting."""
    meeting = await MEETINGS.get(uow, district_id, meeting_id)
    doc = await store.get_report(uow, district_id, meeting_id)
    if meeting is None:
        if doc is not None and doc["status"] != "cancelled":
            doc["status"] = "cancelled"
            doc["cancelled_at"] = utcnow()
            await store.save_report(uow, doc)
        return
    skill_code = meeting.get("skill_code") or (doc or {}).get("skill_code")
    if doc is None:
        if skill_code is None:
            return  # rescheduled before we heard it was scheduled: that event names the skill
        doc = {
            "district_id": district_id,
            "report_id": str(uuid.uuid4()),
            "meeting_id": meeting_id,
            "classroom_id": meeting["classroom_id"],
            "school_id": meeting["school_id"],
            "skill_code": skill_code,
            "starts_at": meeting["starts_at"],
            "status": "scheduled",
            "entries": [],
            "used_numbers": [],
            "published": None,
            "created_at": utcnow(),
        }
        await _build(uow, doc, config=config, first=True)
        return
    if doc["status"] == "cancelled":
        return
    doc.update(starts_at=meeting["starts_at"], skill_code=skill_code)
    if scheduled or doc["starts_at"] > utcnow():
        await _build(uow, doc, config=config, first=False)
    else:
        await store.save_report(uow, doc)  # started: frozen, it is what was shown


async def refresh_classrooms(
    uow: UnitOfWork, *, district_id: str, classroom_ids: Iterable[str], config: Config
) -> None:
    """Rebuild the upcoming reports of some classrooms after their data changed."""
    ids = list(classroom_ids)
    if not ids:
        return
    for doc in await store.upcoming_reports(uow, district_id, now=utcnow(), classroom_ids=ids):
        await _build(uow, doc, config=config, first=False)


async def refresh_district(
    uow: UnitOfWork, *, district_id: str, config: Config, school_id: str | None = None
) -> None:
    for doc in await store.upcoming_reports(uow, district_id, now=utcnow(), school_id=school_id):
        await _build(uow, doc, config=config, first=False)


async def _build(uow: UnitOfWork, doc: Document, *, config: Config, first: bool) -> None:
    district_id = doc["district_id"]
    classroom = await roster_store.get_classroom(uow, district_id, doc["classroom_id"])
    student_ids = list(classroom["student_ids"]) if classroom else []
    grade = classroom.get("grade") if classroom else None
    students = await roster_store.students(uow, district_id, student_ids)
    school = await roster_store.get_school(uow, district_id, doc["school_id"])
    timezone = (school or {}).get("timezone") or config.default_timezone
    meeting_day = local_date(doc["starts_at"], timezone)
    skill = await _skill(uow, district_id, doc["skill_code"])
    benchmark = skill.benchmark(grade, season_of(meeting_day.month)) if skill else None
    previous = await store.previous_report(
        uow,
        district_id,
        classroom_id=doc["classroom_id"],
        skill_code=doc["skill_code"],
        before=doc["starts_at"],
    )
    previous_entries = [_entry(e) for e in (previous or {}).get("entries", [])]
    entries = _numbered(doc, student_ids, previous_entries, first=first)
    latest = await results_store.latest_scores(
        uow, district_id, student_ids, doc["skill_code"], on_or_before=meeting_day
    )
    before_scores = {e.student_id: e.score for e in previous_entries}
    old = {e["student_id"]: _entry(e) for e in doc["entries"]}
    entries = [
        with_scores(
            e,
            latest=latest.get(e.student_id),
            previous_score=before_scores.get(e.student_id),
            guardian_ids=students.get(e.student_id, {}).get("guardian_ids", []),
        )
        for e in entries
    ]
    district = await roster_store.district_settings(uow, district_id)
    min_group = int(district.get("min_report_group_size", config.min_report_group_size))
    result = figures(
        entries,
        benchmark=benchmark,
        higher_is_better=skill.higher_is_better if skill else True,
        min_group_size=min_group,
    )
    for entry in entries:
        before = old.get(entry.student_id)
        if (
            before is None
            or before.number != entry.number
            or before.guardian_ids != entry.guardian_ids
        ):
            uow.publish(
                PrivateNumberAssigned(
                    district_id=district_id,
                    report_id=doc["report_id"],
                    meeting_id=doc["meeting_id"],
                    classroom_id=doc["classroom_id"],
                    student_id=entry.student_id,
                    guardian_ids=list(entry.guardian_ids),
                    number=entry.number,
                )
            )
    published = ClassReportPublished(
        district_id=district_id,
        report_id=doc["report_id"],
        meeting_id=doc["meeting_id"],
        classroom_id=doc["classroom_id"],
        school_id=doc["school_id"],
        skill_code=doc["skill_code"],
        benchmark=result.benchmark,
        student_count=result.student_count,
        scored_count=result.scored_count,
        suppressed=result.suppressed,
        suppressed_reason=result.suppressed_reason,
        bands=result.bands,
        previous_report_id=previous["report_id"] if previous else None,
        compared_count=None if result.suppressed else result.compared_count,
        median_growth=result.median_growth,
    )
    if published.model_dump(mode="json") != doc.get("published"):
        uow.publish(published)
    doc.update(
        entries=[_entry_doc(e) for e in entries],
        used_numbers=sorted({*doc["used_numbers"], *(e.number for e in entries)}),
        grade=grade,
        timezone=timezone,
        meeting_day=meeting_day.isoformat(),
        season=season_of(meeting_day.month),
        higher_is_better=skill.higher_is_better if skill else True,
        skill_known=skill is not None,
        previous_report_id=previous["report_id"] if previous else None,
        min_group_size=min_group,
        figures=_figures_doc(result),
        published=published.model_dump(mode="json"),
        refreshed_at=utcnow(),
    )
    await store.save_report(uow, doc)


def _numbered(
    doc: Document, student_ids: list[str], previous: list[Entry], *, first: bool
) -> list[Entry]:
    """Keep the numbers already given; number newcomers; leavers' numbers are not reused."""
    if first:
        draw = draw_numbers(student_ids, previous={e.student_id: e.number for e in previous})
        return [Entry(student_id=s, number=n) for s, n in draw.items()]
    current = {e["student_id"]: _entry(e) for e in doc["entries"]}
    kept = [current[s] for s in student_ids if s in current]
    newcomers = [s for s in student_ids if s not in current]
    added = number_newcomers(doc["used_numbers"], newcomers)
    return kept + [Entry(student_id=s, number=n) for s, n in added.items()]


async def _skill(uow: UnitOfWork, district_id: str, code: str) -> Skill | None:
    return BUILT_IN_SKILLS.get(code) or await results_store.get_skill(uow, district_id, code)


def _entry(doc: dict[str, Any]) -> Entry:
    assessed = doc.get("assessed_on")
    return Entry(
        student_id=doc["student_id"],
        number=doc["number"],
        guardian_ids=tuple(doc.get("guardian_ids", ())),
        score=doc.get("score"),
        assessed_on=date.fromisoformat(assessed) if assessed else None,
        previous_score=doc.get("previous_score"),
    )


def _entry_doc(entry: Entry) -> dict[str, Any]:
    return {
        "student_id": entry.student_id,
        "number": entry.number,
        "guardian_ids": list(entry.guardian_ids),
        "score": entry.score,
        "assessed_on": entry.assessed_on.isoformat() if entry.assessed_on else None,
        "previous_score": entry.previous_score,
    }


def _figures_doc(result: Figures) -> dict[str, Any]:
    data = asdict(result)
    data["bars"] = list(data["bars"])
    return data
