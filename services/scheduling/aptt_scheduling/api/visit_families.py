"""The families a pair may propose a visit to, from its own page (decision 0326): ids and
answer times only, never scores, attendance or addresses."""

from __future__ import annotations

from datetime import datetime

from aptt_platform.deps import Educator, Now, Store
from aptt_platform.web import problems
from fastapi import APIRouter
from pydantic import BaseModel, Field

from aptt_scheduling.api.schemas import PathId, SchoolYearQuery
from aptt_scheduling.service import visit_families as service

router = APIRouter(tags=["home visits"])


class FamilyToVisitOut(BaseModel):
    invitation_id: str
    student_id: str
    classroom_id: str
    guardian_id: str = Field(
        description="The guardian who said yes: the visit is arranged with them"
    )
    answered_at: datetime


class FamiliesToVisitOut(BaseModel):
    families: list[FamilyToVisitOut] = Field(
        description="Families who said yes this school year, with no visit pending and "
        "fewer than two done"
    )
    partners: list[str] = Field(
        description="The other educators of the school opted in and trained: a pair's partner"
    )
    timezone: str = Field(description="The school's time zone, to read proposed times in")


@router.get(
    "/schools/{school_id}/visit-families",
    summary="Families who said yes and wait for a visit, and the educators to pair with "
    "(an opted-in, trained educator of the school, or its coordinators)",
    responses=problems(403, 404),
)
async def families_to_visit(
    school_id: PathId, principal: Educator, mongo: Store, now: Now, school_year: SchoolYearQuery
) -> FamiliesToVisitOut:
    found = await mongo.run(
        service.families_to_visit,
        principal=principal,
        school_id=school_id,
        school_year=school_year,
        now=now,
    )
    return FamiliesToVisitOut(
        families=[
            FamilyToVisitOut(
                invitation_id=i.invitation_id,
                student_id=i.student_id,
                classroom_id=i.classroom_id,
                guardian_id=i.answered_by or "",
                answered_at=i.answered_at or now,
            )
            for i in found.families
        ],
        partners=[e.educator_id for e in found.partners],
        timezone=found.timezone,
    )
