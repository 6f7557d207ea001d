"""The roster import job: read a OneRoster package row by row, check its integrity against
what is stored with indexed lookups, then apply it in chunks (records, then the roster derived
from them, kind by kind, then removals) with its events.

Memory stays bounded by the batch size: no step holds the district. The streaming pass is
`roster_staging`, the integrity pass `roster_resolver`; this module runs them and applies.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from aptt_platform.mongo import Document, Mongo, UnitOfWork

from aptt_data.domain.changes import Changes, compare, total
from aptt_data.domain.roster import ID_FIELDS, KINDS, Kind, derive
from aptt_data.oneroster.resolve import FILES
from aptt_data.service import Config
from aptt_data.service.import_reports import (
    TOUCHED_CLASSROOMS,
    TOUCHED_PHASES,
    TOUCHED_STUDENTS,
    report_rejections,
    report_warnings,
    touch,
)
from aptt_data.service.imports import Chunk, Phase, Source, Step, in_state, staged_rows
from aptt_data.service.roster import kind_events, removal_events
from aptt_data.service.roster_resolver import Resolver
from aptt_data.service.roster_staging import stage_package
from aptt_data.store import IMPORT_ROWS, ROSTER_RECORDS
from aptt_data.store import imports as job_store
from aptt_data.store import roster as store
from aptt_data.store.roster import ref_key

Fields = dict[str, Any]
Key = tuple[str, str]
SOURCE_FILE: dict[Kind, str] = {
    "schools": "orgs.csv",
    "students": "users.csv",
    "guardians": "users.csv",
    "classrooms": "classes.csv",
    "teachers": "users.csv",
}
# Events go out as they always did: schools, students, guardians, classrooms, then removals.
UPSERT_ORDER: tuple[Kind, ...] = ("schools", "students", "guardians", "classrooms", "teachers")
REMOVAL_ORDER: tuple[Kind, ...] = ("classrooms", "students", "guardians", "teachers", "schools")


# -- validation: the streaming pass -------------------------------------------------------


async def validate(mongo: Mongo, job: Document, *, owner: str, config: Config) -> None:
    """Stage every row of the package that passes its own checks, record the others, then
    refuse what breaks the roster's integrity. Restartable: it begins from a clean slate."""
    district_id, import_id = job["district_id"], job["import_id"]
    await job_store.wipe(mongo.db, district_id, import_id)
    await job_store.update_job(
        mongo.db,
        import_id,
        owner=owner,
        set_={
            "status": "validating",
            "progress": {"rows_read": 0, "rows_applied": 0, "rows_rejected": 0},
        },
    )
    with tempfile.TemporaryFile() as spool:
        async for chunk in job_store.read_upload(mongo.db, job["upload_id"]):
            await asyncio.to_thread(spool.write, chunk)
        spool.seek(0)
        staged = await stage_package(mongo, job, spool, owner=owner, config=config)
    async with mongo.client.start_session() as session:
        reader = UnitOfWork(db=mongo.db, session=session)
        courses_known = "courses.csv" in staged.files or await store.has_records(
            reader, district_id, "courses.csv"
        )
        resolver = Resolver(mongo, reader, job, staged, courses_known)
        await resolver.run()
    await job_store.update_job(
        mongo.db,
        import_id,
        owner=owner,
        set_={"phase": "records", "checkpoint": None, "status": "applying"},
        inc={"progress.rows_rejected": resolver.refused},
    )


# -- applying: records, the derived roster, removals --------------------------------------


async def apply_records(
    uow: UnitOfWork, job: Document, config: Config, docs: list[Document]
) -> Step:
    """Chunk: accepted rows replace the stored records; removed records go."""
    upserts = [
        (d["file"], d["sourced_id"], d["fields"], d["refs"])
        for d in docs
        if d["state"] == "accepted" and not d["deleted"]
    ]
    deletes = [
        (d["file"], d["sourced_id"]) for d in docs if d["state"] == "remove" or d.get("deleted")
    ]
    await store.write_records(uow, job["district_id"], upserts, deletes)
    return Step(inc={"progress.rows_applied": len(docs)})


def upserts_of(kind: Kind) -> Chunk:
    async def chunk(uow: UnitOfWork, job: Document, config: Config, docs: list[Document]) -> Step:
        """Chunk: derive a batch of one kind from the records, write and publish changes."""
        sources = {d["sourced_id"]: d["fields"] for d in docs}
        wanted = await _derive(uow, job, kind, sources, config)
        current = await store.entities(uow, job["district_id"], kind, wanted)
        changes = compare(current, wanted)
        await _write(uow, job, kind, changes, config)
        return Step(inc=_counts(kind, changes))

    return chunk


def removals_of(kind: Kind) -> Chunk:
    async def chunk(uow: UnitOfWork, job: Document, config: Config, docs: list[Document]) -> Step:
        """Chunk: what the records no longer describe leaves the roster (after all upserts)."""
        ids = [d[ID_FIELDS[kind]] for d in docs]
        sources = await store.records(uow, job["district_id"], SOURCE_FILE[kind], ids)
        still = await _derive(uow, job, kind, sources, config)
        gone = [i for i in ids if i not in still]
        changes = Changes(deleted=await store.entities(uow, job["district_id"], kind, gone))
        await _write(uow, job, kind, changes, config)
        return Step(inc=_counts(kind, changes))

    return chunk


def _counts(kind: Kind, changes: Changes) -> dict[str, int]:
    counts = changes.counts()
    inc = {f"by_kind.{kind}.{name}": n for name, n in counts.items() if n}
    applied = counts["created"] + counts["updated"] + counts["deleted"]
    if applied:
        inc["progress.entities_applied"] = applied
    return inc


