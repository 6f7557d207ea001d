"""Reading class reports (staff) and private numbers (a student's own guardians)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aptt_contracts.skills import BUILT_IN_SKILLS, Skill
from aptt_platform.auth import Principal
from aptt_platform.errors import DomainError, Forbidden, NotFound
from aptt_platform.mongo import Document, UnitOfWork

from aptt_data.service import access
from aptt_data.store import assessments as results_store
from aptt_data.store import reports as store
from aptt_data.store import roster as roster_store


class MeetingCancelled(DomainError):
    status = 410
    code = "meeting-cancelled"
    title = "The meeting was cancelled"


@dataclass(frozen=True)
class ReportForChart:
    report: dict[str, Any]
    skill: Skill | None
    school_language: str


async def _report(uow: UnitOfWork, principal: Principal, meeting_id: str) -> Document:
    doc = await store.get_report(uow, principal.district_id, meeting_id)
    if doc is None:
        raise NotFound(f"no class report for meeting {meeting_id} (yet)")
    if doc["status"] == "cancelled":
        raise MeetingCancelled(f"meeting {meeting_id} was cancelled; its report is withdrawn")
    return doc


async def class_report(uow: UnitOfWork, *, principal: Principal, meeting_id: str) -> dict[str, Any]:
    doc = await _report(uow, principal, meeting_id)
    await access.check_classroom_staff(uow, principal, doc)
    return report_view(doc)


async def class_report_for_chart(
    uow: UnitOfWork, *, principal: Principal, meeting_id: str, default_language: str
) -> ReportForChart:
    doc = await _report(uow, principal, meeting_id)
    await access.check_classroom_staff(uow, principal, doc)
    code = doc["skill_code"]
    skill = BUILT_IN_SKILLS.get(code) or await results_store.get_skill(
        uow, principal.district_id, code
    )
    school = await roster_store.get_school(uow, principal.district_id, doc["school_id"])
    return ReportForChart(
        report=report_view(doc),
        skill=skill,
        school_language=(school or {}).get("language") or default_language,
    )


def report_view(doc: Document) -> dict[str, Any]:
    """The report as staff and the chart see it: numbers and scores, never who."""
    fig = doc["figures"]
    return {
        "report_id": doc["report_id"],
        "meeting_id": doc["meeting_id"],
        "classroom_id": doc["classroom_id"],
        "school_id": doc["school_id"],
        "skill_code": doc["skill_code"],
        "starts_at": doc["starts_at"],
        "grade": doc.get("grade"),
        "season": doc.get("season"),
        "benchmark": fig["benchmark"],
        "suppressed": fig["suppressed"],
        "suppressed_reason": fig["suppressed_reason"],
        "min_group_size": doc.get("min_group_size"),
        "student_count": fig["student_count"],
        "scored_count": fig["scored_count"],
        "bands": fig["bands"],
        "bars": [
            {k: bar[k] for k in ("number", "score", "previous_score", "growth", "band")}
            for bar in fig["bars"]
        ],
        "growth": {
            "previous_report_id": doc.get("previous_report_id"),
            "compared_count": fig["compared_count"],
            "median": fig["median_growth"],
        },
    }


async def private_number(
    uow: UnitOfWork, *, principal: Principal, meeting_id: str, student_id: str
) -> dict[str, Any]:
    """A student's number in one meeting's chart, for that student's own guardians only.
    The read is recorded as a disclosure."""
    if not principal.is_guardian:
        raise Forbidden("a private number is for the student's own guardians only")
    student = await roster_store.get_student(uow, principal.district_id, student_id)
    if student is None or principal.subject not in student.get("guardian_ids", []):
        raise NotFound(f"no student {student_id} of yours")
    doc = await _report(uow, principal, meeting_id)
    entry = next((e for e in doc["entries"] if e["student_id"] == student_id), None)
    if entry is None:
        raise NotFound(f"student {student_id} has no number for meeting {meeting_id}")
    await store.record_disclosure(
        uow,
        district_id=principal.district_id,
        student_id=student_id,
        actor_id=principal.subject,
        actor_roles=principal.roles,
        what="private-number",
        meeting_id=meeting_id,
    )
    return {"meeting_id": meeting_id, "student_id": student_id, "number": entry["number"]}
