"""Run profiles shared by every notebook: ``quick`` (tests, CI, a first look) and ``full``.

The notebook's ``PROFILE`` parameter is the one source of truth: papermill sets it with
``-p PROFILE quick`` (``make run-all PROFILE=quick``, and ``make test``, which prepares papermill
copies for nbval). No environment variable overrides it.
"""

from __future__ import annotations

__all__ = ["PROFILES", "resolve_profile"]

PROFILES = ("quick", "full")


def resolve_profile(profile: str) -> str:
    """``profile`` itself, checked: anything but ``"quick"`` or ``"full"`` raises ``ValueError``."""
    if profile not in PROFILES:
        raise ValueError(f"PROFILE must be one of {PROFILES}, got {profile!r}")
    return profile
