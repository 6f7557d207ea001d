"""A local stand-in for a district's OneRoster 1.2 REST provider (the rostering service).

It serves the REST binding from a OneRoster 1.2 CSV package (as `aptt_local.oneroster.
build_package` writes it), as a SIS or rostering hub would:

- `POST /token`: OAuth 2.0 client credentials (HTTP Basic or form fields); a bearer token
  is checked on every other call;
- `GET /ims/oneroster/rostering/v1p2/<collection>` for orgs, academicSessions, courses,
  classes, users (their roles inside, as the REST binding has no roles collection) and
  enrollments, sorted by sourcedId, with `limit`/`offset`, the total in `X-Total-Count` and
  `filter=dateLastModified>'<ISO time>'`;
- `PUT /_standin/package` (tests only): a new package replaces the old one. Records that are
  new or changed get a new `dateLastModified`; records it no longer has stay, as
  `status: tobedeleted`, so a delta sees adds, changes and deletes;
- `PUT /_standin/hold` (tests only): `{"after": n}` holds every collection request after the
  next n until `{"after": null}`, to stop a client between pages.

    python -m aptt_local.oneroster_standin --port 8926 --package roster.zip
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import re
import secrets
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from fastapi import Depends, FastAPI, Form, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials

HEALTH_PATH = "/_standin/health"
ROSTERING = "/ims/oneroster/rostering/v1p2"
DEFAULT_CLIENT_ID = "aptt-local-client"
DEFAULT_CLIENT_SECRET = "aptt-local-secret"  # noqa: S105 - a local stand-in's known secret
MAX_LIMIT = 1000
# The collections served, each from its CSV file, with the type its references name.
COLLECTIONS = {
    "orgs": ("orgs.csv", "org"),
    "academicSessions": ("academicSessions.csv", "academicSession"),
    "courses": ("courses.csv", "course"),
    "classes": ("classes.csv", "class"),
    "users": ("users.csv", "user"),
    "enrollments": ("enrollments.csv", "enrollment"),
}
# CSV column -> (JSON field, type of what it refers to); a parent is of its record's type.
REFERENCES = {
    "schoolYearSourcedId": ("schoolYear", "academicSession"),
    "orgSourcedId": ("org", "org"),
    "courseSourcedId": ("course", "course"),
    "schoolSourcedId": ("school", "org"),
    "classSourcedId": ("class", "class"),
    "userSourcedId": ("user", "user"),
    "primaryOrgSourcedId": ("primaryOrg", "org"),
    "userProfileSourcedId": ("userProfile", "userProfile"),
}
REFERENCE_LISTS = {
    "termSourcedIds": ("terms", "academicSession"),
    "agentSourcedIds": ("agents", "user"),
    "resourceSourcedIds": ("resources", "resource"),
}
LISTS = {"grades", "subjects", "subjectCodes", "periods"}
RENAMED = {"preferredGivenName": "preferredFirstName", "preferredFamilyName": "preferredLastName"}
FILTER = re.compile(r"^dateLastModified>'([^']+)'$")
USER_ID = re.compile(r"^\{([^:{}]+):([^{}]*)\}$")

Records = dict[str, dict[str, dict[str, Any]]]  # collection -> sourcedId -> record
BASIC = HTTPBasic(auto_error=False)


def _ref(sourced_id: str, kind: str) -> dict[str, str]:
    collection = next((c for c, (_, t) in COLLECTIONS.items() if t == kind), kind + "s")
    return {"href": f"{ROSTERING}/{collection}/{sourced_id}", "sourcedId": sourced_id, "type": kind}


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def to_json(row: dict[str, str], kind: str) -> dict[str, Any]:
    """One CSV row as the REST binding writes the record (empty values left out)."""
    record: dict[str, Any] = {}
    for column, value in row.items():
        if not value or column in ("status", "dateLastModified"):
            continue
        if column == "parentSourcedId":
            record["parent"] = _ref(value, kind)
        elif column in REFERENCES:
            name, target = REFERENCES[column]
            record[name] = _ref(value, target)
        elif column in REFERENCE_LISTS:
            name, target = REFERENCE_LISTS[column]
            record[name] = [_ref(v, target) for v in _split(value)]
        elif column in LISTS:
            record[column] = _split(value)
        elif column == "userIds":
            found = [USER_ID.match(part) for part in _split(value)]
            record[column] = [{"type": m[1], "identifier": m[2]} for m in found if m]
        elif column.startswith("metadata."):
            record.setdefault("metadata", {})[column.removeprefix("metadata.")] = value
        else:
            record[RENAMED.get(column, column)] = value
    return record


def read_package(data: bytes) -> Records:
    """The package's records by collection, each user with its roles."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = {name.rsplit("/", 1)[-1]: name for name in archive.namelist()}

        def rows(file: str) -> list[dict[str, str]]:
            if file not in names:
                return []
            text = archive.read(names[file]).decode("utf-8-sig")
            return list(csv.DictReader(io.StringIO(text)))

        records: Records = {}
        for collection, (file, kind) in COLLECTIONS.items():
            records[collection] = {row["sourcedId"]: to_json(row, kind) for row in rows(file)}
        for role in rows("roles.csv"):
            user = records["users"].get(role["userSourcedId"])
            if user is not None:
                made = to_json(role, "role")
                made.pop("sourcedId", None)
                made.pop("user", None)
                user.setdefault("roles", []).append(made)
    return records


