"""Which queries the database answers by reading a whole collection.

SecantusDB, the local database, plans a query as a collection scan whenever one of its
fields is outside the index it would use (an extra `status` beside an indexed
`(district_id, recipient_id)` reads every document), and an `$or` always. A scan costs
nothing in a test's small collections and everything in a district's: so the test session
samples one query of each shape its services send, asks the database to explain each at the
end, and names those planned as scans (docs/capacity.md).

A filter on `_id` (one value or an `$in`) beside other fields is explained as a scan too,
but answered by looking each `_id` up and checking the other fields on the documents found:
among 20,000 documents an update on `{_id, status}` takes about 2 ms like one on `{_id}`,
where a real scan takes over 300 ms. Those shapes are left out of the list.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pymongo import MongoClient, monitoring
from pymongo.errors import OperationFailure

# Collections a service reads whole on purpose: a handful of documents each (leases,
# checkpoints, the import queue across districts).
SMALL_COLLECTIONS = frozenset({"leases", "relay_state", "districts", "imports", "outbox_parked"})
FILTER_OF = {
    "find": "filter",
    "count": "query",
    "distinct": "query",
    "findAndModify": "query",
}


def shape(value: Any) -> str:
    """A filter with its values left out: `{district_id:.,status:{$in:[.]}}`."""
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{shape(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + (shape(value[0]) if value else "") + "]"
    return "."


@dataclass(frozen=True)
class Query:
    database: str
    collection: str
    filter: Mapping[str, Any]
    sort: Mapping[str, Any] | None

    @property
    def shape(self) -> str:
        sort = f" sort {shape(self.sort)}" if self.sort else ""
        return f"{self.collection} {shape(self.filter)}{sort}"


def queries_of(command: Mapping[str, Any], name: str, database: str) -> Iterator[Query]:
    collection = command.get(name)
    if not isinstance(collection, str):
        return
    if name in FILTER_OF:
        found = command.get(FILTER_OF[name]) or {}
        yield Query(database, collection, found, command.get("sort"))
    elif name in ("update", "delete"):
        for statement in command.get("updates" if name == "update" else "deletes") or []:
            yield Query(database, collection, statement.get("q") or {}, None)
    elif name == "aggregate":
        stages = command.get("pipeline") or []
        if stages and "$match" in stages[0]:
            yield Query(database, collection, stages[0]["$match"], None)


class QuerySampler(monitoring.CommandListener):
    """Keeps the first query of each shape sent by any client of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.samples: dict[str, Query] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        for query in queries_of(event.command, event.command_name, event.database_name):
            if not query.filter or query.collection in SMALL_COLLECTIONS:
                continue
            if query.collection.startswith("system.") or query.database in ("admin", "local"):
                continue
            with self._lock:
                self.samples.setdefault(query.shape, query)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def keyed_by_id(query: Mapping[str, Any]) -> bool:
    """The filter names its documents by `_id`: one value, or an `$in` of values."""
    if "_id" not in query:
        return False
    key = query["_id"]
    return not isinstance(key, Mapping) or set(key) == {"$in"}


def _stages(plan: Any) -> Iterator[str]:
    if isinstance(plan, Mapping):
        if isinstance(plan.get("stage"), str):
            yield plan["stage"]
        for value in plan.values():
            yield from _stages(value)
    elif isinstance(plan, list):
        for value in plan:
            yield from _stages(value)


def scans(url: str, queries: list[Query]) -> list[str]:
    """The shapes of the queries the database plans as collection scans."""
    found: list[str] = []
    client: MongoClient[dict[str, Any]]
    with MongoClient(url, tz_aware=True) as client:
        for query in queries:
            if keyed_by_id(query.filter):
                continue
            command: dict[str, Any] = {"find": query.collection, "filter": dict(query.filter)}
            if query.sort:
                command["sort"] = dict(query.sort)
            try:
                explained = client[query.database].command(
                    "explain", command, verbosity="queryPlanner"
                )
            except OperationFailure:  # a query the server cannot explain is not known as a scan
                continue
            if "COLLSCAN" in _stages(explained.get("queryPlanner", explained)):
                found.append(query.shape)
    return sorted(found)
