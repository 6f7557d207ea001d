"""Home-visit coverage of a class or a school, and the assessment results it is read from."""

from __future__ import annotations

from dataclasses import dataclass

from aptt_contracts.data import AssessmentResultRecorded
from aptt_contracts.skills import BUILT_IN_SKILLS, Band, Skill, band_of, season_of
from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import NotFound
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.domain import visit_coverage as rules
from aptt_scheduling.domain.roster import Classroom
from aptt_scheduling.domain.visit_coverage import Funnel, Skew
from aptt_scheduling.service.access import load_class
from aptt_scheduling.service.visit_access import oversees
from aptt_scheduling.settings import Config
from aptt_scheduling.store import roster
from aptt_scheduling.store import visit_results as results
from aptt_scheduling.store import visits as store


async def record_result(
    uow: UnitOfWork, event: AssessmentResultRecorded, meta: ReceivedEvent
) -> None:
    await results.keep_latest(uow, event)


@dataclass(frozen=True)
class Coverage:
    scope: str
    scope_id: str
    school_year: str
    skill_code: str
    funnel: Funnel
    skew: Skew


async def _skill(uow: UnitOfWork, district_id: str, skill_code: str) -> Skill:
    if skill_code in BUILT_IN_SKILLS:
        return BUILT_IN_SKILLS[skill_code]
    definition = await roster.skill_definition(uow, district_id, skill_code)
    if definition is None:
        raise NotFound("the district has no such skill", code="unknown-skill")
    return Skill(code=skill_code, **definition)


async def _coverage(
    uow: UnitOfWork,
    district_id: str,
    classes: list[tuple[Classroom, frozenset[str]]],
    school_year: str,
    skill_code: str,
) -> tuple[Funnel, Skew]:
    skill = await _skill(uow, district_id, skill_code)
    grade_of = {s: c.grade for c, students in classes for s in students}
    students = sorted(grade_of)
    invitations = await store.invitations_of_students(uow, district_id, school_year, students)
    done = await store.done_by_student(uow, district_id, school_year, students)
    funnel = rules.funnel(
        students,
        {i.student_id for i in invitations},
        {i.student_id for i in invitations if i.status == "accepted"},
        done,
    )
    bands: dict[str, Band] = {}
    for student_id, doc in (await results.latest(uow, district_id, skill_code, students)).items():
        benchmark = skill.benchmark(grade_of[student_id], season_of(doc["assessed_on"].month))
        if benchmark:
            bands[student_id] = band_of(
                doc["score"], benchmark, higher_is_better=skill.higher_is_better
            )
    min_group = uow.config_as(Config).visit_coverage_min_group
    return funnel, rules.skew(bands, {s for s, n in done.items() if n}, min_group=min_group)


async def classroom_coverage(
    uow: UnitOfWork, *, principal: Principal, classroom_id: str, school_year: str, skill_code: str
) -> Coverage:
    district_id = principal.district_id
    classes = await load_class(uow, district_id, classroom_id)
    if not oversees(principal, classes.classroom.school_id):
        raise out_of_reach(principal, "classroom")
    funnel, skew = await _coverage(
        uow, district_id, [(classes.classroom, classes.student_ids)], school_year, skill_code
    )
    return Coverage("classroom", classroom_id, school_year, skill_code, funnel, skew)


async def school_coverage(
    uow: UnitOfWork, *, principal: Principal, school_id: str, school_year: str, skill_code: str
) -> Coverage:
    district_id = principal.district_id
    if not await roster.school_is_known(uow, district_id, school_id):
        raise NotFound("no such school in the roster", code="unknown-school")
    if not oversees(principal, school_id):
        raise out_of_reach(principal, "school")
    classrooms = await roster.classrooms_of_school(uow, district_id, school_id)
    wanted = sorted({s for c in classrooms for s in c.student_ids})
    current = {s.student_id for s in await roster.current_students(uow, district_id, wanted)}
    classes = [(c, frozenset(c.student_ids & current)) for c in classrooms]
    funnel, skew = await _coverage(uow, district_id, classes, school_year, skill_code)
    return Coverage("school", school_id, school_year, skill_code, funnel, skew)
