"""Skills as the goals domain needs them: a scale, a direction and a typical weekly growth."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aptt_contracts.data import SkillDefined
from aptt_contracts.skills import BUILT_IN_SKILLS, Skill


@dataclass(frozen=True)
class SkillScale:
    code: str
    name: Mapping[str, str]
    unit: Mapping[str, str]
    scale_min: float
    scale_max: float
    higher_is_better: bool
    growth_by_grade: Mapping[int, float]

    def weekly_growth(self, grade: int | None) -> float | None:
        """Typical growth a week for the grade; the nearest grade's when the grade has none.

        A student whose grade is unknown is judged by the lowest grade's growth, the most
        cautious figure, rather than not at all.
        """
        if not self.growth_by_grade:
            return None
        if grade is None:
            return self.growth_by_grade[min(self.growth_by_grade)]
        if grade in self.growth_by_grade:
            return self.growth_by_grade[grade]
        nearest = min(self.growth_by_grade, key=lambda g: (abs(g - grade), g))
        return self.growth_by_grade[nearest]

    def on_scale(self, score: float) -> bool:
        return self.scale_min <= score <= self.scale_max

    @classmethod
    def from_skill(cls, skill: Skill) -> SkillScale:
        return cls(
            code=skill.code,
            name=dict(skill.name),
            unit=dict(skill.unit),
            scale_min=skill.scale_min,
            scale_max=skill.scale_max,
            higher_is_better=skill.higher_is_better,
            growth_by_grade={b.grade: b.weekly_growth for b in skill.benchmarks},
        )

    @classmethod
    def from_defined(cls, event: SkillDefined) -> SkillScale:
        return cls(
            code=event.skill_code,
            name=dict(event.name),
            unit=dict(event.unit),
            scale_min=event.scale_min,
            scale_max=event.scale_max,
            higher_is_better=event.higher_is_better,
            growth_by_grade={b.grade: b.weekly_growth for b in event.benchmarks},
        )


BUILT_IN_SCALES: dict[str, SkillScale] = {
    code: SkillScale.from_skill(skill) for code, skill in BUILT_IN_SKILLS.items()
}
