"""Collection names and the index helper every store module uses."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

SCHOOLS = "schools"
CLASSROOMS = "classrooms"
STUDENTS = "students"
GUARDIANS = "guardians"
MEETINGS = "meetings"
SKILLS = "skills"
NOTICES = "notices"
MESSAGES = "messages"
DELIVERIES = "deliveries"
RATE_BUCKETS = "rate_buckets"
SMS_NUMBERS = "sms_numbers"
LOCKS = "locks"
CONFERENCE_BOOKINGS = "conference_bookings"


def by_district(*keys: str, unique: bool = False, name: str) -> IndexModel:
    fields = [("district_id", ASCENDING), *((k, ASCENDING) for k in keys)]
    return IndexModel(fields, unique=unique, name=name)


def doc_id(district_id: str, *parts: str) -> str:
    return ":".join((district_id, *parts))


# Home visits: the family of each visit and each open invitation (docs/decisions/0540).
HOME_VISITS = "home_visits"
VISIT_INVITATIONS = "visit_invitations"
