"""Use cases of the notify service: one function per command or handled event."""

from __future__ import annotations
