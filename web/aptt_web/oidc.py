"""Signing in: the web is an OIDC relying party (authorization code flow with PKCE, Authlib).

The district's identity provider signs the person in and sends them back with a code; the
web exchanges it (with the PKCE verifier) for an ID token, which says who signed in (checked:
signature, issuer, audience, nonce), and an access token, which the web sends to the
services on the person's behalf. Both stay in the server-side session.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aptt_platform.auth import TokenVerifier
from aptt_platform.errors import Unauthorized
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

from aptt_web.sessions import User
from aptt_web.settings import Settings

DISCOVERY_TTL = 3600.0


class SignInFailed(Exception):
    """The identity provider did not sign the person in; the page says so plainly."""


@dataclass(frozen=True)
class SignedIn:
    user: User
    access_token: str
    expires_at: datetime


class RelyingParty:
    def __init__(self, settings: Settings, verifier: TokenVerifier) -> None:
        self.settings = settings
        self.verifier = verifier
        self._metadata: dict[str, Any] = {}
        self._fetched = 0.0

    def _client(self) -> AsyncOAuth2Client:
        secret = self.settings.oidc_client_secret
        return AsyncOAuth2Client(
            client_id=self.settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            token_endpoint_auth_method="client_secret_basic" if secret else "none",
            scope=self.settings.oidc_scopes,
            redirect_uri=self.settings.redirect_uri,
            code_challenge_method="S256",
            timeout=10.0,
        )

    async def metadata(self) -> dict[str, Any]:
        if not self._metadata or time.monotonic() - self._fetched > DISCOVERY_TTL:
            url = self.settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
            try:
                async with httpx.AsyncClient(timeout=10.0) as http:
                    answer = await http.get(url)
                    answer.raise_for_status()
                    self._metadata = answer.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise SignInFailed("the sign-in service cannot be reached") from exc
            self._fetched = time.monotonic()
        return self._metadata

    async def start(self, *, language: str | None) -> tuple[str, dict[str, str]]:
        """The address to send the person to, and what to keep until they come back."""
        metadata = await self.metadata()
        verifier = generate_token(64)
        state, nonce = generate_token(32), generate_token(32)
        extra = {"nonce": nonce}
        if language:
            extra["ui_locales"] = language
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"], state=state, code_verifier=verifier, **extra
            )
        return url, {"state": state, "nonce": nonce, "verifier": verifier}

    async def finish(self, *, code: str, state: str, login: dict[str, str]) -> SignedIn:
        if not login.get("state") or state != login["state"]:
            raise SignInFailed("the sign-in did not start here, or it was started again")
        metadata = await self.metadata()
        async with self._client() as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=login["verifier"]
                )
            except Exception as exc:  # Authlib raises its own OAuthError and httpx's errors
                raise SignInFailed("the sign-in service refused the sign-in") from exc
        try:
            identity = await self.verifier.claims(
                str(token.get("id_token", "")), audience=self.settings.oidc_client_id
            )
            principal = await self.verifier.verify(str(token.get("access_token", "")))
        except Unauthorized as exc:
            raise SignInFailed(f"the sign-in could not be checked: {exc.detail}") from exc
        if identity.get("nonce") != login.get("nonce") or identity["sub"] != principal.subject:
            raise SignInFailed("the sign-in answer does not belong to this sign-in")
        expires_in = int(token.get("expires_in") or 3600)
        return SignedIn(
            user=User(
                subject=principal.subject,
                name=str(identity.get("name") or principal.subject)[:200],
                district_id=principal.district_id,
                roles=sorted(principal.roles),
                school_ids=sorted(principal.school_ids),
            ),
            access_token=str(token["access_token"]),
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
        )
