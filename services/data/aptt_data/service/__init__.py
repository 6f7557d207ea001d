"""Use cases of the data service, one module per area: roster, skills and assessments,
class reports, access checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aptt_platform.mongo import utcnow

from aptt_data.domain.reports import ReportPolicy


@dataclass(frozen=True)
class Config:
    """What the use cases need from the service's settings."""

    default_timezone: str
    default_language: str
    min_report_group_size: int
    phone_region: str
    max_rejections_reported: int
    max_upload_bytes: int
    max_unzipped_bytes: int
    import_chunk_size: int = 500
    import_lease_seconds: float = 30.0

    @property
    def report_policy(self) -> ReportPolicy:
        return ReportPolicy(
            min_group_size=self.min_report_group_size, default_timezone=self.default_timezone
        )


def stored_now() -> datetime:
    """Now, at the millisecond precision MongoDB keeps, so what we answer is what we store."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
