"""Import jobs: posted, validated in a streaming pass, applied in chunks, reported.

A job moves through phases. Validation is one restartable pass (it only stages rows); every
later phase is a run of chunks, each its own short transaction that writes its part, publishes
its events through the outbox and moves the job's checkpoint, so a worker that dies mid-way
leaves the job at its last committed chunk and the next worker goes on from there
(docs/decisions/0210-imports-as-jobs.md).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from aptt_platform.auth import Principal
from aptt_platform.bodylimit import too_large_detail
from aptt_platform.errors import DomainError, NotFound, PayloadTooLarge
from aptt_platform.logging import get_logger
from aptt_platform.mongo import Document, Mongo, UnitOfWork, utcnow
from bson import ObjectId

from aptt_data.oneroster.package import PackageError, open_package, roster_plan
from aptt_data.service import Config, stored_now
from aptt_data.store import IMPORTS
from aptt_data.store import imports as store

log = get_logger(__name__)

MAX_ATTEMPTS = 5
UPLOAD_CHUNK = 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"


class ImportFailed(Exception):
    """The upload cannot be imported at all (it was found unusable while being read)."""

    def __init__(self, reason: str, *, file: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.file = file


@dataclass
class Step:
    """What one chunk did: what to add to the job, and what to set on it."""

    inc: dict[str, int] = field(default_factory=dict)
    set_: dict[str, Any] = field(default_factory=dict)


Chunk = Callable[[UnitOfWork, Document, Config, list[Document]], Awaitable[Step]]


@dataclass(frozen=True)
class Source:
    """What a phase goes through, chunk by chunk: documents of a collection, in key order."""

    collection: str
    query: Callable[[Document], dict[str, Any]]
    key: str = "sourced_id"
    group: str | None = None
    size: int | None = None  # default: the import chunk size
    # Which of a range's documents the phase takes, decided here rather than in the query:
    # SecantusDB scans the whole collection for a query with a field outside the index
    # (a staged row's state beside the (import, file, sourcedId) index).
    keep: Callable[[Document], bool] | None = None


@dataclass(frozen=True)
class Phase:
    chunk: Chunk
    source: Source | None = None  # none: one chunk


def in_state(*states: str) -> Callable[[Document], bool]:
    """A Source's `keep`: staged rows in one of these states."""
    return lambda doc: doc.get("state") in states


def staged_rows(file: str | None = None, **more: Any) -> Callable[[Document], dict[str, Any]]:
    def query(job: Document) -> dict[str, Any]:
        where = {"district_id": job["district_id"], "import_id": job["import_id"], **more}
        if file is not None:
            where["file"] = file
        return where

    return query


# -- posting and reading ------------------------------------------------------------------


def new_import_id() -> str:
    return str(uuid.uuid4())


