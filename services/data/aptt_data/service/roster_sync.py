"""OneRoster 1.2 REST sync: a district's provider, and sync jobs (decision 0207).

A sync is a roster import job with one more phase in front: `fetch` pulls the provider's
collections page by page (`limit`/`offset`; a delta asks for `dateLastModified>` the start of
the last successful sync) and stores each page with the job's checkpoint (collection, offset)
in one transaction, so a worker that dies resumes at the next page. The fetched records, as
the rows of the CSV binding, become a package; from there the job is a CSV import: the same
checks, integrity rules, chunks, events and report.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import tempfile
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime
from typing import IO, Any

import httpx
from aptt_platform.auth import Principal
from aptt_platform.errors import Conflict, NotFound
from aptt_platform.mongo import Document, Mongo, UnitOfWork, utcnow

from aptt_data.oneroster import rest
from aptt_data.service import Config, imports, stored_now
from aptt_data.store import imports as job_store
from aptt_data.store import sync as store

SYNC_NAME = "oneroster-rest.zip"
MAX_PAGE_BYTES = 16 * 1024 * 1024
TIMEOUT = httpx.Timeout(30.0)
ORDER = list(rest.COLLECTIONS)


# -- the provider -------------------------------------------------------------------------


def provider_view(doc: Document) -> Document:
    """What a district admin sees of the provider: never the secret."""
    return {
        "base_url": doc["base_url"],
        "token_url": doc["token_url"],
        "client_id": doc["client_id"],
        "updated_at": doc["updated_at"],
        "updated_by": doc["updated_by"],
        "synced_from": doc.get("synced_from"),
        "last_sync_id": doc.get("sync_id"),
    }


async def configure_provider(
    uow: UnitOfWork,
    *,
    district_id: str,
    base_url: str,
    token_url: str,
    client_id: str,
    client_secret: str,
    by: Principal,
) -> Document:
    """Set the district's provider. Another base URL starts over with a bulk sync."""
    before = await store.get_provider(uow, district_id)
    changes: Document = {
        "base_url": base_url.rstrip("/"),
        "token_url": token_url,
        "client_id": client_id,
        "client_secret": client_secret,
        "updated_at": stored_now(),
        "updated_by": by.subject,
    }
    if before is None or before["base_url"] != changes["base_url"]:
        changes["synced_from"] = None
    return provider_view(await store.put_provider(uow, district_id, changes))


async def get_provider(uow: UnitOfWork, *, district_id: str) -> Document:
    found = await store.get_provider(uow, district_id)
    if found is None:
        raise NotFound("no OneRoster provider is configured for the district")
    return provider_view(found)


# -- starting and reading syncs -----------------------------------------------------------


async def start_sync(
    uow: UnitOfWork,
    *,
    district_id: str,
    by: Principal,
    origin: str,
    mode: str | None = None,
) -> Document:
    """Queue a sync: bulk the first time, then a delta since the last successful one (or
    the `mode` asked for: a bulk sync replaces the whole roster)."""
    provider = await store.get_provider(uow, district_id)
    if provider is None:
        raise Conflict("configure the district's OneRoster provider first", code="no-provider")
    if provider.get("sync_id"):
        current = await store.job(uow, district_id, provider["sync_id"])
        if current is not None and current["status"] in job_store.UNFINISHED:
            raise Conflict(
                "a sync of the district is under way",
                code="sync-running",
                sync_id=current["import_id"],
            )
    since: datetime | None = provider.get("synced_from")
    if mode == "delta" and since is None:
        raise Conflict("the first sync of a provider is bulk", code="no-sync-yet")
    if mode == "bulk":
        since = None
    sync_id = imports.new_import_id()
    job = await imports.submit(
        uow,
        import_id=sync_id,
        district_id=district_id,
        kind="roster",
        upload_id=None,
        upload_name=SYNC_NAME,
        by=by,
        mode="delta" if since else "bulk",
        extra={
            "source": "rest",
            "phase": "fetch",
            "sync": {
                "origin": origin,
                "since": since,
                "collection": ORDER[0],
                "offset": 0,
                "records_fetched": 0,
                "pages_fetched": 0,
            },
        },
    )
    await store.put_provider(uow, district_id, {"sync_id": sync_id})
    return {**job, "sync": _sync_view((await store.job(uow, district_id, sync_id)) or {})}


async def get_sync(uow: UnitOfWork, *, district_id: str, sync_id: str) -> Document:
    doc = await store.job(uow, district_id, sync_id)
    if doc is None or doc.get("source") != "rest":
        raise NotFound(f"no roster sync {sync_id}")
    return {**imports.job_view(doc), "sync": _sync_view(doc)}


