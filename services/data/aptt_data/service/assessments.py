"""Assessment results: import them (a CSV or OneRoster gradebook files)."""

from __future__ import annotations

import uuid
from datetime import date

from aptt_contracts.data import AssessmentResultRecorded
from aptt_platform.auth import Principal
from aptt_platform.mongo import Document, UnitOfWork

from aptt_data.domain.assessments import ResultRows, check_results, result_id
from aptt_data.domain.skills import catalogue
from aptt_data.service import Config, stored_now
from aptt_data.service import reports as report_cases
from aptt_data.store import ASSESSMENT_IMPORTS
from aptt_data.store import assessments as store
from aptt_data.store import roster as roster_store


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
