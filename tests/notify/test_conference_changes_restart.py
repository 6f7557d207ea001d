"""A fold of conference moves is told once across a notify restart and a redelivered move
(0542): the waiting notice lives in the database, and the consumer's dedupe drops the copy."""

from __future__ import annotations

import asyncio
from typing import Any

from aptt_local.servers import LocalStack
from aptt_local.testing import eventually
from aptt_platform.devissuer import DevIssuer

from .conftest import running_notify
from .test_conference_changes import in_five_days, moves
from .test_conference_messages import booking, event_of, invitation

# Longer than a notify stop and start on a loaded machine, so the moves before and after the
# restart fall in one window.
WINDOW = 30


async def test_a_fold_is_told_once_across_a_restart_and_a_redelivered_move(
    local_stack: LocalStack, dev_issuer: DevIssuer
) -> None:
    settings: dict[str, Any] = {"meeting_change_window_seconds": WINDOW}
    async with running_notify(local_stack, dev_issuer, **settings) as first:
        district = first.district()
        family = district.family({"phone": False, "email": True})
        await district.publish_roster()
        email = family.guardians[0].email
        made = booking(district, family, in_five_days())
        await first.publish(made)
        await first.wait_mail(email)
        burst = moves(made, 3)
        ids = await first.publish(burst[0], burst[1])

        async def folded() -> bool:
            found = await first.db["notices"].find_one(
                {"district_id": district.district_id, "meeting_id": made.booking_id}
                | {"template": "conference-moved", "status": "scheduled"}
            )
            return found is not None and found["params"]["calendar"]["sequence"] == 2

        await eventually(folded, timeout=60, what="two moves folded into one waiting notice")

    # The same database, as a restarted replica has.
    settings["mongo_database"] = first.settings.mongo_database
    async with running_notify(local_stack, dev_issuer, **settings) as second:
        await second.publish(burst[1], event_id=ids[1])  # the relay sends a record again
        await second.publish(burst[2])
        [_, change] = await second.wait_mail(email, 2)
        event = event_of(invitation(change)[1])
        assert event["SEQUENCE"] == 3
        assert event.decoded("DTSTART") == burst[2].starts_at
        await asyncio.sleep(5)  # a copy would go out at once: give it the time to
        assert len(second.mail_to(email)) == 2
        changes = await second.messages(district.district_id, template="conference-moved")
        assert len(changes) == 1
