"""Sessions: the only thing the web keeps, in its own MongoDB database.

The browser holds a random session id in an HttpOnly, SameSite=Lax cookie (Secure in a
cluster); the database holds its SHA-256, so a copy of the database signs nobody in. The
tokens stay here: the browser's JavaScript never sees them. Each session has its CSRF
token; every form posts it back. A session id is replaced at sign-in (no fixation), and a
session expires after `session_idle_minutes` without a request (a TTL index removes it).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection

COOKIE = "aptt_session"
SESSIONS = "sessions"
INDEXES = [IndexModel([("expires_at", ASCENDING)], name="expiry", expireAfterSeconds=0)]
# Spent one-time form tokens (pages/common.py `once`), gone a day after they were spent.
FORM_TOKENS = "form_tokens"
# Refresh the expiry at most this often: not a write on every page.
TOUCH_EVERY = timedelta(minutes=5)


@dataclass
class User:
    subject: str
    name: str
    district_id: str
    roles: list[str]
    school_ids: list[str]

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_guardian(self) -> bool:
        return "guardian" in self.roles

    @property
    def is_staff(self) -> bool:
        return self.has("teacher", "school_admin", "district_admin", "educator")

    @property
    def is_admin(self) -> bool:
        return self.has("school_admin", "district_admin")


@dataclass
class Session:
    key: str  # the cookie's value; never stored
    csrf: str
    expires_at: datetime
    user: User | None = None
    access_token: str | None = None
    token_expires_at: datetime | None = None
    language: str | None = None
    login: dict[str, str] = field(default_factory=dict)
    touched_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def signed_in(self) -> bool:
        return (
            self.user is not None
            and self.access_token is not None
            and self.token_expires_at is not None
            and self.token_expires_at > datetime.now(UTC)
        )


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class SessionStore:
    def __init__(self, collection: AsyncCollection[dict[str, Any]], idle: timedelta) -> None:
        self.collection = collection
        self.idle = idle

    def new(self, *, language: str | None = None) -> Session:
        return Session(
            key=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            expires_at=datetime.now(UTC) + self.idle,
            language=language,
        )

    async def load(self, key: str | None) -> Session | None:
        if not key or len(key) > 100:
            return None
        doc = await self.collection.find_one({"_id": _hash(key)})
        if doc is None or doc["expires_at"] <= datetime.now(UTC):
            return None
        user = doc.get("user")
        session = Session(
            key=key,
            csrf=doc["csrf"],
            expires_at=doc["expires_at"],
            user=User(**user) if user else None,
            access_token=doc.get("access_token"),
            token_expires_at=doc.get("token_expires_at"),
            language=doc.get("language"),
            login=doc.get("login") or {},
            touched_at=doc.get("touched_at") or doc["expires_at"] - self.idle,
        )
        if datetime.now(UTC) - session.touched_at > TOUCH_EVERY:
            await self.save(session)
        return session

    async def save(self, session: Session) -> None:
        now = datetime.now(UTC)
        session.touched_at = now
        session.expires_at = now + self.idle
        await self.collection.replace_one(
            {"_id": _hash(session.key)},
            {
                "csrf": session.csrf,
                "expires_at": session.expires_at,
                "touched_at": now,
                "user": session.user.__dict__ if session.user else None,
                "access_token": session.access_token,
                "token_expires_at": session.token_expires_at,
                "language": session.language,
                "login": session.login,
            },
            upsert=True,
        )

    async def delete(self, session: Session) -> None:
        await self.collection.delete_one({"_id": _hash(session.key)})
