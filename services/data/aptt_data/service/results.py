"""A student's assessment results, and the record of who read them (FERPA)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from aptt_contracts.skills import season_of
from aptt_platform.auth import Principal
from aptt_platform.errors import Forbidden
from aptt_platform.mongo import UnitOfWork
from pydantic import BaseModel

from aptt_data.domain.reports import band_of
from aptt_data.domain.skills import catalogue
from aptt_data.service import access
from aptt_data.store import assessments as store
from aptt_data.store import reports as reports_store


class Result(BaseModel):
    result_id: str
    skill_code: str
    score: float
    assessed_on: str
    benchmark: float | None
    band: Literal["well_below", "below", "at", "above"] | None


class StudentResults(BaseModel):
    student_id: str
    items: list[Result]
    next_cursor: str | None


class Disclosure(BaseModel):
    student_id: str
    actor_id: str
    actor_roles: list[str]
    what: str
    meeting_id: str | None
    at: datetime


class Disclosures(BaseModel):
    student_id: str
    items: list[Disclosure]


async def student_results(
    uow: UnitOfWork,
    *,
    principal: Principal,
    student_id: str,
    skill_code: str | None,
    limit: int,
    cursor: str | None,
) -> StudentResults:
    """A student's results, newest first, each with its grade benchmark and band.
    Every read is recorded as a disclosure."""
    student = await access.student_for(uow, principal, student_id)
    district_id = principal.district_id
    docs = await store.student_results(
        uow, district_id, student_id, skill_code=skill_code, limit=limit, before=cursor
    )
    skills = catalogue(await store.custom_skills(uow, district_id))
    items = []
    for doc in docs:
        day = date.fromisoformat(doc["assessed_on"])
        skill = skills.get(doc["skill_code"])
        benchmark = skill.benchmark(student.get("grade"), season_of(day.month)) if skill else None
        band = None
        if skill is not None and benchmark:
            band = band_of(doc["score"], benchmark, higher_is_better=skill.higher_is_better)
        items.append(
            Result(
                result_id=doc["result_id"],
                skill_code=doc["skill_code"],
                score=doc["score"],
                assessed_on=doc["assessed_on"],
                benchmark=benchmark,
                band=band,
            )
        )
    await reports_store.record_disclosure(
        uow,
        district_id=district_id,
        student_id=student_id,
        actor_id=principal.subject,
        actor_roles=principal.roles,
        what="assessment-results",
    )
    last = docs[-1] if len(docs) == limit else None
    return StudentResults(
        student_id=student_id,
        items=items,
        next_cursor=f"{last['assessed_on']}|{last['skill_code']}" if last else None,
    )


async def disclosures(
    uow: UnitOfWork, *, principal: Principal, student_id: str, limit: int
) -> Disclosures:
    """The record of who saw a student's data: for the family and for administrators."""
    if not principal.has_any("guardian", "district_admin", "school_admin"):
        raise Forbidden("the record of disclosures is for the family and administrators")
    await access.student_for(uow, principal, student_id)
    docs = await reports_store.disclosures(
        uow, principal.district_id, student_id, limit=limit, before=None
    )
    return Disclosures(student_id=student_id, items=[Disclosure.model_validate(d) for d in docs])
