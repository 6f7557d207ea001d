"""OneRoster 1.2 REST sync routes: the district's provider, and sync jobs (decision 0207)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aptt_platform.deps import DistrictAdmin, Store
from aptt_platform.web import RequestModel
from fastapi import APIRouter, Path, Response
from pydantic import AnyHttpUrl, BaseModel, Field, SecretStr, field_validator

from aptt_data.api.deps import problems
from aptt_data.api.roster import RosterImport
from aptt_data.service import roster_sync

router = APIRouter(tags=["roster"])


class ProviderBody(RequestModel):
    base_url: str = Field(
        max_length=500,
        description="the rostering service's base, up to and with /ims/oneroster/rostering/v1p2",
        examples=["https://sis.example.org/ims/oneroster/rostering/v1p2"],
    )
    token_url: str = Field(
        max_length=500,
        description="where OAuth 2.0 client-credentials tokens are issued",
        examples=["https://sis.example.org/oauth/token"],
    )
    client_id: str = Field(min_length=1, max_length=255)
    client_secret: SecretStr = Field(
        min_length=1, max_length=1000, description="stored; never returned or logged"
    )

    @field_validator("base_url", "token_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        AnyHttpUrl(value)  # raises a ValueError the platform reports without the value
        return value


class Provider(BaseModel):
    """The district's provider as configured, without its secret."""

    base_url: str
    token_url: str
    client_id: str
    updated_at: datetime
    updated_by: str
    synced_from: datetime | None = Field(
        description="the next delta asks for records changed after this (none: next is bulk)"
    )
    last_sync_id: str | None


class SyncProgress(BaseModel):
    origin: Literal["on-demand", "schedule"]
    since: datetime | None = Field(description="a delta's dateLastModified filter; none: bulk")
    collection: str | None = Field(description="the collection being fetched; none: all fetched")
    offset: int = Field(description="the next offset to fetch in that collection")
    records_fetched: int
    pages_fetched: int


class RosterSync(RosterImport):
    """A sync: fetching from the provider (`sync`), then a roster import's phases; the report
    once done is a roster import's."""

    sync: SyncProgress


class SyncBody(RequestModel):
    mode: Literal["bulk", "delta"] | None = Field(
        default=None,
        description="bulk: the whole roster again (what the provider no longer has is "
        "removed); delta: what changed since the last successful sync; "
        "left out: bulk the first time, then delta",
    )


@router.put(
    "/district/oneroster-provider",
    summary="Configure the district's OneRoster 1.2 REST provider (OAuth 2.0 client credentials)",
    responses=problems(403, 422),
)
async def put_provider(body: ProviderBody, principal: DistrictAdmin, mongo: Store) -> Provider:
    view = await mongo.run(
        roster_sync.configure_provider,
        district_id=principal.district_id,
        base_url=body.base_url,
        token_url=body.token_url,
        client_id=body.client_id,
        client_secret=body.client_secret.get_secret_value(),
        by=principal,
    )
    return Provider.model_validate(view)


@router.get(
    "/district/oneroster-provider",
    summary="The district's OneRoster 1.2 REST provider, without its secret",
    responses=problems(403, 404),
)
async def get_provider(principal: DistrictAdmin, mongo: Store) -> Provider:
    view = await mongo.run(roster_sync.get_provider, district_id=principal.district_id)
    return Provider.model_validate(view)


@router.post(
    "/roster/syncs",
    status_code=202,
    summary="Sync the roster from the provider now: bulk the first time, then deltas",
    description="409 `no-provider` (none configured), `sync-running` (one is under way), "
    "`no-sync-yet` (a delta asked for before any sync succeeded).",
    responses={
        202: {"description": "Queued; follow `Location` to see progress and the report"},
        **problems(403, 409),
    },
)
async def start_sync(
    principal: DistrictAdmin, mongo: Store, response: Response, body: SyncBody | None = None
) -> RosterSync:
    job = await mongo.run(
        roster_sync.start_sync,
        district_id=principal.district_id,
        by=principal,
        origin="on-demand",
        mode=body.mode if body else None,
    )
    response.headers["Location"] = f"/v1/roster/syncs/{job['import_id']}"
    return RosterSync.model_validate(job)


@router.get(
    "/roster/syncs/{sync_id}",
    summary="A roster sync's progress, and its report once done",
    responses=problems(403, 404, 422),
)
async def get_sync(
    sync_id: Annotated[str, Path(max_length=64)], principal: DistrictAdmin, mongo: Store
) -> RosterSync:
    job = await mongo.run(roster_sync.get_sync, district_id=principal.district_id, sync_id=sync_id)
    return RosterSync.model_validate(job)
