"""Roster routes: OneRoster imports, school and district settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from aptt_platform.deps import DistrictAdmin, RuntimeDep, SchoolAdmin, Store
from aptt_platform.web import RequestModel
from fastapi import APIRouter, File, Form, Path, Response, UploadFile
from pydantic import BaseModel, Field, field_validator

from aptt_data.api.deps import (
    IMPORT_RESPONSES,
    ConfigDep,
    Id,
    ImportError_,
    ImportProgress,
    ImportStatus,
    RejectedRow,
    problems,
)
from aptt_data.oneroster import fields
from aptt_data.service import imports, schools
from aptt_data.service.schools import DistrictSettings, SchoolSettings

router = APIRouter(tags=["roster"])


class Counts(BaseModel):
    created: int
    updated: int
    unchanged: int
    deleted: int


class RosterImport(BaseModel):
    """A roster import: its state and progress; once done, the report (the fields from
    `counts` on, as a roster import always answered)."""

    import_id: str
    status: ImportStatus
    phase: str | None
    mode: Literal["bulk", "delta"]
    progress: ImportProgress
    imported_by: str
    imported_at: datetime
    error: ImportError_ | None = None
    counts: Counts | None = None
    by_kind: dict[str, Counts] | None = None
    rejected: list[RejectedRow] | None = None
    rejected_count: int | None = None
    rejected_truncated: bool | None = None
    warnings: list[RejectedRow] | None = Field(
        default=None,
        description="values read more leniently than the binding writes them (TRUE for "
        "true, a phone without +country) or left out (a contact that cannot be read); "
        "the rows themselves were imported",
    )
    warnings_count: int | None = None
    warnings_truncated: bool | None = None


@router.post(
    "/roster/imports",
    status_code=202,
    summary="Import a OneRoster 1.1 or 1.2 CSV package (zip), bulk or delta, as a job",
    responses=IMPORT_RESPONSES,
)
async def import_roster(
    principal: DistrictAdmin,
    runtime: RuntimeDep,
    config: ConfigDep,
    response: Response,
    file: Annotated[UploadFile, File(description="zip with manifest.csv and the CSV files")],
    mode: Annotated[Literal["bulk", "delta"], Form()] = "bulk",
) -> RosterImport:
    job = await imports.post_import(
        runtime.mongo,
        kind="roster",
        source=file.file,
        name=file.filename or "roster.zip",
        mode=mode,
        by=principal,
        config=config,
    )
    response.headers["Location"] = f"/v1/roster/imports/{job['import_id']}"
    return RosterImport.model_validate(job)


@router.get(
    "/roster/imports/{import_id}",
    summary="A roster import's progress, and its report once done",
    responses=problems(403, 404, 422),
)
async def roster_import(
    import_id: Annotated[str, Path(max_length=64)], principal: DistrictAdmin, mongo: Store
) -> RosterImport:
    job = await mongo.run(
        imports.get_import,
        district_id=principal.district_id,
        import_id=import_id,
        kind="roster",
        by=principal,
    )
    return RosterImport.model_validate(job)


class SchoolSettingsBody(RequestModel):
    timezone: str | None = Field(default=None, max_length=64, examples=["America/Los_Angeles"])
    language: str | None = Field(default=None, max_length=35, examples=["en"])

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("not an IANA time zone, e.g. America/Los_Angeles") from exc
        return value

    @field_validator("language")
    @classmethod
    def _bcp47(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return fields.language(value)
        except fields.BadValue as exc:
            raise ValueError(str(exc)) from exc


@router.get(
    "/schools/{school_id}/settings",
    summary="A school's time zone and language",
    responses=problems(403, 404, 422),
)
async def get_school_settings(
    school_id: Id, principal: SchoolAdmin, mongo: Store
) -> SchoolSettings:
    return await mongo.run(
        schools.school_settings,
        district_id=principal.district_id,
        school_id=school_id,
        by=principal,
    )


@router.put(
    "/schools/{school_id}/settings",
    summary="Set a school's time zone and language (OneRoster does not carry them)",
    responses=problems(403, 404, 422),
)
async def put_school_settings(
    school_id: Id, body: SchoolSettingsBody, principal: SchoolAdmin, mongo: Store
) -> SchoolSettings:
    return await mongo.run(
        schools.update_school_settings,
        district_id=principal.district_id,
        school_id=school_id,
        values=body.model_dump(exclude_none=True),
        by=principal,
    )


class DistrictSettingsBody(RequestModel):
    min_report_group_size: int = Field(
        ge=2, le=100, description="a class report with fewer scored students shows no chart"
    )
    phone_region: str | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        examples=["US"],
        description="ISO 3166 region in which a roster's phone numbers without +country are "
        "read; left out, it stays as it was (at first the service's APTT_PHONE_REGION)",
    )

    @field_validator("phone_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError("not a region phone numbers are known for, e.g. US, CA, MX")
        return value.upper()


@router.get(
    "/district/settings",
    summary="The district's settings for class reports and roster imports",
    responses=problems(403),
)
async def get_district_settings(principal: DistrictAdmin, mongo: Store) -> DistrictSettings:
    return await mongo.run(schools.district_settings, district_id=principal.district_id)


@router.put(
    "/district/settings",
    summary="Change the district's settings for class reports and roster imports",
    responses=problems(403, 422),
)
async def put_district_settings(
    body: DistrictSettingsBody, principal: DistrictAdmin, mongo: Store
) -> DistrictSettings:
    return await mongo.run(
        schools.update_district_settings,
        district_id=principal.district_id,
        values=body.model_dump(exclude_none=True),
    )
