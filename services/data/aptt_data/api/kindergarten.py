"""Countdown to kindergarten: incoming families, one at a time or as a CSV upload.

The CSV is small (a school's incoming class), so its upload is answered at once with its
validation report, not run as an import job (docs/decisions/0220): at most
`MAX_CSV_BYTES` and `MAX_CSV_ROWS`.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated

from aptt_platform.deps import Now, SchoolAdmin, Store
from aptt_platform.errors import DomainError
from aptt_platform.web import Cursor, Limit, Page, RequestModel
from fastapi import APIRouter, File, Query, Response, UploadFile
from pydantic import BaseModel, Field

from aptt_data.api.deps import ConfigDep, Id, RejectedRow, problems
from aptt_data.domain import kindergarten as rules
from aptt_data.domain.kindergarten import IncomingFamily
from aptt_data.service import kindergarten as service
from aptt_data.service import schools
from aptt_data.service.imports import too_large

router = APIRouter(tags=["kindergarten"])
MAX_CSV_BYTES = 1024 * 1024
MAX_CSV_ROWS = 5000


class GuardianBody(RequestModel):
    name: str | None = Field(default=None, max_length=rules.MAX_NAME)
    phone: str | None = Field(default=None, max_length=40, examples=["+15105550100"])
    email: str | None = Field(default=None, max_length=254)
    language: str = Field(max_length=35, examples=["so"])


class FamilyBody(RequestModel):
    school_id: str = Field(min_length=1, max_length=255, description="the school of interest")
    child_first_name: str = Field(min_length=1, max_length=rules.MAX_NAME)
    birth_date: date
    guardians: list[GuardianBody] = Field(min_length=1, max_length=2)


class NewFamilyBody(FamilyBody):
    family_id: str = Field(
        min_length=1, max_length=255, description="the district's own reference for the family"
    )


class GuardianView(BaseModel):
    name: str | None
    phone: str | None
    email: str | None
    language: str


class FamilyView(BaseModel):
    family_id: str
    school_id: str
    child_first_name: str
    birth_date: date
    guardians: list[GuardianView]


class UploadCounts(BaseModel):
    created: int
    updated: int
    unchanged: int


class UploadReport(BaseModel):
    """Like a roster import's report: counts of what was kept, and every refused row."""

    counts: UploadCounts
    rejected: list[RejectedRow]
    rejected_count: int


def _checked(family_id: str, body: FamilyBody, *, today: date, phone_region: str) -> IncomingFamily:
    """The body through the same rules as a CSV row, so both ways refuse the same things."""
    row = {
        "family_id": family_id,
        "school_id": body.school_id,
        "child_first_name": body.child_first_name,
        "birth_date": body.birth_date.isoformat(),
    }
    for n, guardian in enumerate(body.guardians, start=1):
        row |= {
            f"guardian{n}_name": guardian.name or "",
            f"guardian{n}_phone": guardian.phone or "",
            f"guardian{n}_email": guardian.email or "",
            f"guardian{n}_language": guardian.language,
        }
    family, found = rules.check_family(row, today=today, phone_region=phone_region)
    if family is None:
        errors = [{"loc": ["body", column], "msg": reason} for column, reason in found]
        raise DomainError("the family has invalid fields", code="invalid-family", errors=errors)
    return family


def _view(family: IncomingFamily) -> FamilyView:
    return FamilyView(
        family_id=family.family_id,
        school_id=family.school_id,
        child_first_name=family.child_first_name,
        birth_date=family.birth_date,
        guardians=[
            GuardianView(name=g.given_name, phone=g.phone, email=g.email, language=g.language)
            for g in family.guardians
        ],
    )


@router.post(
    "/kindergarten/families",
    status_code=201,
    summary="Add an incoming kindergarten family (before the SIS has the child)",
    responses=problems(403, 404, 409),
)
async def create_family(
    body: NewFamilyBody,
    principal: SchoolAdmin,
    mongo: Store,
    config: ConfigDep,
    now: Now,
    response: Response,
) -> FamilyView:
    region = await mongo.run(schools.phone_region, principal.district_id, config)
    family = _checked(body.family_id, body, today=now.date(), phone_region=region)
    saved = await mongo.run(
        service.create_family, district_id=principal.district_id, family=family, by=principal
    )
    response.headers["Location"] = f"/v1/kindergarten/families/{family.family_id}"
    return _view(saved)


