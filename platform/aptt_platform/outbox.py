"""Parked outbox records: list them, and put them back once the cause is fixed.

A record the broker refuses for good (too large, no such topic, not authorised) is parked by
the relay in `outbox_parked` with its reason (docs/decisions/0005-platform-v2.md). A replay
writes it to the outbox again with the same event id, so a consumer that did see it drops
the copy.

    aptt-outbox list goals
    aptt-outbox replay goals [--event-id ID ...]
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from aptt_contracts.catalogue import SERVICES

from aptt_platform.mongo import Mongo
from aptt_platform.relay import list_parked, replay_parked
from aptt_platform.settings import ServiceSettings


async def _list(settings: ServiceSettings) -> int:
    mongo = Mongo(settings.mongo_url.get_secret_value(), settings.database_name)
    try:
        parked = await list_parked(mongo)
    finally:
        await mongo.close()
    for record in parked:
        print(
            f"{record['parked_at']:%Y-%m-%dT%H:%M:%SZ}\t{record['event_id']}\t{record['type']}\t"
            f"{record['topic']}\t{record['reason']}"
        )
    print(f"{len(parked)} parked record(s) in {settings.database_name}", file=sys.stderr)
    return 0


async def _replay(settings: ServiceSettings, event_ids: list[str]) -> int:
    mongo = Mongo(settings.mongo_url.get_secret_value(), settings.database_name)
    try:
        count = await replay_parked(mongo, event_ids=event_ids or None)
    finally:
        await mongo.close()
    print(f"put {count} parked record(s) back in the outbox of {settings.database_name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="aptt-outbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["list", "replay"])
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--event-id", action="append", default=[], help="replay only these")
    args = parser.parse_args(argv)
    settings = ServiceSettings(service_name=args.service)
    if args.action == "list":
        return asyncio.run(_list(settings))
    return asyncio.run(_replay(settings, args.event_id))


if __name__ == "__main__":
    raise SystemExit(main())
