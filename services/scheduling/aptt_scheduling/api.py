"""HTTP routes of the scheduling service: parse, authorize, call a use case, shape the answer."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["scheduling"])
