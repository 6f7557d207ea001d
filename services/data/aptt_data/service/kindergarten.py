"""Countdown to kindergarten: the district's incoming families, one at a time or from a CSV.

Every change is published on the restricted kindergarten topic, which notify alone reads
(docs/decisions/0220). A school admin manages the families of their schools; a district
admin all of the district's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from aptt_contracts.data import IncomingFamilyRemoved, IncomingFamilyUpserted
from aptt_contracts.data import IncomingGuardian as GuardianPayload
from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import Conflict, NotFound
from aptt_platform.mongo import Document, UnitOfWork
from pymongo.errors import DuplicateKeyError

from aptt_data.domain.kindergarten import IncomingFamily, check_family
from aptt_data.store import SCHOOLS, find_in
from aptt_data.store import kindergarten as store
from aptt_data.store import roster as roster_store


@dataclass
class UploadReport:
    """What an upload did: counts, and each refused row's line, column and reason."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)


def _upserted(district_id: str, family: IncomingFamily) -> IncomingFamilyUpserted:
    return IncomingFamilyUpserted(
        district_id=district_id,
        family_id=family.family_id,
        school_id=family.school_id,
        child_first_name=family.child_first_name,
        birth_date=family.birth_date,
        guardians=[
            GuardianPayload(
                given_name=g.given_name, phone=g.phone, email=g.email, language=g.language
            )
            for g in family.guardians
        ],
    )


async def _school_in_reach(
    uow: UnitOfWork, district_id: str, school_id: str, by: Principal
) -> None:
    if await roster_store.get_school(uow, district_id, school_id) is None:
        raise NotFound(f"no school {school_id}")
    if not by.may_see_school(school_id):
        raise out_of_reach(by, "school")


async def _family_in_reach(
    uow: UnitOfWork, district_id: str, family_id: str, by: Principal
) -> Document:
    doc = await store.get(uow, district_id, family_id)
    if doc is None:
        raise NotFound(f"no incoming family {family_id}")
    if not by.may_see_school(doc["school_id"]):
        raise out_of_reach(by, "family")
    return doc


async def get_family(
    uow: UnitOfWork, *, district_id: str, family_id: str, by: Principal
) -> IncomingFamily:
    return store.from_document(await _family_in_reach(uow, district_id, family_id, by))


async def school_families(
    uow: UnitOfWork,
    *,
    district_id: str,
    school_id: str,
    by: Principal,
    after: str | None,
    limit: int,
) -> tuple[list[IncomingFamily], str | None]:
    """One page of a school's incoming families, and the cursor of the next."""
    await _school_in_reach(uow, district_id, school_id, by)
    docs = await store.of_school(uow, district_id, school_id, after=after, limit=limit + 1)
    families = [store.from_document(d) for d in docs[:limit]]
    return families, (families[-1].family_id if len(docs) > limit else None)


async def create_family(
    uow: UnitOfWork, *, district_id: str, family: IncomingFamily, by: Principal
) -> IncomingFamily:
    """Add an incoming family; its countdown starts when notify reads the event."""
    await _school_in_reach(uow, district_id, family.school_id, by)
    try:
        await store.insert(uow, store.to_document(district_id, family), by=by.subject)
    except DuplicateKeyError:
        raise Conflict(
            f"the district already has incoming family {family.family_id}", code="family-exists"
        ) from None
    uow.publish(_upserted(district_id, family))
    return family


async def update_family(
    uow: UnitOfWork, *, district_id: str, family: IncomingFamily, by: Principal
) -> IncomingFamily:
    """Change an incoming family (a school admin may move it only between their schools)."""
    old = await _family_in_reach(uow, district_id, family.family_id, by)
    await _school_in_reach(uow, district_id, family.school_id, by)
    new = store.to_document(district_id, family)
    if not store.same(old, new):
        await store.save_many(uow, [{**new, "created_at": old["created_at"]}], by=by.subject)
        uow.publish(_upserted(district_id, family))
    return family


async def remove_family(
    uow: UnitOfWork, *, district_id: str, family_id: str, by: Principal
) -> None:
    old = await _family_in_reach(uow, district_id, family_id, by)
    if await store.delete(uow, district_id, family_id):
        uow.publish(
            IncomingFamilyRemoved(
                district_id=district_id, family_id=family_id, school_id=old["school_id"]
            )
        )


async def upload_families(
    uow: UnitOfWork,
    *,
    district_id: str,
    rows: Sequence[tuple[int, Mapping[str, str]]],
    by: Principal,
    today: date,
    phone_region: str,
) -> UploadReport:
    """Create or change the families of a CSV's rows (line, columns); a bad row is reported
    and left out, the good ones are kept."""
    report = UploadReport()
    checked: list[tuple[int, IncomingFamily]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        family, problems = check_family(row, today=today, phone_region=phone_region)
        report.rejected += [(line, column, reason) for column, reason in problems]
        if family is None:
            continue
        if family.family_id in seen:
            report.rejected.append(
                (line, "family_id", f"the same family_id is on line {seen[family.family_id]}")
            )
            continue
        seen[family.family_id] = line
        checked.append((line, family))
    schools = {
        s["school_id"]
        for s in await find_in(
            uow.collection(SCHOOLS),
            {"district_id": district_id},
            "school_id",
            {f.school_id for _, f in checked},
            projection={"school_id": 1},
            session=uow.session,
        )
    }
    existing = {d["family_id"]: d for d in await store.get_many(uow, district_id, seen)}
    writes: list[Document] = []
    for line, family in checked:
        old = existing.get(family.family_id)
        if family.school_id not in schools:
            report.rejected.append((line, "school_id", "no such school in the district"))
            continue
        if not by.may_see_school(family.school_id) or (
            old is not None and not by.may_see_school(old["school_id"])
        ):
            report.rejected.append((line, "school_id", "not one of your schools"))
            continue
        new = store.to_document(district_id, family)
        if old is not None and store.same(old, new):
            report.unchanged += 1
            continue
        if old is None:
            report.created += 1
        else:
            report.updated += 1
            new["created_at"] = old["created_at"]
        writes.append(new)
        uow.publish(_upserted(district_id, family))
    await store.save_many(uow, writes, by=by.subject)
    report.rejected.sort()
    return report
