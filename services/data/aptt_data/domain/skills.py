"""Skills: the built-in catalogue plus the district's own, and the rules for defining one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aptt_contracts.skills import BUILT_IN_SKILLS, Skill


def skill_problems(skill: Skill) -> list[str]:
    """Why a district's new skill cannot be defined as given (empty when it can)."""
    problems = []
    if skill.code in BUILT_IN_SKILLS:
        problems.append(f"{skill.code} is a built-in skill; choose another code")
    if skill.scale_max <= skill.scale_min:
        problems.append("scale_max must be greater than scale_min")
    if not skill.name or not skill.unit:
        problems.append("give the skill's name and unit in at least one language")
    grades = [b.grade for b in skill.benchmarks]
    if len(grades) != len(set(grades)):
        problems.append("give each grade's benchmarks once")
    for row in skill.benchmarks:
        for season in ("fall", "winter", "spring"):
            value = getattr(row, season)
            if value is not None and not skill.scale_min <= value <= skill.scale_max:
                problems.append(
                    f"the grade {row.grade} {season} benchmark {value:g} is outside the scale "
                    f"{skill.scale_min:g}-{skill.scale_max:g}"
                )
    return problems


def skill_from_document(doc: Mapping[str, Any]) -> Skill:
    return Skill.model_validate({k: doc[k] for k in Skill.model_fields if k in doc})


def catalogue(custom: Mapping[str, Skill]) -> dict[str, Skill]:
    """Every skill a district can use: built-in first, then its own."""
    return {**BUILT_IN_SKILLS, **{k: v for k, v in custom.items() if k not in BUILT_IN_SKILLS}}


def display(skill: Skill, language: str) -> tuple[str, str]:
    """The skill's name and unit in `language`, falling back to English, then any."""
    base = language.split("-")[0]

    def pick(texts: Mapping[str, str]) -> str:
        for key in (language, base, "en"):
            if key in texts:
                return texts[key]
        return next(iter(texts.values()), skill.code)

    return pick(skill.name), pick(skill.unit)
