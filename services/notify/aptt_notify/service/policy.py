"""The knobs of the notify rules, taken from settings once and passed to use cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class Policy:
    default_timezone: str = "UTC"
    # How long an event waits for recipients it cannot resolve yet (roster arriving late).
    recipient_wait: timedelta = timedelta(hours=72)
    # How long a message without a natural deadline waits for contacts or its school.
    message_max_wait: timedelta = timedelta(days=7)
    # A message waiting for contacts is woken by the contact event; this is the safety net.
    recheck_interval: timedelta = timedelta(hours=1)
    recipient_per_hour: int = 20
    district_per_hour: int = 20_000
    reply_expiry: timedelta = timedelta(hours=1)
    # Longer than any transaction: a notice opened by the sender is expanded again after it.
    settle_delay: timedelta = timedelta(seconds=10)

    def zone(self, name: str | None) -> ZoneInfo:
        for candidate in (name, self.default_timezone, "UTC"):
            if candidate:
                try:
                    return ZoneInfo(candidate)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return ZoneInfo("UTC")