@router.get(
    "/kindergarten/families",
    summary="A school's incoming kindergarten families, by reference",
    responses=problems(403, 404),
)
async def list_families(
    principal: SchoolAdmin,
    mongo: Store,
    school_id: Annotated[str, Query(min_length=1, max_length=255)],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[FamilyView]:
    families, next_cursor = await mongo.run(
        service.school_families,
        district_id=principal.district_id,
        school_id=school_id,
        by=principal,
        after=cursor,
        limit=limit,
    )
    return Page(items=[_view(f) for f in families], next_cursor=next_cursor)


@router.get(
    "/kindergarten/families/{family_id}",
    summary="One incoming kindergarten family",
    responses=problems(403, 404),
)
async def get_family(family_id: Id, principal: SchoolAdmin, mongo: Store) -> FamilyView:
    family = await mongo.run(
        service.get_family, district_id=principal.district_id, family_id=family_id, by=principal
    )
    return _view(family)


@router.put(
    "/kindergarten/families/{family_id}",
    summary="Change an incoming kindergarten family",
    responses=problems(403, 404),
)
async def update_family(
    family_id: Id,
    body: FamilyBody,
    principal: SchoolAdmin,
    mongo: Store,
    config: ConfigDep,
    now: Now,
) -> FamilyView:
    region = await mongo.run(schools.phone_region, principal.district_id, config)
    family = _checked(family_id, body, today=now.date(), phone_region=region)
    saved = await mongo.run(
        service.update_family, district_id=principal.district_id, family=family, by=principal
    )
    return _view(saved)


@router.delete(
    "/kindergarten/families/{family_id}",
    status_code=204,
    summary="Remove an incoming kindergarten family: its countdown stops",
    responses=problems(403, 404),
)
async def remove_family(family_id: Id, principal: SchoolAdmin, mongo: Store) -> Response:
    await mongo.run(
        service.remove_family, district_id=principal.district_id, family_id=family_id, by=principal
    )
    return Response(status_code=204)


def _rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError("the file is not UTF-8 text", code="not-a-csv") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in rules.REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in rules.CSV_COLUMNS]
    if missing or unknown:
        raise DomainError(
            "the header must name the kindergarten CSV's columns",
            code="bad-header",
            missing=missing,
            unknown=unknown[:20],
            columns=list(rules.CSV_COLUMNS),
        )
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    for row in reader:
        if len(rows) == MAX_CSV_ROWS:
            raise DomainError(f"at most {MAX_CSV_ROWS} families per file", code="too-many-rows")
        if any((value or "").strip() for value in row.values() if isinstance(value, str)):
            rows.append((reader.line_num, {k: v or "" for k, v in row.items() if k}))
    return rows


@router.post(
    "/kindergarten/families/uploads",
    summary="Add or change incoming families from a CSV: good rows are kept, bad rows reported",
    responses=problems(403, 413),
)
async def upload_families(
    file: Annotated[UploadFile, File(description="CSV, UTF-8, with a header row")],
    principal: SchoolAdmin,
    mongo: Store,
    config: ConfigDep,
    now: Now,
) -> UploadReport:
    data = await file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise too_large(MAX_CSV_BYTES)
    region = await mongo.run(schools.phone_region, principal.district_id, config)
    report = await mongo.run(
        service.upload_families,
        district_id=principal.district_id,
        rows=_rows(data),
        by=principal,
        today=now.date(),
        phone_region=region,
    )
    name = file.filename or "families.csv"
    return UploadReport(
        counts=UploadCounts(
            created=report.created, updated=report.updated, unchanged=report.unchanged
        ),
        rejected=[
            RejectedRow(file=name, line=line, column=column, reason=reason)
            for line, column, reason in report.rejected
        ],
        rejected_count=len(report.rejected),
    )
