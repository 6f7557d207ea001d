"""The goals domain: entities and rules. No I/O here."""

from __future__ import annotations
