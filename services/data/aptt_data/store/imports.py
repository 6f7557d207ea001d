"""Import jobs: the job documents (state, lease, checkpoint, progress, report), the uploads
(GridFS), the staged rows and the refused rows of an import in progress."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from aptt_platform.mongo import Document, UnitOfWork, batched, utcnow
from bson import ObjectId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from aptt_data.oneroster.csvfile import Rejection
from aptt_data.store import (
    IMPORT_REJECTIONS,
    IMPORT_ROWS,
    IMPORT_WARNINGS,
    IMPORTS,
    SYNC_PAGES,
    UPLOADS,
    find_in,
)

UNFINISHED = ("queued", "fetching", "validating", "applying")
GRIDFS_CHUNK = 1024 * 1024


class LeaseLost(Exception):
    """Another worker took the job over (this one was too slow to renew its lease)."""


class UploadTooLarge(Exception):
    pass


# -- uploads ------------------------------------------------------------------------------


async def save_upload(
    db: AsyncDatabase[Document],
    chunks: AsyncIterator[bytes],
    *,
    filename: str,
    metadata: Mapping[str, Any],
    limit: int,
) -> ObjectId:
    """Stream an upload into GridFS; past `limit` bytes it is dropped and refused."""
    bucket = AsyncGridFSBucket(db, bucket_name=UPLOADS, chunk_size_bytes=GRIDFS_CHUNK)
    stream = bucket.open_upload_stream(filename, metadata=dict(metadata))
    size = 0
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise UploadTooLarge
            await stream.write(chunk)
    except BaseException:
        await stream.abort()
        raise
    await stream.close()
    file_id: ObjectId = stream._id
    return file_id


async def read_upload(db: AsyncDatabase[Document], file_id: ObjectId) -> AsyncIterator[bytes]:
    bucket = AsyncGridFSBucket(db, bucket_name=UPLOADS)
    stream = await bucket.open_download_stream(file_id)
    while chunk := await stream.readchunk():
        yield chunk


async def delete_upload(db: AsyncDatabase[Document], file_id: ObjectId) -> None:
    bucket = AsyncGridFSBucket(db, bucket_name=UPLOADS)
    with contextlib.suppress(NoFile):
        await bucket.delete(file_id)


# -- jobs ---------------------------------------------------------------------------------


async def insert_job(uow: UnitOfWork, doc: Document) -> None:
    await uow.collection(IMPORTS).insert_one(dict(doc), session=uow.session)


async def get_job(uow: UnitOfWork, district_id: str, import_id: str, kind: str) -> Document | None:
    return await uow.collection(IMPORTS).find_one(
        {"district_id": district_id, "import_id": import_id, "kind": kind},
        {"_id": 0},
        session=uow.session,
    )


async def claim_job(
    db: AsyncDatabase[Document], *, owner: str, lease_seconds: float, now: datetime | None = None
) -> Document | None:
    """Take the oldest job nobody holds (or whose holder stopped renewing its lease). A
    district's imports run one at a time, in the order they were posted."""
    now = now or utcnow()
    jobs = db[IMPORTS]
    free = {"$or": [{"lease": None}, {"lease.expires_at": {"$lt": now}}]}
    candidates = (
        jobs.find(
            {"status": {"$in": list(UNFINISHED)}, **free},
            {"_id": 1, "district_id": 1, "created_at": 1},
        )
        .sort("created_at", ASCENDING)
        .limit(50)
    )
    async for candidate in candidates:
        earlier = await jobs.find_one(
            {
                "district_id": candidate["district_id"],
                "status": {"$in": list(UNFINISHED)},
                "created_at": {"$lt": candidate["created_at"]},
            },
            {"_id": 1},
        )
        if earlier is not None:
            continue
        claimed = await jobs.find_one_and_update(
            {"_id": candidate["_id"], **free},
            {
                "$set": {
                    "lease": {
                        "owner": owner,
                        "expires_at": now + timedelta(seconds=lease_seconds),
                    }
                },
                "$inc": {"attempts": 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        if claimed is not None:
            return claimed
    return None


async def renew_lease(
    db: AsyncDatabase[Document], import_id: str, *, owner: str, lease_seconds: float
) -> bool:
    result = await db[IMPORTS].update_one(
        {"import_id": import_id, "lease.owner": owner},
        {"$set": {"lease.expires_at": utcnow() + timedelta(seconds=lease_seconds)}},
    )
    return result.matched_count == 1


async def reload_job(db: AsyncDatabase[Document], import_id: str) -> Document:
    doc = await db[IMPORTS].find_one({"import_id": import_id})
    assert doc is not None
    return doc


async def update_job(
    db: AsyncDatabase[Document],
    import_id: str,
    *,
    owner: str,
    set_: Mapping[str, Any] | None = None,
    inc: Mapping[str, int] | None = None,
) -> None:
    """Change a job this worker holds (outside a transaction: validation bookkeeping)."""
    update: dict[str, Any] = {"$set": {**(set_ or {}), "updated_at": utcnow()}}
    if inc:
        update["$inc"] = dict(inc)
    result = await db[IMPORTS].update_one({"import_id": import_id, "lease.owner": owner}, update)
    if result.matched_count != 1:
        raise LeaseLost(import_id)


async def advance(
    uow: UnitOfWork,
    import_id: str,
    *,
    owner: str,
    step: int,
    set_: Mapping[str, Any] | None = None,
    inc: Mapping[str, int] | None = None,
) -> None:
    """Move a job's checkpoint in the chunk's own transaction. `step` is the number of
    chunks committed so far: a worker that lost the job (or a chunk applied twice) finds
    no match and the whole chunk rolls back."""
    update: dict[str, Any] = {"$set": {**(set_ or {}), "step": step + 1, "updated_at": utcnow()}}
    if inc:
        update["$inc"] = dict(inc)
    result = await uow.collection(IMPORTS).update_one(
        {"import_id": import_id, "lease.owner": owner, "step": step}, update, session=uow.session
    )
    if result.matched_count != 1:
        raise LeaseLost(import_id)


# -- staged rows --------------------------------------------------------------------------


async def stage(db: AsyncDatabase[Document], docs: Sequence[Document]) -> None:
    if docs:
        await db[IMPORT_ROWS].insert_many(list(docs), ordered=False)


async def staged(
    uow: UnitOfWork, district_id: str, import_id: str, file: str, ids: Iterable[str]
) -> dict[str, Document]:
    found = await find_in(
        uow.collection(IMPORT_ROWS),
        {"district_id": district_id, "import_id": import_id, "file": file},
        "sourced_id",
        ids,
        session=uow.session,
    )
    return {doc["sourced_id"]: doc for doc in found}


async def staged_referring(
    uow: UnitOfWork, district_id: str, import_id: str, file: str, refs: Iterable[str]
) -> list[Document]:
    # Filtered by file here for the reason store.roster.records_referring gives.
    found = await find_in(
        uow.collection(IMPORT_ROWS),
        {"district_id": district_id, "import_id": import_id},
        "refs",
        refs,
        session=uow.session,
    )
    return list({doc["sourced_id"]: doc for doc in found if doc["file"] == file}.values())


async def staged_batches(
    db: AsyncDatabase[Document],
    district_id: str,
    import_id: str,
    keep: Callable[[Document], bool],
    size: int,
) -> AsyncIterator[list[Document]]:
    """The import's staged rows that `keep` takes, in (file, sourcedId) order, a batch at a
    time, from one cursor. The rows are read on the import's unique index and chosen here:
    a row's state beside that index would make the query a collection scan."""
    cursor = (
        db[IMPORT_ROWS]
        .find({"district_id": district_id, "import_id": import_id})
        .sort([("file", ASCENDING), ("sourced_id", ASCENDING)])
        .batch_size(size)
    )
    async for batch in batched((doc async for doc in cursor if keep(doc)), size):
        yield batch


# A chunk is a range of one collection: [group value or None, after key or None, last key].
Range = list[Any]


async def plan_ranges(
    db: AsyncDatabase[Document],
    collection: str,
    query: Mapping[str, Any],
    *,
    key: str,
    group: str | None,
    size: int,
) -> list[Range]:
    """Cut what a phase will go through into ranges of at most `size` documents, with one
    sorted read of their keys: each chunk then reads its range without sorting or skipping
    (the local database sorts a query's whole result, so paging by limit is quadratic)."""
    fields = [group, key] if group else [key]
    cursor = (
        db[collection]
        .find(dict(query), dict.fromkeys(fields, 1) | {"_id": 0})
        .sort([(f, ASCENDING) for f in fields])
        .batch_size(10_000)
    )
    ranges: list[Range] = []
    current: Any = None
    after: Any = None
    last: Any = None
    count = 0
    async for doc in cursor:
        value = doc.get(group) if group else None
        if count and value != current:
            ranges.append([current, after, last])
            count = 0
        if value != current:
            after = None
        current, last = value, doc[key]
        count += 1
        if count == size:
            ranges.append([current, after, last])
            after, count = last, 0
    if count:
        ranges.append([current, after, last])
    return ranges


async def range_docs(
    uow: UnitOfWork,
    collection: str,
    query: Mapping[str, Any],
    chunk: Range,
    *,
    key: str,
    group: str | None,
) -> list[Document]:
    """The documents of one planned range, in key order."""
    value, after, last = chunk
    bounds: dict[str, Any] = {"$lte": last}
    if after is not None:
        bounds["$gt"] = after
    where = {**query, key: bounds}
    if group:
        where[group] = value
    docs = await uow.collection(collection).find(where, session=uow.session).to_list()
    return sorted(docs, key=lambda d: d[key])


async def set_staged(
    db: AsyncDatabase[Document],
    district_id: str,
    import_id: str,
    file: str,
    sourced_id: str,
    update: Mapping[str, Any],
) -> None:
    await db[IMPORT_ROWS].update_one(
        {
            "district_id": district_id,
            "import_id": import_id,
            "file": file,
            "sourced_id": sourced_id,
        },
        dict(update),
    )


async def unstage_file(
    db: AsyncDatabase[Document], district_id: str, import_id: str, file: str
) -> None:
    """Forget what was staged from a file found unreadable half-way."""
    where = {"district_id": district_id, "import_id": import_id, "file": file}
    await db[IMPORT_ROWS].delete_many(where)
    await db[IMPORT_REJECTIONS].delete_many(where)
    await db[IMPORT_WARNINGS].delete_many(where)


async def wipe(db: AsyncDatabase[Document], district_id: str, import_id: str) -> None:
    """An import's scratch data, when it is done (or starts validating again); a sync's
    fetched pages are in its upload by then."""
    where = {"district_id": district_id, "import_id": import_id}
    await db[IMPORT_ROWS].delete_many(where)
    await db[IMPORT_REJECTIONS].delete_many(where)
    await db[IMPORT_WARNINGS].delete_many(where)
    await db[SYNC_PAGES].delete_many(where)


# -- refused rows -------------------------------------------------------------------------


async def add_rejections(
    db: AsyncDatabase[Document], district_id: str, import_id: str, found: Iterable[Rejection]
) -> int:
    return await _add(db[IMPORT_REJECTIONS], district_id, import_id, found)


async def add_warnings(
    db: AsyncDatabase[Document], district_id: str, import_id: str, found: Iterable[Rejection]
) -> int:
    """Values read leniently or left out (the row itself was accepted)."""
    return await _add(db[IMPORT_WARNINGS], district_id, import_id, found)


async def _add(
    collection: Any, district_id: str, import_id: str, found: Iterable[Rejection]
) -> int:
    docs = [{"district_id": district_id, "import_id": import_id, **r.as_dict()} for r in found]
    if docs:
        await collection.insert_many(docs, ordered=False)
    return len(docs)


async def rejections(
    uow: UnitOfWork, district_id: str, import_id: str, *, limit: int
) -> tuple[list[Document], int]:
    """The first refused rows in report order (file, line, column), and how many in all."""
    return await _in_report_order(uow, IMPORT_REJECTIONS, district_id, import_id, limit)


async def warnings(
    uow: UnitOfWork, district_id: str, import_id: str, *, limit: int
) -> tuple[list[Document], int]:
    """The first warnings in report order (file, line, column), and how many in all."""
    return await _in_report_order(uow, IMPORT_WARNINGS, district_id, import_id, limit)


async def _in_report_order(
    uow: UnitOfWork, name: str, district_id: str, import_id: str, limit: int
) -> tuple[list[Document], int]:
    where = {"district_id": district_id, "import_id": import_id}
    collection = uow.collection(name)
    total = await collection.count_documents(where, session=uow.session)
    cursor = (
        collection.find(
            where, {"_id": 0, "file": 1, "line": 1, "column": 1, "reason": 1}, session=uow.session
        )
        .sort([("file", ASCENDING), ("line", ASCENDING), ("column", ASCENDING)])
        .limit(limit)
    )
    return await cursor.to_list(), total
