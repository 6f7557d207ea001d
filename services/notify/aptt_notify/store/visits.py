"""Home-visit read models: which guardian each visit is with (its survey goes to them when
it is completed) and which guardians have an invitation not yet answered (a text YES or NO
answers it). Only ids (docs/decisions/0540, 0541)."""

from __future__ import annotations

from collections.abc import Sequence

from aptt_platform.mongo import Document, UnitOfWork
from aptt_platform.readmodel import ReadModel
from pymongo import IndexModel

from aptt_notify.store.collections import HOME_VISITS, VISIT_INVITATIONS, by_district

# A family is invited once a school year; a few years of invitations at most are open.
MAX_OPEN_INVITATIONS = 20

visits = ReadModel(HOME_VISITS, "visit_id")
invitations = ReadModel(VISIT_INVITATIONS, "invitation_id")

INDEXES: dict[str, Sequence[IndexModel]] = {
    HOME_VISITS: [visits.index(name="visit")],
    VISIT_INVITATIONS: [
        invitations.index(name="invitation"),
        by_district("guardian_ids", name="by_guardian"),
    ],
}


async def open_invitations(
    uow: UnitOfWork, district_id: str, guardian_ids: list[str]
) -> list[Document]:
    return await invitations.find_live(
        uow,
        district_id,
        {"guardian_ids": {"$in": guardian_ids}},
        limit=MAX_OPEN_INVITATIONS,
    )
