"""Use cases of the goals service: one function per command or handled event."""

from __future__ import annotations
