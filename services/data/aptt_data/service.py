"""Use cases of the data service: one function per command or handled event."""

from __future__ import annotations
