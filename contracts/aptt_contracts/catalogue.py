"""The topic catalogue: every Kafka topic of the platform, who writes and who reads it.

Kubernetes topics and ACLs (deploy/k8s) and the AsyncAPI document are generated from this
table, so it is the one place to change when a stream is added.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVICES: tuple[str, ...] = ("scheduling", "data", "goals", "notify")

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    producer: str
    consumers: tuple[str, ...]
    description: str
    partitions: int = 12
    key: str = "<district_id>:<aggregate id>"
    restricted: bool = False
    retention_ms: int = 30 * DAY_MS
    # Compacted streams keep the latest record per key: read models can be rebuilt from them.
    compacted: bool = False
    kind: str = "events"  # events | retry | dlq

    @property
    def cleanup_policy(self) -> str:
        return "compact" if self.compacted else "delete"


def retry_topic(service: str) -> str:
    return f"aptt.{service}.retry.v1"


def dlq_topic(service: str) -> str:
    return f"aptt.{service}.dlq.v1"


EVENT_TOPICS: tuple[Topic, ...] = (
    Topic(
        name="aptt.data.roster.v1",
        producer="data",
        consumers=("scheduling", "goals", "notify"),
        compacted=True,
        description="Schools, classrooms, students and guardian links: ids and codes only.",
    ),
    Topic(
        name="aptt.data.contacts.v1",
        producer="data",
        consumers=("notify",),
        restricted=True,
        compacted=True,
        description="Guardians' names, contact points and preferred language. Notify only.",
    ),
    Topic(
        name="aptt.data.skills.v1",
        producer="data",
        consumers=("scheduling", "goals", "notify"),
        partitions=3,
        compacted=True,
        description="Skills a district defined beyond the built-in catalogue, with benchmarks.",
    ),
    Topic(
        name="aptt.data.assessments.v1",
        producer="data",
        # scheduling: the bands of home-visit coverage.
        consumers=("goals", "scheduling"),
        description="Accepted assessment results: student id, skill code, score, date.",
    ),
    Topic(
        name="aptt.data.reports.v1",
        producer="data",
        consumers=("scheduling",),
        description="Class reports for team meetings, anonymous: bands and counts, no identities.",
    ),
    Topic(
        name="aptt.data.private-numbers.v1",
        producer="data",
        consumers=("notify",),
        restricted=True,
        description="Each student's private number for one class report. Notify only.",
    ),
    Topic(
        name="aptt.data.kindergarten.v1",
        producer="data",
        consumers=("notify",),
        restricted=True,
        compacted=True,
        partitions=3,
        description="Incoming kindergarten families before the SIS has them: the child's "
        "first name and birth date, guardians' contacts and languages. Notify only.",
    ),
    Topic(
        name="aptt.scheduling.meetings.v1",
        producer="scheduling",
        consumers=("data", "goals", "notify"),
        description="Team meetings scheduled, rescheduled, cancelled; RSVPs and attendance.",
    ),
    Topic(
        name="aptt.scheduling.conferences.v1",
        producer="scheduling",
        consumers=("notify",),
        description="One-to-one conference availability, bookings, moves, cancellations and "
        "interpreters.",
    ),
    Topic(
        name="aptt.scheduling.visits.v1",
        producer="scheduling",
        # data: outcome analytics (reach: families visited at home).
        consumers=("notify", "data"),
        description="Home visits: families invited and answering; visits proposed, scheduled, "
        "moved, done, missed, cancelled; reflections written (the fact only). No address, no text.",
    ),
    Topic(
        name="aptt.scheduling.family-events.v1",
        producer="scheduling",
        consumers=("data",),
        partitions=3,
        description="A school's own family events and their turnout: kind code, linked to "
        "learning or not, date, families and guardians by relationship. No titles.",
    ),
    Topic(
        name="aptt.goals.goals.v1",
        producer="goals",
        # data: outcome analytics (goals set and met, practice per week).
        consumers=("notify", "scheduling", "data"),
        description="SMART goals set, progressed, met and closed; practice logged.",
    ),
    Topic(
        name="aptt.notify.deliveries.v1",
        producer="notify",
        consumers=(),
        description="Messages sent or failed per channel: ids and codes, never contents.",
    ),
    # Home-visit invitations answered by text (docs/decisions/0541).
    Topic(
        name="aptt.notify.visit-answers.v1",
        producer="notify",
        consumers=("scheduling",),
        description="A guardian texted YES or NO to a home-visit invitation: invitation, "
        "guardian, answer code and time. No text, no phone number.",
    ),
)

INFRA_TOPICS: tuple[Topic, ...] = tuple(
    t
    for service in SERVICES
    for t in (
        Topic(
            name=retry_topic(service),
            producer=service,
            consumers=(service,),
            kind="retry",
            partitions=6,
            retention_ms=7 * DAY_MS,
            key="the original record's key",
            description=f"Records the {service} service failed to handle, waiting to retry.",
            # A failed record of a restricted topic is retried through here too.
            restricted=True,
        ),
        Topic(
            name=dlq_topic(service),
            producer=service,
            consumers=(service,),
            kind="dlq",
            partitions=1,
            retention_ms=30 * DAY_MS,
            key="the original record's key",
            description=f"Dead letters of the {service} service, with the reason in headers.",
            restricted=True,
        ),
    )
)

TOPICS: tuple[Topic, ...] = EVENT_TOPICS + INFRA_TOPICS
TOPICS_BY_NAME: dict[str, Topic] = {t.name: t for t in TOPICS}


def topics_consumed_by(service: str) -> list[str]:
    """The event topics a service's consumer subscribes to (retry topic not included)."""
    return [t.name for t in EVENT_TOPICS if service in t.consumers]


def topics_published_by(service: str) -> list[str]:
    return [t.name for t in EVENT_TOPICS if t.producer == service]


def topics_of(service: str) -> list[Topic]:
    """Every topic a service touches, for creating them when running locally."""
    names = {*topics_consumed_by(service), *topics_published_by(service)}
    names |= {retry_topic(service), dlq_topic(service)}
    return [t for t in TOPICS if t.name in names]


__all__ = [
    "EVENT_TOPICS",
    "INFRA_TOPICS",
    "SERVICES",
    "TOPICS",
    "TOPICS_BY_NAME",
    "Topic",
    "dlq_topic",
    "retry_topic",
    "topics_consumed_by",
    "topics_of",
    "topics_published_by",
]
