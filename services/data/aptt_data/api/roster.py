"""Roster routes: OneRoster imports, school and district settings."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aptt_platform.deps import DistrictAdmin, RuntimeDep, SchoolAdmin, Store
from aptt_platform.errors import DomainError, NotFound
from aptt_platform.web import RequestModel
from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field, field_validator

from aptt_data.api.deps import ConfigDep, Id, RejectedRow, problems, read_upload
from aptt_data.oneroster import fields
from aptt_data.oneroster.package import PackageError, read_roster_package
from aptt_data.service import roster, schools
from aptt_data.service.schools import DistrictSettings, SchoolSettings
from aptt_data.store import ROSTER_IMPORTS
from aptt_data.store import roster as roster_store

router = APIRouter(tags=["roster"])


class Counts(BaseModel):
    created: int
    updated: int
    unchanged: int
    deleted: int


class RosterImportReport(BaseModel):
    import_id: str
    mode: Literal["bulk", "delta"]
    counts: Counts
    by_kind: dict[str, Counts]
    rejected: list[RejectedRow]
    rejected_count: int
    rejected_truncated: bool
    imported_by: str
    imported_at: datetime


@router.post(
    "/roster/imports",
    summary="Import a OneRoster 1.2 CSV package (zip), bulk or delta",
    responses={413: {"description": "Larger than APTT_MAX_UPLOAD_BYTES"}},
)
async def import_roster(
    principal: DistrictAdmin,
    runtime: RuntimeDep,
    config: ConfigDep,
    file: Annotated[UploadFile, File(description="zip with manifest.csv and the CSV files")],
    mode: Annotated[Literal["bulk", "delta"], Form()] = "bulk",
) -> RosterImportReport:
    data = await read_upload(file, config.max_upload_bytes)
    try:
        upload = await asyncio.to_thread(
            read_roster_package,
            data,
            mode=mode,
            phone_region=config.phone_region,
            max_unzipped_bytes=config.max_unzipped_bytes,
        )
    except PackageError as exc:
        name = exc.file or file.filename or "upload"
        raise DomainError(
            exc.reason,
            code="not-a-package",
            rejected=[{"file": name, "line": None, "column": None, "reason": exc.reason}],
        ) from exc
    report = await runtime.mongo.run(
        roster.import_roster,
        district_id=principal.district_id,
        upload=upload,
        by=principal,
        today=datetime.now(UTC).date(),
        config=config,
    )
    runtime.wake_relay()
    return RosterImportReport.model_validate(report)


@router.get("/roster/imports/{import_id}", summary="The report of an earlier roster import")
async def roster_import(
    import_id: str, principal: DistrictAdmin, runtime: RuntimeDep
) -> RosterImportReport:
    doc = await runtime.mongo.run(
        roster_store.get_import, ROSTER_IMPORTS, principal.district_id, import_id
    )
    if doc is None:
        raise NotFound(f"no roster import {import_id}")
    return RosterImportReport.model_validate(doc)


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


@router.get(
    "/district/settings",
    summary="The district's settings for class reports",
    responses=problems(403),
)
async def get_district_settings(principal: DistrictAdmin, mongo: Store) -> DistrictSettings:
    return await mongo.run(schools.district_settings, district_id=principal.district_id)


@router.put(
    "/district/settings",
    summary="Change the district's settings for class reports",
    responses=problems(403, 422),
)
async def put_district_settings(
    body: DistrictSettingsBody, principal: DistrictAdmin, mongo: Store
) -> DistrictSettings:
    return await mongo.run(
        schools.update_district_settings,
        district_id=principal.district_id,
        settings=DistrictSettings(min_report_group_size=body.min_report_group_size),
    )
