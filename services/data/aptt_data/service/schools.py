"""School and district settings: what OneRoster does not carry (a school's time zone and
language) and what a district decides for its class reports."""

from __future__ import annotations

from collections.abc import Mapping

from aptt_contracts.data import SchoolUpserted
from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import NotFound
from aptt_platform.mongo import Document, UnitOfWork
from pydantic import BaseModel

from aptt_data.service import reports as report_cases
from aptt_data.settings import Config
from aptt_data.store import roster as store


class SchoolSettings(BaseModel):
    school_id: str
    name: str
    timezone: str
    language: str


class DistrictSettings(BaseModel):
    min_report_group_size: int


async def _school(uow: UnitOfWork, district_id: str, school_id: str, by: Principal) -> Document:
    school = await store.get_school(uow, district_id, school_id)
    if school is None:
        raise NotFound(f"no school {school_id}")
    if not by.may_see_school(school_id):
        raise out_of_reach(by, "school")
    return school


def _view(doc: Document) -> SchoolSettings:
    return SchoolSettings.model_validate({k: doc[k] for k in SchoolSettings.model_fields})


async def school_settings(
    uow: UnitOfWork, *, district_id: str, school_id: str, by: Principal
) -> SchoolSettings:
    return _view(await _school(uow, district_id, school_id, by))


async def update_school_settings(
    uow: UnitOfWork,
    *,
    district_id: str,
    school_id: str,
    values: Mapping[str, str],
    by: Principal,
) -> SchoolSettings:
    """Change a school's time zone or language, tell the other services, and redraw the
    school's upcoming class reports (the season depends on the local date)."""
    await _school(uow, district_id, school_id, by)
    updated = await store.set_school_settings(uow, district_id, school_id, values)
    assert updated is not None
    uow.publish(
        SchoolUpserted(
            district_id=district_id,
            school_id=school_id,
            timezone=updated["timezone"],
            language=updated["language"],
        )
    )
    await report_cases.refresh_district(
        uow, district_id=district_id, config=uow.config_as(Config), school_id=school_id
    )
    return _view(updated)


async def district_settings(uow: UnitOfWork, *, district_id: str) -> DistrictSettings:
    doc = await store.district_settings(uow, district_id)
    default = uow.config_as(Config).min_report_group_size
    return DistrictSettings(min_report_group_size=doc.get("min_report_group_size", default))


async def update_district_settings(
    uow: UnitOfWork, *, district_id: str, settings: DistrictSettings
) -> DistrictSettings:
    """A new minimum applies to every report of a meeting still ahead."""
    await store.set_district_settings(uow, district_id, settings.model_dump())
    await report_cases.refresh_district(uow, district_id=district_id, config=uow.config_as(Config))
    return await district_settings(uow, district_id=district_id)