def _sync_view(doc: Document) -> Document:
    sync = doc.get("sync") or {}
    return {
        "origin": sync.get("origin", "on-demand"),
        "since": sync.get("since"),
        "collection": sync.get("collection"),
        "offset": sync.get("offset", 0),
        "records_fetched": sync.get("records_fetched", 0),
        "pages_fetched": sync.get("pages_fetched", 0),
    }


async def record_success(mongo: Mongo, job: Document) -> None:
    """The next delta asks for what changed since this sync was queued. (A crash before this
    repeats some records in the next delta: they come out unchanged.)"""

    async def record(uow: UnitOfWork) -> None:
        provider = await store.get_provider(uow, job["district_id"])
        if provider is not None and provider.get("sync_id") == job["import_id"]:
            await store.put_provider(uow, job["district_id"], {"synced_from": job["created_at"]})

    await mongo.run(record)


# -- fetching -----------------------------------------------------------------------------


class _Provider:
    """The provider's HTTP API, with a client-credentials token renewed once when refused."""

    def __init__(self, client: httpx.AsyncClient, provider: Document) -> None:
        self.client = client
        self.provider = provider
        self.token: str | None = None

    async def _new_token(self) -> str:
        try:
            answer = await self.client.post(
                self.provider["token_url"],
                data={"grant_type": "client_credentials"},
                auth=(self.provider["client_id"], self.provider["client_secret"]),
            )
        except httpx.HTTPError as exc:
            raise ProviderUnreachable(
                f"the token URL did not answer: {type(exc).__name__}"
            ) from exc
        if 400 <= answer.status_code < 500 and answer.status_code != 429:
            raise imports.ImportFailed(
                f"the provider's token URL refused the client id and secret "
                f"(HTTP {answer.status_code}); check them in the district's provider settings",
                file="token URL",
            )
        if answer.status_code != 200:
            raise ProviderUnreachable(f"the token URL answered HTTP {answer.status_code}")
        token = _json(answer.content, "token URL").get("access_token")
        if not isinstance(token, str) or not token:
            raise imports.ImportFailed("the token URL gave no access_token", file="token URL")
        return token

    async def page(
        self, collection: str, *, offset: int, limit: int, since: datetime | None
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of a collection, and the provider's total count if it gave one."""
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        if since is not None:
            params["filter"] = f"dateLastModified>'{_iso(since)}'"
        url = f"{self.provider['base_url']}/{collection}"
        for attempt in range(2):
            if self.token is None:
                self.token = await self._new_token()
            status, body, total = await self._get(url, params)
            if status == 401 and attempt == 0:
                self.token = None
                continue
            break
        if status in (401, 403):
            raise imports.ImportFailed(
                f"the provider refused its own token for {collection} (HTTP {status})",
                file=collection,
            )
        if status >= 500 or status == 429:
            raise ProviderUnreachable(f"the provider answered HTTP {status} for {collection}")
        if status != 200:
            raise imports.ImportFailed(
                f"the provider answered HTTP {status} for {collection}", file=collection
            )
        records = _json(body, collection).get(collection)
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise imports.ImportFailed(
                f"the provider's answer for {collection} has no list {collection!r} of records",
                file=collection,
            )
        return records, total

    async def _get(self, url: str, params: dict[str, str | int]) -> tuple[int, bytes, int | None]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        try:
            async with self.client.stream("GET", url, params=params, headers=headers) as answer:
                body = bytearray()
                async for chunk in answer.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_PAGE_BYTES:
                        raise imports.ImportFailed(
                            f"a page of the provider is larger than "
                            f"{MAX_PAGE_BYTES // (1024 * 1024)} MiB",
                            file=url.rsplit("/", 1)[-1],
                        )
                count = answer.headers.get("X-Total-Count", "")
                total = int(count) if count.isdigit() else None
                return answer.status_code, bytes(body), total
        except httpx.HTTPError as exc:
            raise ProviderUnreachable(f"the provider did not answer: {type(exc).__name__}") from exc


class ProviderUnreachable(Exception):
    """A passing failure of the provider: the job is given back and tried again."""


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        found = json.loads(body)
    except ValueError as exc:
        raise imports.ImportFailed(
            f"the provider's answer for {what} is not JSON", file=what
        ) from exc
    if not isinstance(found, dict):
        raise imports.ImportFailed(f"the provider's answer for {what} is not an object", file=what)
    return found


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def fetch(mongo: Mongo, job: Document, *, owner: str, config: Config) -> None:
    """Fetch every collection from the job's checkpoint on, then package what was fetched
    and hand the job to validation."""
    district_id, sync_id = job["district_id"], job["import_id"]
    async with mongo.client.start_session() as session:
        provider = await store.get_provider(UnitOfWork(db=mongo.db, session=session), district_id)
    if provider is None:
        raise imports.ImportFailed("the district's OneRoster provider was removed")
    await job_store.update_job(mongo.db, sync_id, owner=owner, set_={"status": "fetching"})
    bulk = job["mode"] == "bulk"
    since = job["sync"]["since"]
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
        api = _Provider(client, provider)
        while True:
            sync = (await job_store.reload_job(mongo.db, sync_id))["sync"]
            collection, offset = sync["collection"], sync["offset"]
            if collection is None:
                break
            limit = config.roster_sync_page_size
            records, total = await api.page(collection, offset=offset, limit=limit, since=since)
            rows = [
                {"file": file, "values": list(row.values())}
                for record in records
                for file, row in rest.rows_of(collection, record, bulk=bulk)
            ]
            following = offset + len(records)
            ended = not records or (
                following >= total if total is not None else len(records) < limit
            )
            if ended:
                at = ORDER.index(collection) + 1
                after = (ORDER[at] if at < len(ORDER) else None, 0)
            else:
                after = (collection, following)
            await mongo.run(
                _keep_page,
                job=job,
                owner=owner,
                at=(collection, offset),
                after=after,
                rows=rows,
                records=len(records),
            )
    await _package(mongo, job, owner=owner, config=config)


async def _keep_page(
    uow: UnitOfWork,
    *,
    job: Document,
    owner: str,
    at: tuple[str, int],
    after: tuple[str | None, int],
    rows: list[Document],
    records: int,
) -> None:
    """Store a page and move the checkpoint past it, in one transaction."""
    district_id, sync_id = job["district_id"], job["import_id"]
    current = await store.job(uow, district_id, sync_id)
    if current is None or (current.get("lease") or {}).get("owner") != owner:
        raise job_store.LeaseLost(sync_id)
    sync = current["sync"]
    if (sync["collection"], sync["offset"]) != at:
        raise job_store.LeaseLost(sync_id)  # another worker kept this page already
    await store.insert_page(
        uow,
        {
            "district_id": district_id,
            "import_id": sync_id,
            "collection": at[0],
            "offset": at[1],
            "rows": rows,
        },
    )
    await store.set_job(
        uow,
        district_id,
        sync_id,
        {
            "$set": {
                "sync.collection": after[0],
                "sync.offset": after[1],
                "updated_at": utcnow(),
            },
            "$inc": {"sync.records_fetched": records, "sync.pages_fetched": 1},
        },
    )


async def _package(mongo: Mongo, job: Document, *, owner: str, config: Config) -> None:
    """Write the fetched rows as a OneRoster 1.2 CSV package, store it as the job's upload,
    and move the job on to validation."""
    district_id, sync_id = job["district_id"], job["import_id"]
    with tempfile.TemporaryFile() as spool:
        await _write_package(mongo, job, spool)
        spool.seek(0)

        async def chunks() -> AsyncIterator[bytes]:
            while chunk := await asyncio.to_thread(spool.read, imports.UPLOAD_CHUNK):
                yield chunk

        try:
            upload_id = await job_store.save_upload(
                mongo.db,
                chunks(),
                filename=SYNC_NAME,
                metadata={"district_id": district_id, "import_id": sync_id},
                limit=config.max_upload_bytes,
            )
        except job_store.UploadTooLarge as exc:
            raise imports.ImportFailed(
                "the provider's roster is larger than APTT_MAX_UPLOAD_BYTES as a package"
            ) from exc
    await job_store.update_job(
        mongo.db,
        sync_id,
        owner=owner,
        set_={"upload_id": upload_id, "phase": "validate", "status": "validating"},
    )


async def _write_package(mongo: Mongo, job: Document, spool: IO[bytes]) -> None:
    district_id, sync_id = job["district_id"], job["import_id"]
    source = {file: collection for collection, file in rest.COLLECTIONS.items()}
    source["roles.csv"] = "users"
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.csv", rest.manifest(job["mode"]))
        for file in rest.FILES:
            with (
                archive.open(file, "w") as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
            ):
                writer = csv.writer(text, lineterminator="\r\n")
                writer.writerow(rest.header(file))
                async for page in store.pages(mongo.db, district_id, sync_id, source[file]):
                    writer.writerows(row["values"] for row in page["rows"] if row["file"] == file)
