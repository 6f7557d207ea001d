"""What the data service's routes share beyond the platform's dependencies: its config,
the callers who may read a student's data, ids in paths and import jobs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aptt_contracts.bounds import SCHOOL_YEAR_PATTERN
from aptt_platform import schoolyear
from aptt_platform.auth import Principal, require_roles
from aptt_platform.deps import config_dependency
from aptt_platform.web import PROBLEM_JSON
from fastapi import Depends, Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from aptt_data.settings import Config

ConfigDep = Annotated[Config, Depends(config_dependency(Config))]
# A student's data is for their guardians and their staff; educators (home visits) do not
# read results.
StudentReader = Annotated[
    Principal,
    Depends(require_roles("guardian", "teacher", "school_admin", "district_admin")),
]
# Ids are OneRoster sourcedIds (at most 255 characters) or ids other services gave.
Id = Annotated[str, Path(min_length=1, max_length=255)]
# A school year in a query, e.g. 2026-2027: two consecutive years.
SchoolYear = Annotated[
    str,
    AfterValidator(schoolyear.checked),
    Query(pattern=SCHOOL_YEAR_PATTERN, max_length=9),
]


class Problem(BaseModel):
    """RFC 9457 problem details, as the platform answers every error."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str


PROBLEM_MEANINGS = {
    403: "Outside your role, schools or classrooms",
    404: "Not found in your district (or not yours to know of)",
    409: "Exists already",
    410: "Withdrawn",
    413: "Larger than APTT_MAX_UPLOAD_BYTES",
    422: "Invalid input: `errors` name each field and what is wrong (never its value)",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of a route's problem answers."""
    schema = Problem.model_json_schema()
    return {
        status: {
            "description": PROBLEM_MEANINGS[status],
            "content": {PROBLEM_JSON: {"schema": schema}},
        }
        for status in statuses
    }


OUTCOME_ANSWERS = problems(403, 404, 422)


class RejectedRow(BaseModel):
    file: str
    line: int | None
    column: str | None
    reason: str


class ImportProgress(BaseModel):
    rows_read: int = Field(description="rows of the upload read and checked so far")
    rows_applied: int = Field(description="accepted rows written so far")
    rows_rejected: int = Field(description="problems found so far (see the report)")
    entities_applied: int = Field(
        default=0, description="roster records created, changed or removed"
    )
    chunks_applied: int = Field(description="chunks committed (each its own transaction)")


class ImportError_(BaseModel):
    file: str | None
    reason: str


# `fetching`: a OneRoster REST sync reading its provider (decision 0207).
ImportStatus = Literal["queued", "fetching", "validating", "applying", "done", "failed"]
IMPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Stored and queued; follow `Location` to see progress and the report"},
    413: {"description": "Larger than APTT_MAX_UPLOAD_BYTES", "content": {PROBLEM_JSON: {}}},
    422: {
        "description": "`not-a-package`: not a zip, unsafe, too big unpacked, no usable "
        "manifest; or a bad form field",
        "content": {PROBLEM_JSON: {}},
    },
}
