"""Run profiles shared by every notebook: ``quick`` (tests, CI, a first look) and ``full``."""

from __future__ import annotations

import os

__all__ = ["PROFILES", "resolve_profile"]

PROFILES = ("quick", "full")


def resolve_profile(profile: str) -> str:
    """The profile to run: ``$RNNKIT_PROFILE`` when set (how ``make test`` asks for ``quick``),
    otherwise the notebook's own ``PROFILE`` parameter. Anything else raises ``ValueError``."""
    chosen = os.environ.get("RNNKIT_PROFILE") or profile
    if chosen not in PROFILES:
        raise ValueError(f"PROFILE must be one of {PROFILES}, got {chosen!r}")
    return chosen
