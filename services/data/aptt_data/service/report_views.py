"""Reading class reports (staff) and private numbers (a student's own guardians)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from aptt_contracts.skills import BUILT_IN_SKILLS
from aptt_platform.auth import Principal
from aptt_platform.errors import DomainError, NotFound
from aptt_platform.mongo import Document, UnitOfWork
from pydantic import BaseModel

from aptt_data.domain.skills import display
from aptt_data.service import access
from aptt_data.settings import Config
from aptt_data.store import assessments as results_store
from aptt_data.store import reports as store
from aptt_data.store import roster as roster_store

BandName = Literal["well_below", "below", "at", "above"]


class MeetingCancelled(DomainError):
    status = 410
    code = "meeting-cancelled"
    title = "The meeting was cancelled"


class ReportBar(BaseModel):
    number: int
    score: float | None
    previous_score: float | None
    growth: float | None
    band: BandName | None


class Growth(BaseModel):
    previous_report_id: str | None
    compared_count: int
    median: float | None


class ClassReport(BaseModel):
    """The report as staff and the chart see it: numbers and scores, never who."""

    report_id: str
    meeting_id: str
    classroom_id: str
    school_id: str
    skill_code: str
    starts_at: datetime
    grade: int | None
    season: str | None
    benchmark: float | None
    suppressed: bool
    suppressed_reason: str | None
    min_group_size: int | None
    student_count: int
    scored_count: int
    bands: dict[BandName, int]
    bars: list[ReportBar]
    growth: Growth


class PrivateNumber(BaseModel):
    meeting_id: str
    student_id: str
    number: int


@dataclass(frozen=True)
class ReportForChart:
    report: ClassReport
    skill_name: str
    unit: str
    # The BCP 47 tag the chart is asked in: `?lang=`, else the school's language.
    language: str


async def _report(uow: UnitOfWork, principal: Principal, meeting_id: str) -> Document:
    doc = await store.get_report(uow, principal.district_id, meeting_id)
    if doc is None:
        raise NotFound(f"no class report for meeting {meeting_id} (yet)")
    if doc["status"] == "cancelled":
        raise MeetingCancelled(f"meeting {meeting_id} was cancelled; its report is withdrawn")
    return doc


async def class_report(uow: UnitOfWork, *, principal: Principal, meeting_id: str) -> ClassReport:
    doc = await _report(uow, principal, meeting_id)
    await access.check_report_reader(uow, principal, doc)
    return report_view(doc)


async def class_report_for_chart(
    uow: UnitOfWork, *, principal: Principal, meeting_id: str, language: str | None
) -> ReportForChart:
    """The report with the skill's words, in `language` or else the school's language."""
    doc = await _report(uow, principal, meeting_id)
    await access.check_report_reader(uow, principal, doc)
    code = doc["skill_code"]
    skill = BUILT_IN_SKILLS.get(code) or await results_store.get_skill(
        uow, principal.district_id, code
    )
    if language is None:
        school = await roster_store.get_school(uow, principal.district_id, doc["school_id"])
        language = (school or {}).get("language") or uow.config_as(Config).default_language
    skill_name, unit = display(skill, language) if skill else (code, "")
    return ReportForChart(
        report=report_view(doc), skill_name=skill_name, unit=unit, language=language
    )


def report_view(doc: Document) -> ClassReport:
    fig = doc["figures"]
    return ClassReport(
        report_id=doc["report_id"],
        meeting_id=doc["meeting_id"],
        classroom_id=doc["classroom_id"],
        school_id=doc["school_id"],
        skill_code=doc["skill_code"],
        starts_at=doc["starts_at"],
        grade=doc.get("grade"),
        season=doc.get("season"),
        benchmark=fig["benchmark"],
        suppressed=fig["suppressed"],
        suppressed_reason=fig["suppressed_reason"],
        min_group_size=doc.get("min_group_size"),
        student_count=fig["student_count"],
        scored_count=fig["scored_count"],
        bands=fig["bands"],
        bars=[ReportBar.model_validate(bar) for bar in fig["bars"]],
        growth=Growth(
            previous_report_id=doc.get("previous_report_id"),
            compared_count=fig["compared_count"],
            median=fig["median_growth"],
        ),
    )


async def private_number(
    uow: UnitOfWork, *, principal: Principal, meeting_id: str, student_id: str
) -> PrivateNumber:
    """A student's number in one meeting's chart, for that student's own guardians only.
    The read is recorded as a disclosure."""
    await access.guardian_of(uow, principal, student_id)
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
    return PrivateNumber(meeting_id=meeting_id, student_id=student_id, number=entry["number"])
