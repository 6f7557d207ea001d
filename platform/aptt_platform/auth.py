"""OIDC bearer tokens, validated with PyJWT against the issuer's JWKS.

The algorithm list is fixed by settings (RS256), never taken from the token, so `alg=none`
and HS256-signed-with-the-public-key tokens are refused. Audience, issuer and expiry are
required and checked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import jwt
from aptt_contracts.bounds import MAX_ID, MAX_IDS
from fastapi import Depends, Request

from aptt_platform.errors import Forbidden, Unauthorized
from aptt_platform.settings import ServiceSettings

ROLES = ("district_admin", "school_admin", "teacher", "educator", "guardian")
STAFF_ROLES = frozenset({"district_admin", "school_admin", "teacher", "educator"})

# Claim names of the tokens the platform accepts (docs/decisions/0004-auth.md).
CLAIM_DISTRICT = "aptt_district"
CLAIM_ROLES = "aptt_roles"
CLAIM_SCHOOLS = "aptt_schools"
CLAIM_STUDENTS = "aptt_students"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a guardian (subject = guardian id) or a member of staff."""

    subject: str
    district_id: str
    roles: frozenset[str]
    school_ids: frozenset[str] = field(default_factory=frozenset)
    student_ids: frozenset[str] = field(default_factory=frozenset)

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_guardian(self) -> bool:
        return "guardian" in self.roles

    @property
    def is_district_admin(self) -> bool:
        return "district_admin" in self.roles

    def may_see_school(self, school_id: str) -> bool:
        return self.is_district_admin or school_id in self.school_ids

    def may_see_student(self, student_id: str) -> bool:
        """For guardians: only their own linked students."""
        return student_id in self.student_ids


class TokenVerifier:
    def __init__(self, settings: ServiceSettings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._http = http or httpx.AsyncClient(timeout=5.0)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self._http.aclose()

    async def verify(self, token: str) -> Principal:
        return principal_from_claims(await self.claims(token))

    async def claims(self, token: str, *, audience: str | None = None) -> dict[str, Any]:
        """The token's verified claims; `audience` for a token meant for someone else than
        the services (an OIDC ID token is for its client)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("the bearer token is not a JWT") from exc
        if header.get("alg") not in self.settings.oidc_algorithms:
            raise Unauthorized("the token's signing algorithm is not accepted")
        key = await self._key(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=list(self.settings.oidc_algorithms),
                audience=audience or self.settings.oidc_audience,
                issuer=self.settings.oidc_issuer,
                leeway=self.settings.oidc_leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"the token is not valid: {exc}") from exc
        return claims

    async def _key(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys:
            async with self._lock:
                # Unknown kid: the issuer may have rotated keys. Refetch, but not in a storm.
                if kid not in self._keys and time.monotonic() - self._fetched_at > 10:
                    await self._fetch_jwks()
        if kid not in self._keys:
            raise Unauthorized("the token was signed by an unknown key")
        return self._keys[kid]

    async def _fetch_jwks(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            response = await self._http.get(self.settings.jwks_url)
            response.raise_for_status()
            keyset = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, jwt.PyJWTError, ValueError) as exc:
            raise Unauthorized("the token issuer's keys cannot be read") from exc
        self._keys = {k.key_id: k for k in keyset.keys if k.key_id}


def _ids(claims: dict[str, Any], claim: str) -> frozenset[str]:
    values = claims.get(claim) or []
    if not isinstance(values, list) or len(values) > MAX_IDS:
        raise Unauthorized(f"the token's {claim} claim is not a list of at most {MAX_IDS} ids")
    ids = frozenset(map(str, values))
    if any(len(value) > MAX_ID for value in ids):
        raise Unauthorized(f"the token's {claim} claim has an id over {MAX_ID} characters")
    return ids


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    district = claims.get(CLAIM_DISTRICT)
    roles = claims.get(CLAIM_ROLES)
    subject = str(claims["sub"])
    # Ids from the token land in events and records, whose ids are bounded.
    if not isinstance(district, str) or not district or len(district) > MAX_ID:
        raise Unauthorized(
            f"the token has no {CLAIM_DISTRICT} claim of at most {MAX_ID} characters"
        )
    if not subject or len(subject) > MAX_ID:
        raise Unauthorized(f"the token's subject is empty or over {MAX_ID} characters")
    if not isinstance(roles, list) or not roles or not set(roles) <= set(ROLES):
        raise Unauthorized(f"the token's {CLAIM_ROLES} claim is missing or unknown")
    return Principal(
        subject=subject,
        district_id=district,
        roles=frozenset(roles),
        school_ids=_ids(claims, CLAIM_SCHOOLS),
        student_ids=_ids(claims, CLAIM_STUDENTS),
    )


async def current_principal(request: Request) -> Principal:
    # Verified once per request: the request limits (aptt_platform.ratelimit) ask first.
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):
        return known
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send an OIDC bearer token in the Authorization header")
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(token.strip())
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that lets through only callers with one of `roles`."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(*roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")
        return principal

    return dependency
