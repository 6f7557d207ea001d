"""Use cases of the scheduling service: one function per command or handled event."""

from __future__ import annotations
