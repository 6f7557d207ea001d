"""Every metric the platform exports, in one place so dashboards and alerts have one source.

Labels carry service names, routes, topics, event types and outcomes: never student,
guardian or message ids (FERPA, and cardinality).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Info

HTTP_REQUESTS = Counter(
    "aptt_http_requests",
    "HTTP requests handled, by route template and status code.",
    ["app", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "aptt_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["app", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS_LIMITED = Counter(
    "aptt_http_requests_limited",
    "Write requests refused with 429: by route template, budget (writes, messages) and the "
    "window that was full (principal, district).",
    ["app", "route", "budget", "scope"],
)
EVENTS_PUBLISHED = Counter(
    "aptt_events_published",
    "Events the outbox relay published to Kafka.",
    ["app", "topic", "type"],
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "aptt_outbox_publish_failures",
    "Attempts of the outbox relay to publish a record that failed.",
    ["app"],
)
OUTBOX_BACKLOG = Gauge(
    "aptt_outbox_backlog",
    "Outbox records the relay has read and not yet published.",
    ["app"],
)
OUTBOX_PARKED = Counter(
    "aptt_outbox_parked",
    "Outbox records parked because they can never be published (too large, refused).",
    ["app"],
)
OUTBOX_PARKED_NOW = Gauge(
    "aptt_outbox_parked_records",
    "Records in outbox_parked, waiting for an operator to replay them.",
    ["app"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "aptt_outbox_oldest_pending_age_seconds",
    "Age of the oldest outbox record not yet published (0 when none).",
    ["app"],
)
EVENTS_CONSUMED = Counter(
    "aptt_events_consumed",
    "Records a consumer handled, by event type and outcome "
    "(ok, duplicate, retried, dead_lettered; ignored for types the service does not handle).",
    ["app", "consumer", "topic", "type", "outcome"],
)
HANDLER_DURATION = Histogram(
    "aptt_event_handler_duration_seconds",
    "Time a consumer's handler took, transaction included.",
    ["app", "consumer", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CONSUMER_LAG = Gauge(
    "aptt_consumer_lag",
    "Records behind per partition: highwater minus committed offset.",
    ["app", "consumer", "topic", "partition"],
)
DEAD_LETTERS_REPLAYED = Counter(
    "aptt_dead_letters_replayed",
    "Dead letters sent back for another try.",
    ["app"],
)
MESSAGES_SENT = Counter(
    "aptt_messages_sent",
    "Messages to families and staff, by channel and outcome (sent, failed, deferred, suppressed).",
    ["app", "channel", "outcome"],
)
DEPENDENCY_UP = Gauge(
    "aptt_dependency_up",
    "1 when the last readiness check reached the dependency, else 0.",
    ["app", "dependency"],
)
BUILD_INFO = Info("aptt_build", "Service name and version.", ["app"])
