"""Validation's second pass of a roster import: the rules of referential integrity
(`oneroster.resolve`) applied to the staged rows and the stored records with indexed
lookups, batch by batch."""

from __future__ import annotations

from typing import Any

from aptt_platform.mongo import Document, Mongo, UnitOfWork, batched

from aptt_data.oneroster.csvfile import Rejection
from aptt_data.oneroster.resolve import (
    LINK_FILES,
    MAX_PASSES,
    NOUNS,
    Window,
    problems_of,
    references,
    refused_files,
)
from aptt_data.oneroster.rowcheck import refusal
from aptt_data.service.roster_staging import ROWS_PER_BATCH, Staged
from aptt_data.store import IMPORT_ROWS, ROSTER_RECORDS
from aptt_data.store import imports as job_store
from aptt_data.store import roster as store
from aptt_data.store.roster import ref_key

Fields = dict[str, Any]
Key = tuple[str, str]


# -- referential integrity, with indexed lookups ------------------------------------------


class Resolver:
    """The rules of `oneroster.resolve`, applied batch by batch against the staged rows and
    the stored records. States of staged rows: accepted (applied), refused (what was stored
    stays), remove (a stored record this import deletes), kept (a stored record a bulk file
    left out that something still needs)."""

    def __init__(
        self,
        mongo: Mongo,
        reader: UnitOfWork,
        job: Document,
        staged: Staged,
        courses_known: bool,
    ) -> None:
        self.mongo = mongo
        self.reader = reader
        self.job = job
        self.district_id = job["district_id"]
        self.import_id = job["import_id"]
        self.bulk = job["mode"] == "bulk"
        self.files = set(staged.files)
        self.version = staged.version
        self.refused_files = refused_files(staged.refused)
        self.courses_known = courses_known
        # A 1.1 user row and a REST user record carry all the user's roles.
        self.roles_follow_users = self.version == "1.1" or job.get("source") == "rest"
        self.refused = 0

    async def run(self) -> None:
        if self.bulk:
            for file in self.files:
                await self._mark_left_out(file)
        elif self.roles_follow_users and "users.csv" in self.files:
            await self._replace_roles_of_users()
        await self._protect_what_stays()
        for _ in range(MAX_PASSES):
            if not await self._one_pass():
                break

    async def _mark_left_out(self, file: str) -> None:
        """A bulk file replaces its kind: stored records it does not name are removed."""
        cursor = self.mongo.db[ROSTER_RECORDS].find(
            {"district_id": self.district_id, "file": file}, {"_id": 0, "sourced_id": 1}
        )
        async for page in batched(cursor, ROWS_PER_BATCH):
            seen = await job_store.staged(
                self.reader, self.district_id, self.import_id, file, (d["sourced_id"] for d in page)
            )
            await job_store.stage(
                self.mongo.db,
                [
                    {
                        "district_id": self.district_id,
                        "import_id": self.import_id,
                        "file": file,
                        "sourced_id": d["sourced_id"],
                        "state": "remove",
                    }
                    for d in page
                    if d["sourced_id"] not in seen
                ],
            )

    async def _replace_roles_of_users(self) -> None:
        """A 1.1 delta's user row (and a REST user record) carries all the user's roles:
        stored ones it no longer names go."""
        async for page in job_store.staged_batches(
            self.mongo.db,
            self.district_id,
            self.import_id,
            lambda row: row["file"] == "users.csv" and _accepted(row),
            ROWS_PER_BATCH,
        ):
            refs = [ref_key("users.csv", d["sourced_id"]) for d in page]
            stored = await store.records_referring(self.reader, self.district_id, refs, "roles.csv")
            named = await job_store.staged(
                self.reader,
                self.district_id,
                self.import_id,
                "roles.csv",
                (d["sourced_id"] for d in stored),
            )
            for role in stored:
                if role["sourced_id"] not in named:
                    await self._remove_link(role)

    async def _protect_what_stays(self) -> None:
        """A record that stays as it was keeps what it points to: a link (role, enrollment)
        goes with what it links; anything else stops the deletion, and a delta row that asked
        for it is refused."""
        async for page in job_store.staged_batches(
            self.mongo.db, self.district_id, self.import_id, _removed, ROWS_PER_BATCH
        ):
            for doc in page:
                await self._protect(doc)

    async def _protect(self, doc: Document) -> None:
        key = ref_key(doc["file"], doc["sourced_id"])
        referrers = await store.records_referring(self.reader, self.district_id, [key])
        for referrer in referrers:
            if not await self._stays_as_stored(referrer["file"], referrer["sourced_id"]):
                continue
            if referrer["file"] in LINK_FILES:
                await self._remove_link(referrer)
                continue
            await self._keep(doc, used_by=(referrer["file"], referrer["sourced_id"]))
            return

    async def _stays_as_stored(self, file: str, sid: str) -> bool:
        staged = (
            await job_store.staged(self.reader, self.district_id, self.import_id, file, [sid])
        ).get(sid)
        if staged is None:
            return not (self.bulk and file in self.files)
        return bool(staged["state"] in ("refused", "kept"))

    async def _remove_link(self, record: Document) -> None:
        await self.mongo.db[IMPORT_ROWS].update_one(
            {
                "district_id": self.district_id,
                "import_id": self.import_id,
                "file": record["file"],
                "sourced_id": record["sourced_id"],
            },
            {"$set": {"state": "remove"}},
            upsert=True,
        )

    async def _keep(self, doc: Document, *, used_by: Key) -> None:
        """Keep a stored record something stored still needs, and what it needs in turn."""
        file, sid = doc["file"], doc["sourced_id"]
        user_file, user_id = used_by
        if doc["state"] == "accepted":
            reason = (
                f"{NOUNS[user_file]} {user_id} ({user_file}) still depends on it; change that first"
            )
            await self._refuse(doc, [Rejection(file, doc["line"], "status", reason)])
        else:
            await job_store.set_staged(
                self.mongo.db,
                self.district_id,
                self.import_id,
                file,
                sid,
                {"$set": {"state": "kept"}},
            )
        stored = (await store.records(self.reader, self.district_id, file, [sid])).get(sid)
        for target_file, target_id in references(file, stored or {}):
            target = (
                await job_store.staged(
                    self.reader, self.district_id, self.import_id, target_file, [target_id]
                )
            ).get(target_id)
            if target is not None and (
                target["state"] == "remove"
                or (target["state"] == "accepted" and target.get("deleted"))
            ):
                await self._keep(target, used_by=(file, sid))

    async def _refuse(self, doc: Document, found: list[Rejection]) -> None:
        await job_store.set_staged(
            self.mongo.db,
            self.district_id,
            self.import_id,
            doc["file"],
            doc["sourced_id"],
            {"$set": {"state": "refused"}},
        )
        doc["state"] = "refused"
        self.refused += await job_store.add_rejections(
            self.mongo.db, self.district_id, self.import_id, found
        )

    async def _one_pass(self) -> bool:
        changed = False
        async for page in job_store.staged_batches(
            self.mongo.db, self.district_id, self.import_id, _accepted, ROWS_PER_BATCH
        ):
            window = await self._window(page)
            for doc in page:
                file, sid = doc["file"], doc["sourced_id"]
                problems = problems_of(window, file, sid, doc["fields"])
                if not problems:
                    continue
                changed = True
                source = doc.get("source_file")
                await self._refuse(
                    doc,
                    [refusal(file, source, doc["line"], p.column, p.reason) for p in problems],
                )
                stored = (await store.records(self.reader, self.district_id, file, [sid])).get(sid)
                window.records[(file, sid)] = stored
                window.refused[(file, sid)] = doc["line"]
                window.package_keys.discard((file, sid))
        return changed

    async def _window(self, page: list[Document]) -> Window:
        window = Window(
            courses_known=self.courses_known,
            version=self.version,
            refused_files=self.refused_files,
        )
        wanted: set[Key] = set()
        users: set[str] = set()
        for doc in page:
            file, fields = doc["file"], doc["fields"]
            window.package_keys.add((file, doc["sourced_id"]))
            wanted |= set(references(file, fields))
            wanted.add((file, doc["sourced_id"]))
            if file == "users.csv":
                users.add(doc["sourced_id"])
            elif file == "enrollments.csv":
                users.add(fields["userSourcedId"])
        window.roles_by_user = await self._roles_of(users)
        for roles in window.roles_by_user.values():
            wanted |= {("orgs.csv", r["orgSourcedId"]) for r in roles}
        await self._present(window, wanted)
        classes = [v for (f, _), v in window.records.items() if f == "classes.csv" and v]
        await self._present(window, {("orgs.csv", c["schoolSourcedId"]) for c in classes})
        return window

    async def _present(self, window: Window, keys: set[Key]) -> None:
        """What the roster will hold for these keys after the import, and why not."""
        by_file: dict[str, set[str]] = {}
        for file, sid in keys:
            if (file, sid) not in window.records:
                by_file.setdefault(file, set()).add(sid)
        for file, ids in by_file.items():
            staged = await job_store.staged(
                self.reader, self.district_id, self.import_id, file, ids
            )
            needed = [
                sid
                for sid in ids
                if (staged.get(sid) or {}).get("state") in ("refused", "kept")
                or (sid not in staged and not (self.bulk and file in self.files))
            ]
            stored = await store.records(self.reader, self.district_id, file, needed)
            for sid in ids:
                doc = staged.get(sid)
                value: Fields | None
                if doc is None:
                    value = None if (self.bulk and file in self.files) else stored.get(sid)
                elif doc["state"] == "accepted":
                    value = None if doc["deleted"] else doc["fields"]
                    if doc["deleted"]:
                        window.deleted[(file, sid)] = doc["line"]
                elif doc["state"] == "remove":
                    value = None
                else:
                    value = stored.get(sid)
                    if doc["state"] == "refused" and "line" in doc:
                        window.refused[(file, sid)] = doc["line"]
                window.records[(file, sid)] = value

    async def _roles_of(self, users: set[str]) -> dict[str, list[Fields]]:
        if not users:
            return {}
        refs = [ref_key("users.csv", u) for u in users]
        found: dict[str, Fields] = {}
        for doc in await job_store.staged_referring(
            self.reader, self.district_id, self.import_id, "roles.csv", refs
        ):
            if doc["state"] == "accepted" and not doc["deleted"]:
                found[doc["sourced_id"]] = doc["fields"]
        stored = await store.records_referring(self.reader, self.district_id, refs, "roles.csv")
        overrides = await job_store.staged(
            self.reader,
            self.district_id,
            self.import_id,
            "roles.csv",
            (d["sourced_id"] for d in stored),
        )
        for doc in stored:
            sid = doc["sourced_id"]
            staged = overrides.get(sid)
            if staged is None:
                if not (self.bulk and "roles.csv" in self.files):
                    found.setdefault(sid, doc["fields"])
            elif staged["state"] in ("refused", "kept"):
                found[sid] = doc["fields"]
        roles: dict[str, list[Fields]] = {}
        for fields in found.values():
            if fields["userSourcedId"] in users:
                roles.setdefault(fields["userSourcedId"], []).append(fields)
        return roles


def _removed(row: Document) -> bool:
    """A staged row that removes a stored record."""
    return row["state"] == "remove" or (row["state"] == "accepted" and row.get("deleted") is True)


def _accepted(row: Document) -> bool:
    """A staged row that adds or changes a record."""
    return row["state"] == "accepted" and row.get("deleted") is False
