"""OneRoster REST sync: a district's provider, and the pages a sync fetched (decision 0207)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aptt_platform.mongo import Document, UnitOfWork
from pymongo.asynchronous.database import AsyncDatabase

from aptt_data.store import IMPORTS, ROSTER_PROVIDERS, SYNC_PAGES


async def get_provider(uow: UnitOfWork, district_id: str) -> Document | None:
    return await uow.collection(ROSTER_PROVIDERS).find_one(
        {"district_id": district_id}, {"_id": 0}, session=uow.session
    )


async def put_provider(uow: UnitOfWork, district_id: str, changes: Document) -> Document:
    await uow.collection(ROSTER_PROVIDERS).update_one(
        {"district_id": district_id}, {"$set": changes}, upsert=True, session=uow.session
    )
    found = await get_provider(uow, district_id)
    assert found is not None
    return found


async def provider_districts(db: AsyncDatabase[Document]) -> list[str]:
    """Every district with a provider (a range on the district index, not a scan)."""
    cursor = db[ROSTER_PROVIDERS].find({"district_id": {"$gt": ""}}, {"_id": 0, "district_id": 1})
    return [doc["district_id"] async for doc in cursor]


async def job(uow: UnitOfWork, district_id: str, import_id: str) -> Document | None:
    return await uow.collection(IMPORTS).find_one(
        {"district_id": district_id, "import_id": import_id}, session=uow.session
    )


async def set_job(uow: UnitOfWork, district_id: str, import_id: str, update: Document) -> None:
    await uow.collection(IMPORTS).update_one(
        {"district_id": district_id, "import_id": import_id}, update, session=uow.session
    )


async def insert_page(uow: UnitOfWork, page: Document) -> None:
    await uow.collection(SYNC_PAGES).insert_one(page, session=uow.session)


async def pages(
    db: AsyncDatabase[Document], district_id: str, import_id: str, collection: str
) -> AsyncIterator[dict[str, Any]]:
    """A collection's fetched pages, in offset order."""
    cursor = (
        db[SYNC_PAGES]
        .find({"district_id": district_id, "import_id": import_id, "collection": collection})
        .sort("offset", 1)
    )
    async for page in cursor:
        yield page
