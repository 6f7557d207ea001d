"""Skills and assessment results: define skills, import results, read a student's results."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from aptt_contracts.data import AssessmentResultRecorded, SkillDefined
from aptt_contracts.skills import BUILT_IN_SKILLS, Skill, season_of
from aptt_platform.auth import Principal
from aptt_platform.errors import Conflict, DomainError, Forbidden, NotFound
from aptt_platform.mongo import Document, UnitOfWork

from aptt_data.domain.assessments import ResultRows, check_results, result_id
from aptt_data.domain.reports import band_of
from aptt_data.domain.skills import catalogue, skill_problems
from aptt_data.service import Config, access, stored_now
from aptt_data.service import reports as report_cases
from aptt_data.store import ASSESSMENT_IMPORTS
from aptt_data.store import assessments as store
from aptt_data.store import reports as reports_store
from aptt_data.store import roster as roster_store


async def list_skills(uow: UnitOfWork, *, district_id: str) -> list[tuple[Skill, bool]]:
    """Every skill the district can use, with whether it is built in."""
    custom = await store.custom_skills(uow, district_id)
    return [(skill, code in BUILT_IN_SKILLS) for code, skill in catalogue(custom).items()]


async def define_skill(
    uow: UnitOfWork, *, district_id: str, skill: Skill, replace: bool, config: Config
) -> Skill:
    """Add (or, with `replace`, change) one of the district's own skills and publish it."""
    existing = await store.custom_skills(uow, district_id)
    problems = skill_problems(skill)
    if problems:
        raise DomainError("; ".join(problems), code="invalid-skill", problems=problems)
    if replace and skill.code not in existing:
        raise NotFound(f"no skill {skill.code} of this district")
    if not replace and skill.code in existing:
        raise Conflict(f"skill {skill.code} exists; PUT /v1/skills/{skill.code} to change it")
    await store.save_skill(uow, district_id, skill)
    uow.publish(
        SkillDefined(
            district_id=district_id,
            skill_code=skill.code,
            name=skill.name,
            unit=skill.unit,
            scale_min=skill.scale_min,
            scale_max=skill.scale_max,
            higher_is_better=skill.higher_is_better,
            benchmarks=list(skill.benchmarks),
        )
    )
    await report_cases.refresh_district(uow, district_id=district_id, config=config)
    return skill


async def import_results(
    uow: UnitOfWork,
    *,
    district_id: str,
    found: ResultRows,
    by: Principal,
    today: date,
    config: Config,
) -> Document:
    """Record every acceptable row (publishing each new or corrected result) and report
    the rest; a refused row never affects another."""
    if by.is_district_admin:
        schools, scope = None, "this district's roster"
    else:
        schools, scope = sorted(by.school_ids), "your schools"
    students = await roster_store.student_schools(uow, district_id, schools)
    skills = catalogue(await store.custom_skills(uow, district_id))
    checked = check_results(found, students=students, skills=skills, today=today, scope=scope)
    existing = await store.existing_results(uow, district_id, (r.student_id for r in checked.rows))
    accepted: list[Document] = []
    unchanged = 0
    for row in checked.rows:
        day = row.assessed_on.isoformat()
        before = existing.get((row.student_id, row.skill_code, day))
        if before is not None and before["score"] == row.score:
            unchanged += 1
            continue
        doc = {
            "result_id": result_id(district_id, row.student_id, row.skill_code, row.assessed_on),
            "student_id": row.student_id,
            "school_id": students[row.student_id],
            "skill_code": row.skill_code,
            "score": row.score,
            "assessed_on": day,
        }
        accepted.append(doc)
        uow.publish(
            AssessmentResultRecorded(
                district_id=district_id,
                result_id=doc["result_id"],
                student_id=row.student_id,
                school_id=doc["school_id"],
                skill_code=row.skill_code,
                score=row.score,
                assessed_on=row.assessed_on,
            )
        )
    await store.upsert_results(uow, district_id, accepted)
    if accepted:
        rooms = await roster_store.classrooms_of_students(
            uow, district_id, {d["student_id"] for d in accepted}
        )
        await report_cases.refresh_classrooms(
            uow, district_id=district_id, classroom_ids=rooms, config=config
        )
    shown = checked.rejections[: config.max_rejections_reported]
    report = {
        "district_id": district_id,
        "import_id": str(uuid.uuid4()),
        "counts": {"accepted": len(accepted), "unchanged": unchanged},
        "rejected": [r.as_dict() for r in shown],
        "rejected_count": len(checked.rejections),
        "rejected_truncated": len(shown) < len(checked.rejections),
        "imported_by": by.subject,
        "imported_at": stored_now(),
    }
    await roster_store.insert_import(uow, ASSESSMENT_IMPORTS, report)
    report.pop("_id", None)
    return report


async def student_results(
    uow: UnitOfWork,
    *,
    principal: Principal,
    student_id: str,
    skill_code: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
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
            {
                "result_id": doc["result_id"],
                "skill_code": doc["skill_code"],
                "score": doc["score"],
                "assessed_on": doc["assessed_on"],
                "benchmark": benchmark,
                "band": band,
            }
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
    return {
        "student_id": student_id,
        "items": items,
        "next_cursor": f"{last['assessed_on']}|{last['skill_code']}" if last else None,
    }


async def disclosures(
    uow: UnitOfWork, *, principal: Principal, student_id: str, limit: int
) -> dict[str, Any]:
    """The record of who saw a student's data: for the family and for administrators."""
    if not principal.has_any("guardian", "district_admin", "school_admin"):
        raise Forbidden("the record of disclosures is for the family and administrators")
    await access.student_for(uow, principal, student_id)
    docs = await reports_store.disclosures(
        uow, principal.district_id, student_id, limit=limit, before=None
    )
    return {"student_id": student_id, "items": docs}
