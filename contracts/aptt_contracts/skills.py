"""The built-in skill catalogue: reference data every service agrees on by skill code.

Benchmarks are grade-level targets per season on the skill's own scale; districts may define
more skills (published as `org.aptt.data.skill.defined.v1`). Oral reading fluency benchmarks
are the 50th percentiles of Hasbrouck & Tindal (2017); math fact fluency benchmarks are
common district defaults. `weekly_growth` is a typical week's gain, which the SMART check
uses to judge whether a target is realistic in the time given.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aptt_contracts.bounds import MAX_LANGUAGES, Label, LanguageTag

Season = Literal["fall", "winter", "spring"]
SEASONS: tuple[Season, ...] = ("fall", "winter", "spring")


class GradeBenchmark(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    grade: int = Field(ge=0, le=12)
    fall: float | None
    winter: float | None
    spring: float | None
    weekly_growth: float = Field(gt=0)

    def for_season(self, season: Season) -> float | None:
        value: float | None = getattr(self, season)
        return value


class Skill(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$")
    name: dict[LanguageTag, Label] = Field(
        max_length=MAX_LANGUAGES, description="display name by BCP 47 language"
    )
    unit: dict[LanguageTag, Label] = Field(
        max_length=MAX_LANGUAGES, description="unit of the scale by language"
    )
    scale_min: float = 0
    scale_max: float
    higher_is_better: bool = True
    benchmarks: tuple[GradeBenchmark, ...]

    def benchmark(self, grade: int | None, season: Season) -> float | None:
        for row in self.benchmarks:
            if row.grade == grade:
                return row.for_season(season)
        return None

    def weekly_growth(self, grade: int | None) -> float | None:
        for row in self.benchmarks:
            if row.grade == grade:
                return row.weekly_growth
        return None


ORAL_READING_FLUENCY = Skill(
    code="orf",
    name={"en": "Oral reading fluency", "es": "Fluidez en la lectura oral"},
    unit={"en": "words correct per minute", "es": "palabras correctas por minuto"},
    scale_max=250,
    benchmarks=(
        GradeBenchmark(grade=1, fall=None, winter=29, spring=60, weekly_growth=1.9),
        GradeBenchmark(grade=2, fall=50, winter=84, spring=100, weekly_growth=1.5),
        GradeBenchmark(grade=3, fall=83, winter=97, spring=112, weekly_growth=1.1),
        GradeBenchmark(grade=4, fall=94, winter=120, spring=133, weekly_growth=1.0),
        GradeBenchmark(grade=5, fall=121, winter=133, spring=146, weekly_growth=0.8),
    ),
)

MATH_FACT_FLUENCY = Skill(
    code="math-facts",
    name={"en": "Math fact fluency", "es": "Fluidez en operaciones matemáticas"},
    unit={"en": "facts per minute", "es": "operaciones por minuto"},
    scale_max=120,
    benchmarks=(
        GradeBenchmark(grade=1, fall=10, winter=15, spring=20, weekly_growth=0.5),
        GradeBenchmark(grade=2, fall=20, winter=25, spring=30, weekly_growth=0.5),
        GradeBenchmark(grade=3, fall=25, winter=30, spring=40, weekly_growth=0.6),
        GradeBenchmark(grade=4, fall=30, winter=35, spring=40, weekly_growth=0.5),
        GradeBenchmark(grade=5, fall=35, winter=40, spring=45, weekly_growth=0.5),
    ),
)

BUILT_IN_SKILLS: dict[str, Skill] = {s.code: s for s in (ORAL_READING_FLUENCY, MATH_FACT_FLUENCY)}


Band = Literal["well_below", "below", "at", "above"]
BANDS: tuple[Band, ...] = ("well_below", "below", "at", "above")
WELL_BELOW_RATIO = 0.8
ABOVE_RATIO = 1.1


def band_of(score: float, benchmark: float, *, higher_is_better: bool = True) -> Band:
    """A score's performance band against its grade benchmark: the one rule of every service
    (class reports in data, home-visit coverage in scheduling)."""
    if higher_is_better:
        ratio = score / benchmark
    else:
        ratio = benchmark / score if score > 0 else float("inf")
    if ratio < WELL_BELOW_RATIO:
        return "well_below"
    if ratio < 1:
        return "below"
    if ratio < ABOVE_RATIO:
        return "at"
    return "above"


def season_of(month: int) -> Season:
    """School-year seasons of the benchmark windows: Aug-Nov fall, Dec-Feb winter, else spring."""
    if month in (8, 9, 10, 11):
        return "fall"
    if month in (12, 1, 2):
        return "winter"
    return "spring"