async def _write(
    uow: UnitOfWork, job: Document, kind: Kind, changes: Changes, config: Config
) -> None:
    district_id = job["district_id"]
    on_insert = None
    if kind == "schools":
        on_insert = {"timezone": config.default_timezone, "language": config.default_language}
    await store.write_entities(uow, district_id, kind, changes, on_insert=on_insert)
    settings = await store.school_settings(uow, district_id) if kind == "schools" else {}
    for event in [
        *kind_events(district_id, kind, changes, settings, config),
        *removal_events(district_id, kind, changes.deleted),
    ]:
        uow.publish(event)
    if kind == "classrooms":
        await touch(
            uow, job, TOUCHED_CLASSROOMS, [*changes.created, *changes.updated, *changes.deleted]
        )
    elif kind == "students":
        await touch(uow, job, TOUCHED_STUDENTS, [*changes.updated, *changes.deleted])


async def _derive(
    uow: UnitOfWork, job: Document, kind: Kind, sources: Mapping[str, Fields], config: Config
) -> dict[str, Fields]:
    """The entities of one kind that these source records (users, classes or orgs) give,
    from a window of the records they depend on."""
    district_id = job["district_id"]
    window: dict[str, dict[str, Fields]] = {f: {} for f in FILES}
    window[SOURCE_FILE[kind]].update(sources)
    users = window["users.csv"]
    if kind in ("students", "guardians"):
        # The other side of each family link, both ways (agentSourcedIds on either user).
        others = {a for u in sources.values() for a in u.get("agentSourcedIds") or ()}
        refs = [ref_key("users.csv", i) for i in sources]
        for doc in await store.records_referring(uow, district_id, refs, "users.csv"):
            users[doc["sourced_id"]] = doc["fields"]
        users.update(await store.records(uow, district_id, "users.csv", others - users.keys()))
    elif kind == "classrooms":
        await _add_enrollments(
            uow, district_id, window, [ref_key("classes.csv", c) for c in sources]
        )
        courses = {c["courseSourcedId"] for c in sources.values()}
        window["courses.csv"] = await store.records(uow, district_id, "courses.csv", courses)
    elif kind == "teachers":
        await _add_enrollments(uow, district_id, window, [ref_key("users.csv", u) for u in sources])
        classes = {e["classSourcedId"] for e in window["enrollments.csv"].values()}
        window["classes.csv"] = await store.records(uow, district_id, "classes.csv", classes)
    if users:
        refs = [ref_key("users.csv", u) for u in users]
        roles = await store.records_referring(uow, district_id, refs, "roles.csv")
        window["roles.csv"] = {d["sourced_id"]: d["fields"] for d in roles}
    orgs = {r["orgSourcedId"] for r in window["roles.csv"].values()}
    orgs |= {c["schoolSourcedId"] for c in window["classes.csv"].values()}
    if kind != "schools":
        window["orgs.csv"] = await store.records(uow, district_id, "orgs.csv", orgs)
    languages: dict[str, str] = {}
    if kind == "guardians":
        settings = await store.school_settings(uow, district_id)
        languages = {k: v.get("language", config.default_language) for k, v in settings.items()}
    view = derive(
        window,
        today=date.fromisoformat(job["today"]),
        school_languages=languages,
        default_language=config.default_language,
    )
    return {k: v for k, v in view.documents(kind).items() if k in sources}


async def _add_enrollments(
    uow: UnitOfWork, district_id: str, window: dict[str, dict[str, Fields]], refs: list[str]
) -> None:
    found = await store.records_referring(uow, district_id, refs, "enrollments.csv")
    window["enrollments.csv"] = {d["sourced_id"]: d["fields"] for d in found}
    members = {e["userSourcedId"] for e in window["enrollments.csv"].values()}
    window["users.csv"].update(
        await store.records(uow, district_id, "users.csv", members - window["users.csv"].keys())
    )


async def finish(uow: UnitOfWork, job: Document, config: Config, docs: list[Document]) -> Step:
    """Chunk: the report, as a roster import always answered."""
    by_kind = {
        kind: {
            name: job.get("by_kind", {}).get(kind, {}).get(name, 0)
            for name in ("created", "updated", "unchanged", "deleted")
        }
        for kind in KINDS
    }
    counts = total(list(by_kind.values()))
    report = {
        "counts": counts,
        "by_kind": by_kind,
        **await report_rejections(uow, job, config),
        **await report_warnings(uow, job, config),
    }
    return Step(set_=report)


def _records(kind: Kind) -> Callable[[Document], dict[str, Any]]:
    return lambda job: {"district_id": job["district_id"], "file": SOURCE_FILE[kind]}


def _entities(job: Document) -> dict[str, Any]:
    return {"district_id": job["district_id"]}


PHASES: dict[str, Phase] = {
    "records": Phase(
        apply_records,
        Source(
            IMPORT_ROWS,
            staged_rows(),
            group="file",
            keep=in_state("accepted", "remove"),
        ),
    ),
    **{
        f"entities:{kind}": Phase(upserts_of(kind), Source(ROSTER_RECORDS, _records(kind)))
        for kind in UPSERT_ORDER
    },
    **{
        f"removals:{kind}": Phase(removals_of(kind), Source(kind, _entities, key=ID_FIELDS[kind]))
        for kind in REMOVAL_ORDER
    },
    **TOUCHED_PHASES,
    "finish": Phase(finish),
}