async def submit(
    uow: UnitOfWork,
    *,
    import_id: str,
    district_id: str,
    kind: str,
    upload_id: ObjectId | None,
    upload_name: str,
    by: Principal,
    mode: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Document:
    """Queue an import of a stored upload; a worker picks it up."""
    now = stored_now()
    today = datetime.now(UTC).date()
    doc: Document = {
        "district_id": district_id,
        "import_id": import_id,
        "kind": kind,
        "mode": mode,
        "status": "queued",
        "phase": "validate",
        "step": 0,
        "checkpoint": None,
        "upload_id": upload_id,
        "upload_name": upload_name,
        "imported_by": by.subject,
        "importer_schools": None if by.is_district_admin else sorted(by.school_ids),
        "imported_at": now,
        "created_at": now,
        "today": today.isoformat(),  # what "current" means for enrollments and roles
        "lease": None,
        "attempts": 0,
        "progress": {"rows_read": 0, "rows_applied": 0, "rows_rejected": 0},
        **(extra or {}),
    }
    await store.insert_job(uow, doc)
    return job_view(doc)


async def get_import(
    uow: UnitOfWork, *, district_id: str, import_id: str, kind: str, by: Principal
) -> Document:
    """An import of the caller's district; a school admin sees their own result imports."""
    doc = await store.get_job(uow, district_id, import_id, kind)
    if doc is None or (
        kind == "results" and not by.is_district_admin and doc["imported_by"] != by.subject
    ):
        raise NotFound(f"no {'roster' if kind == 'roster' else 'assessment'} import {import_id}")
    return job_view(doc)


REPORT_FIELDS = (
    "counts",
    "by_kind",
    "rejected",
    "rejected_count",
    "rejected_truncated",
    "warnings",
    "warnings_count",
    "warnings_truncated",
)


def job_view(doc: Mapping[str, Any]) -> Document:
    """What a caller sees of a job: its state and progress, and the report once done."""
    view: Document = {
        "import_id": doc["import_id"],
        "status": doc["status"],
        "phase": doc.get("phase"),
        "progress": {**doc["progress"], "chunks_applied": doc.get("step", 0)},
        "imported_by": doc["imported_by"],
        "imported_at": doc["imported_at"],
    }
    if doc.get("mode"):
        view["mode"] = doc["mode"]
    if doc["status"] == "done":
        view.update({k: doc[k] for k in REPORT_FIELDS if k in doc})
    if doc["status"] == "failed":
        view["error"] = doc.get("error")
    return view


async def post_import(
    mongo: Mongo,
    *,
    kind: str,
    source: IO[bytes],
    name: str,
    by: Principal,
    config: Config,
    mode: str | None = None,
) -> Document:
    """Check that an upload is a usable package (its structure and manifest, not its rows),
    store it, and queue its import."""
    size = await asyncio.to_thread(source.seek, 0, 2)
    if size > config.max_upload_bytes:
        raise too_large(config.max_upload_bytes)
    source.seek(0)
    await asyncio.to_thread(_check_package, kind, source, name, mode, config)
    source.seek(0)
    import_id = new_import_id()

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await asyncio.to_thread(source.read, UPLOAD_CHUNK):
            yield chunk

    try:
        upload_id = await store.save_upload(
            mongo.db,
            chunks(),
            filename=name,
            metadata={"district_id": by.district_id, "import_id": import_id},
            limit=config.max_upload_bytes,
        )
    except store.UploadTooLarge as exc:
        raise too_large(config.max_upload_bytes) from exc
    return await mongo.run(
        submit,
        import_id=import_id,
        district_id=by.district_id,
        kind=kind,
        upload_id=upload_id,
        upload_name=name,
        by=by,
        mode=mode,
    )


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(too_large_detail(limit, upload=True), limit_bytes=limit)


def _check_package(
    kind: str, source: IO[bytes], name: str, mode: str | None, config: Config
) -> None:
    head = source.read(4)
    source.seek(0)
    if kind == "results" and head != ZIP_MAGIC and not name.lower().endswith(".zip"):
        return  # a plain CSV: read row by row later
    try:
        package = open_package(
            source, max_unzipped_bytes=config.max_unzipped_bytes, upload_name=name
        )
        try:
            if kind == "roster":
                roster_plan(package, mode=mode, phone_region=config.phone_region)  # type: ignore[arg-type]
            else:
                missing = [f for f in ("lineItems.csv", "results.csv") if f not in package]
                if missing:
                    raise PackageError(f"the zip lacks {' and '.join(missing)}", file=name)
        finally:
            package.close()
    except PackageError as exc:
        raise not_a_package(exc.reason, exc.file or name) from exc


def not_a_package(reason: str, file: str) -> DomainError:
    return DomainError(
        reason,
        code="not-a-package",
        rejected=[{"file": file, "line": None, "column": None, "reason": reason}],
    )


# -- running ------------------------------------------------------------------------------


async def run_phases(
    mongo: Mongo, import_id: str, *, owner: str, phases: Mapping[str, Phase], config: Config
) -> None:
    """Apply the job chunk by chunk from its checkpoint until it is done."""
    order = list(phases)
    current, began = None, time.monotonic()
    while True:
        job = await store.reload_job(mongo.db, import_id)
        if (job.get("lease") or {}).get("owner") != owner:
            raise store.LeaseLost(import_id)
        if job["phase"] != current:
            if current is not None:
                # How long each phase takes, to see where an import spends its time.
                log.info(
                    "import phase done",
                    import_id=import_id,
                    phase=current,
                    seconds=round(time.monotonic() - began, 2),
                )
            current, began = job["phase"], time.monotonic()
        if job["status"] == "done":
            return
        if job["phase"] == "done":
            # The report is written: drop the scratch data before the job says it is done,
            # so that a done job holds nothing more than its report.
            await clean_up(mongo, job)
            await store.update_job(
                mongo.db, import_id, owner=owner, set_={"status": "done", "lease": None}
            )
            return
        phase = phases[job["phase"]]
        if phase.source is not None and job.get("ranges_for") != job["phase"]:
            source = phase.source
            ranges = await store.plan_ranges(
                mongo.db,
                source.collection,
                source.query(job),
                key=source.key,
                group=source.group,
                size=source.size or config.import_chunk_size,
            )
            await store.update_job(
                mongo.db,
                import_id,
                owner=owner,
                set_={"ranges": ranges, "ranges_for": job["phase"], "checkpoint": 0},
            )
            continue
        await mongo.run(
            _one_chunk, import_id=import_id, owner=owner, phases=phases, order=order, config=config
        )


async def _one_chunk(
    uow: UnitOfWork,
    *,
    import_id: str,
    owner: str,
    phases: Mapping[str, Phase],
    order: list[str],
    config: Config,
) -> None:
    job = await uow.collection(IMPORTS).find_one(
        {"import_id": import_id, "lease.owner": owner}, session=uow.session
    )
    if job is None:
        raise store.LeaseLost(import_id)
    phase = phases[job["phase"]]
    source = phase.source
    docs: list[Document] = []
    index = job.get("checkpoint") or 0
    ranges = job.get("ranges") or []
    if source is not None and index < len(ranges):
        docs = await store.range_docs(
            uow,
            source.collection,
            source.query(job),
            ranges[index],
            key=source.key,
            group=source.group,
        )
        if source.keep is not None:
            docs = [doc for doc in docs if source.keep(doc)]
    step = (
        await phase.chunk(uow, job, config, docs)
        if source is None or index < len(ranges)
        else Step()
    )
    changes: dict[str, Any] = {"checkpoint": index + 1, "status": "applying", **step.set_}
    # The lease is renewed by every chunk: its own transaction says the job is still alive.
    changes["lease.expires_at"] = utcnow() + timedelta(seconds=config.import_lease_seconds)
    if source is None or index + 1 >= len(ranges):
        following = order.index(job["phase"]) + 1
        changes["phase"] = order[following] if following < len(order) else "done"
        changes["checkpoint"] = None
    await store.advance(
        uow, import_id, owner=owner, step=job.get("step", 0), set_=changes, inc=step.inc
    )


async def fail(mongo: Mongo, job: Document, *, owner: str, reason: str, file: str | None) -> None:
    await store.update_job(
        mongo.db,
        job["import_id"],
        owner=owner,
        set_={
            "status": "failed",
            "phase": "failed",
            "lease": None,
            "error": {"file": file or job.get("upload_name"), "reason": reason},
        },
    )


async def clean_up(mongo: Mongo, job: Document) -> None:
    """Drop a finished job's scratch data and its upload (the report stays)."""
    await store.wipe(mongo.db, job["district_id"], job["import_id"])
    await store.delete_upload(mongo.db, job["upload_id"])


async def release(mongo: Mongo, job: Document, *, owner: str) -> None:
    """Give a job back after an unexpected error, or fail it after too many tries."""
    fresh = await store.reload_job(mongo.db, job["import_id"])
    if fresh.get("attempts", 0) >= MAX_ATTEMPTS:
        await fail(mongo, fresh, owner=owner, reason="the import failed repeatedly", file=None)
        return
    await store.update_job(mongo.db, job["import_id"], owner=owner, set_={"lease": None})
