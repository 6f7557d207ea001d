"""Use cases of the data service, one module per area: roster imports (`roster`), school and
district settings (`schools`), skills (`skills`), result imports (`assessments`), a student's
results and disclosures (`results`), class reports (`reports`, `report_views`), access checks."""

from __future__ import annotations

from datetime import datetime

from aptt_platform.mongo import utcnow

from aptt_data.settings import Config

__all__ = ["Config", "stored_now"]


def stored_now() -> datetime:
    """Now, at the millisecond precision MongoDB keeps, so what we answer is what we store."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