class _Provider:
    def __init__(self, package: bytes, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.tokens: set[str] = set()
        self.records: Records = {}
        self.hold_after: int | None = None
        self.released = asyncio.Event()
        self.stamped = datetime.min.replace(tzinfo=UTC)
        self.replace(package)

    def replace(self, package: bytes) -> dict[str, int]:
        """Take a new package: stamp what is new or changed, mark what is gone."""
        # Stamps only grow, even for two packages within a millisecond.
        self.stamped = max(datetime.now(UTC), self.stamped + timedelta(milliseconds=1))
        now = self.stamped.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        fresh = read_package(package)
        counts = {"added": 0, "changed": 0, "deleted": 0}
        for collection, wanted in fresh.items():
            held = self.records.setdefault(collection, {})
            for sid, record in wanted.items():
                before = held.get(sid)
                if before is not None and before["status"] == "active":
                    if _content(before) == record:
                        continue
                    counts["changed"] += 1
                else:
                    counts["added"] += 1
                held[sid] = {**record, "status": "active", "dateLastModified": now}
            for sid, record in held.items():
                if sid not in wanted and record["status"] == "active":
                    held[sid] = {**record, "status": "tobedeleted", "dateLastModified": now}
                    counts["deleted"] += 1
        return counts

    async def pass_hold(self) -> None:
        if self.hold_after is None:
            return
        if self.hold_after > 0:
            self.hold_after -= 1
            return
        await self.released.wait()


def _content(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("status", "dateLastModified")}


def _error(status: int, code: str, description: str) -> JSONResponse:
    """The REST binding's status info (imsx_StatusInfo) for a refused call."""
    return JSONResponse(
        {
            "imsx_codeMajor": "failure",
            "imsx_severity": "error",
            "imsx_CodeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldValue": code}]},
            "imsx_description": description,
        },
        status_code=status,
    )


def _parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def create_app(
    *,
    package: bytes,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
) -> FastAPI:
    provider = _Provider(package, client_id, client_secret)
    app = FastAPI(title="OneRoster 1.2 REST stand-in")

    @app.get(HEALTH_PATH)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/token")
    async def token(
        grant_type: Annotated[str, Form()],
        credentials: Annotated[HTTPBasicCredentials | None, Depends(BASIC)],
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> JSONResponse:
        if grant_type != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        given = (credentials.username, credentials.password) if credentials else None
        given = given or (client_id or "", client_secret or "")
        if not (
            secrets.compare_digest(given[0], provider.client_id)
            and secrets.compare_digest(given[1], provider.client_secret)
        ):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        issued = secrets.token_urlsafe(24)
        provider.tokens.add(issued)
        return JSONResponse(
            {"access_token": issued, "token_type": "bearer", "expires_in": 3600},
            headers={"Cache-Control": "no-store"},
        )

    @app.get(ROSTERING + "/{collection}")
    async def collection(
        collection: str,
        authorization: Annotated[str, Header()] = "",
        limit: Annotated[int, Query(ge=1)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
        filter: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Response:
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or presented not in provider.tokens:
            return _error(401, "unauthorisedrequest", "a valid bearer token is required")
        if collection not in COLLECTIONS:
            return _error(404, "unknownobject", f"no collection {collection}")
        records = sorted(provider.records.get(collection, {}).values(), key=_by_id)
        if filter is not None:
            matched = FILTER.match(filter)
            since = _parse_time(matched[1]) if matched else None
            if since is None:
                return _error(
                    400,
                    "invalid_filter_field",
                    "this provider filters only on dateLastModified>'<ISO 8601 time>'",
                )
            records = [r for r in records if _stamp(r) > since]
        await provider.pass_hold()
        page = records[offset : offset + min(limit, MAX_LIMIT)]
        return JSONResponse({collection: page}, headers={"X-Total-Count": str(len(records))})

    @app.put("/_standin/package")
    async def replace_package(request: Request) -> dict[str, int]:
        return provider.replace(await request.body())

    @app.put("/_standin/hold")
    async def hold(request: Request) -> dict[str, int | None]:
        after = (await request.json()).get("after")
        provider.hold_after = after
        if after is None:
            provider.released.set()
        else:
            provider.released.clear()
        return {"after": after}

    return app


def _stamp(record: dict[str, Any]) -> datetime:
    """When the provider last changed a record (it writes every stamp itself)."""
    return datetime.fromisoformat(str(record["dateLastModified"]).replace("Z", "+00:00"))


def _by_id(record: dict[str, Any]) -> str:
    return str(record["sourcedId"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aptt_local.oneroster_standin",
        description="Local stand-in for a OneRoster 1.2 REST rostering provider.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8926)
    parser.add_argument("--package", type=Path, required=True, help="OneRoster 1.2 CSV zip")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    args = parser.parse_args(argv)
    app = create_app(
        package=args.package.read_bytes(),
        client_id=args.client_id,
        client_secret=args.client_secret,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
