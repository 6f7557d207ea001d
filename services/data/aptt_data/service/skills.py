"""Skills: the built-in catalogue plus a district's own, defined and changed by its admins."""

from __future__ import annotations

from aptt_contracts.data import SkillDefined
from aptt_contracts.skills import BUILT_IN_SKILLS, GradeBenchmark, Skill
from aptt_platform.errors import Conflict, DomainError, NotFound
from aptt_platform.mongo import UnitOfWork
from pydantic import BaseModel

from aptt_data.domain.skills import catalogue, skill_problems
from aptt_data.service import reports as report_cases
from aptt_data.settings import Config
from aptt_data.store import assessments as store


class SkillView(BaseModel):
    code: str
    name: dict[str, str]
    unit: dict[str, str]
    scale_min: float
    scale_max: float
    higher_is_better: bool
    benchmarks: list[GradeBenchmark]
    built_in: bool

    @classmethod
    def of(cls, skill: Skill) -> SkillView:
        return cls.model_validate({**skill.model_dump(), "built_in": skill.code in BUILT_IN_SKILLS})


async def list_skills(uow: UnitOfWork, *, district_id: str) -> list[SkillView]:
    """Every skill the district can use, built-in first."""
    custom = await store.custom_skills(uow, district_id)
    return [SkillView.of(skill) for skill in catalogue(custom).values()]


async def define_skill(
    uow: UnitOfWork, *, district_id: str, skill: Skill, replace: bool
) -> SkillView:
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
    await report_cases.refresh_district(uow, district_id=district_id, config=uow.config_as(Config))
    return SkillView.of(skill)
