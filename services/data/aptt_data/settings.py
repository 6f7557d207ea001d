"""The data service's settings (APTT_* environment variables) and the `Config` it hands the
platform: use cases and handlers read it (`uow.config_as(Config)`), routes through `ConfigDep`."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aptt_platform.settings import ServiceSettings
from pydantic import Field, field_validator

from aptt_data.oneroster import fields

MIB = 1024 * 1024


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
    # Outcome analytics (decision 0231): the smallest count shown in a school or district
    # report and inside a classroom; goals set this many days after a meeting count for it.
    outcomes_min_cell: int = 10
    outcomes_min_cell_classroom: int = 5
    goals_after_meeting_days: int = 14
    # OneRoster REST sync (decision 0207): records asked for per page.
    roster_sync_page_size: int = 100


class Settings(ServiceSettings):
    service_name: str = "data"
    # A class report with fewer scored students than this shows no chart (a district may
    # set its own through PUT /v1/district/settings).
    min_report_group_size: int = Field(default=5, ge=1, le=100)
    # A million-student district's OneRoster zip is about 1 GiB; it unpacks to about 5 GiB.
    max_upload_bytes: int = Field(default=2048 * MIB, ge=1024)
    # A zip may unpack to at most this much (zip bombs).
    max_unzipped_bytes: int = Field(default=10240 * MIB, ge=1024)
    # Entities (or result rows) an import applies per transaction, and how long a worker's
    # claim on an import lasts without renewal before another pod takes it over.
    import_chunk_size: int = Field(default=500, ge=10, le=5000)
    import_lease_seconds: float = Field(default=30.0, ge=1.0)
    # OneRoster does not say where a school is: new schools get this until changed.
    default_timezone: str = "America/Los_Angeles"
    default_language: str = "en"
    # Phone numbers without +country code are read as numbers of this region (ISO 3166).
    phone_region: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    max_rejections_reported: int = Field(default=5000, ge=10, le=100_000)
    # Outcome analytics (decision 0231).
    outcomes_min_cell: int = Field(default=10, ge=1, le=1000)
    outcomes_min_cell_classroom: int = Field(default=5, ge=1, le=1000)
    goals_after_meeting_days: int = Field(default=14, ge=0, le=90)
    # OneRoster REST sync (decision 0207): records per page, and how often every district
    # with a provider gets a delta sync (0: never on a schedule, only on demand).
    roster_sync_page_size: int = Field(default=100, ge=1, le=1000)
    roster_sync_interval_seconds: float = Field(default=0.0, ge=0.0)

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        ZoneInfo(value)
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        return fields.language(value)

    def config(self) -> Config:
        return Config(
            default_timezone=self.default_timezone,
            default_language=self.default_language,
            min_report_group_size=self.min_report_group_size,
            phone_region=self.phone_region,
            max_rejections_reported=self.max_rejections_reported,
            max_upload_bytes=self.max_upload_bytes,
            max_unzipped_bytes=self.max_unzipped_bytes,
            import_chunk_size=self.import_chunk_size,
            import_lease_seconds=self.import_lease_seconds,
            outcomes_min_cell=self.outcomes_min_cell,
            outcomes_min_cell_classroom=self.outcomes_min_cell_classroom,
            goals_after_meeting_days=self.goals_after_meeting_days,
            roster_sync_page_size=self.roster_sync_page_size,
        )
