"""School and district settings: what OneRoster does not carry (a school's time zone and
language) and what a district decides for its class reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    # Where a roster's phone numbers without +country are read (ISO 3166 region).
    phone_region: str


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


async def phone_region(uow: UnitOfWork, district_id: str, config: Config) -> str:
    """Where a roster's phone numbers without +country are read: the district's setting, or
    the service's default (docs/decisions/0206)."""
    region: str = (await store.district_settings(uow, district_id)).get("phone_region") or (
        config.phone_region
    )
    return region


async def district_settings(uow: UnitOfWork, *, district_id: str) -> DistrictSettings:
    doc = await store.district_settings(uow, district_id)
    config = uow.config_as(Config)
    return DistrictSettings(
        min_report_group_size=doc.get("min_report_group_size", config.min_report_group_size),
        phone_region=await phone_region(uow, district_id, config),
    )


async def update_district_settings(
    uow: UnitOfWork, *, district_id: str, values: Mapping[str, Any]
) -> DistrictSettings:
    """A new minimum applies to every report of a meeting still ahead; a new phone region to
    the roster imports that follow."""
    await store.set_district_settings(uow, district_id, values)
    if "min_report_group_size" in values:
        await report_cases.refresh_district(
            uow, district_id=district_id, config=uow.config_as(Config)
        )
    return await district_settings(uow, district_id=district_id)
