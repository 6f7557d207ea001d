"""Demo data for `aptt up`: a district with schools, classes, families and results."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aptt_local.servers import LocalStack


def seed(
    service_urls: Mapping[str, str], *, issuer_key: Path, issuer_url: str, stack: LocalStack
) -> str:
    """Load the demo district through the services' own APIs; return how to walk it."""
    return ""
