"""Bearer tokens: only RS256 tokens from our issuer, for our audience, unexpired, get in."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest
from aptt_platform.auth import CurrentPrincipal, Principal, TokenVerifier, require_roles
from aptt_platform.devissuer import DevIssuer
from aptt_platform.errors import Unauthorized
from aptt_platform.settings import ServiceSettings
from aptt_platform.web import Limit, install_problem_details
from fastapi import Depends, FastAPI


@pytest.fixture
def issuer(dev_issuer: DevIssuer) -> DevIssuer:
    return dev_issuer


@pytest.fixture
async def verifier(issuer: DevIssuer) -> AsyncIterator[TokenVerifier]:
    v = TokenVerifier(ServiceSettings(oidc_issuer=issuer.issuer, oidc_audience="aptt"))
    yield v
    await v.close()


def good_token(issuer: DevIssuer, **kw: object) -> str:
    args: dict[str, object] = {
        "subject": "g-1",
        "district_id": "d-1",
        "roles": ["guardian"],
        "student_ids": ["s-1"],
    }
    args.update(kw)
    return issuer.mint(**args)  # type: ignore[arg-type]


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(issuer: DevIssuer, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": issuer.issuer,
        "aud": "aptt",
        "sub": "x",
        "iat": now,
        "exp": now + 600,
        "aptt_district": "d-1",
        "aptt_roles": ["district_admin"],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


async def test_a_valid_token_gives_the_principal(
    issuer: DevIssuer, verifier: TokenVerifier
) -> None:
    principal = await verifier.verify(good_token(issuer))
    assert principal == Principal(
        subject="g-1",
        district_id="d-1",
        roles=frozenset({"guardian"}),
        student_ids=frozenset({"s-1"}),
    )
    assert principal.may_see_student("s-1")
    assert not principal.may_see_student("s-2")


async def test_alg_none_is_refused(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    token = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': issuer.kid})}.{b64(claims(issuer))}."
    with pytest.raises(Unauthorized, match="algorithm"):
        await verifier.verify(token)


async def test_hs256_signed_with_the_public_key_is_refused(
    issuer: DevIssuer, verifier: TokenVerifier
) -> None:
    # The classic key-confusion attack: a verifier that trusted the token's alg would check
    # this HMAC with the public key it knows and accept it.
    header = {"alg": "HS256", "typ": "JWT", "kid": issuer.kid}
    signing_input = f"{b64(header)}.{b64(claims(issuer))}".encode()
    import hashlib
    import hmac

    signature = hmac.new(issuer.public_pem.encode(), signing_input, hashlib.sha256).digest()
    token = signing_input.decode() + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    with pytest.raises(Unauthorized, match="algorithm"):
        await verifier.verify(token)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "someone-else"}, "(?i)audience"),
        ({"iss": "https://evil.example"}, "(?i)issuer"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"exp": None}, "exp"),
        ({"aptt_district": None}, "aptt_district"),
        ({"aptt_roles": ["superuser"]}, "aptt_roles"),
        # Ids land in events and records, whose ids are at most 255 characters.
        ({"aptt_district": "d" * 256}, "aptt_district"),
        ({"sub": "g" * 256}, "subject"),
        ({"aptt_students": ["s" * 256]}, "aptt_students"),
        ({"aptt_schools": [f"sch-{i}" for i in range(5001)]}, "aptt_schools"),
    ],
)
async def test_bad_claims_are_refused(
    issuer: DevIssuer, verifier: TokenVerifier, overrides: dict[str, object], reason: str
) -> None:
    token = jwt.encode(
        claims(issuer, **overrides),
        issuer.private_key,
        algorithm="RS256",
        headers={"kid": issuer.kid},
    )
    with pytest.raises(Unauthorized, match=reason):
        await verifier.verify(token)


async def test_a_token_signed_by_another_key_is_refused(
    verifier: TokenVerifier, issuer: DevIssuer, tmp_path: Path
) -> None:
    stranger = DevIssuer(issuer.issuer, tmp_path / "other.pem")
    with pytest.raises(Unauthorized):
        await verifier.verify(good_token(stranger))


async def test_routes_answer_401_and_403_as_problem_details(
    issuer: DevIssuer, verifier: TokenVerifier
) -> None:
    app = FastAPI()
    app.state.token_verifier = verifier
    install_problem_details(app)

    @app.get("/staff-only")
    async def staff_only(
        principal: Principal = Depends(require_roles("teacher")),
    ) -> dict[str, str]:
        return {"district": principal.district_id}

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"subject": principal.subject}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        missing = await client.get("/me")
        assert missing.status_code == 401
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["type"].endswith("/unauthorized")
        assert missing.headers["www-authenticate"].startswith("Bearer")
        guardian = {"Authorization": f"Bearer {good_token(issuer)}"}
        assert (await client.get("/me", headers=guardian)).json() == {"subject": "g-1"}
        forbidden = await client.get("/staff-only", headers=guardian)
        assert forbidden.status_code == 403
        assert forbidden.json()["status"] == 403
        teacher = {"Authorization": f"Bearer {good_token(issuer, roles=['teacher'])}"}
        assert (await client.get("/staff-only", headers=teacher)).json() == {"district": "d-1"}


async def test_page_limit_is_bounded() -> None:
    app = FastAPI()
    install_problem_details(app)

    @app.get("/things")
    async def things(limit: Limit = 50) -> dict[str, int]:
        return {"limit": limit}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/things")).json() == {"limit": 50}
        assert (await client.get("/things?limit=200")).json() == {"limit": 200}
        too_many = await client.get("/things?limit=201")
        assert too_many.status_code == 422
        assert too_many.json()["errors"][0]["location"] == "query.limit"
