"""Headline figures: each notebook saves its main computed numbers as a small JSON file, which the
classroom handout gathers into its results table (so no figure is ever retyped by hand)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.data.files import build_dir, write_text_atomic

__all__ = ["load_headlines", "results_dir", "save_headline"]


def results_dir() -> Path:
    """``$RNNKIT_RESULTS_DIR`` if set (``make run-all`` points it at ``build/notebooks``), else
    ``build/results`` in the repository."""
    return build_dir("results", env="RNNKIT_RESULTS_DIR")


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"headline value {value!r} is not finite")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    raise TypeError(f"headline values must be str/int/float/bool, got {type(value).__name__}")


def save_headline(notebook: str, figures: Mapping[str, Mapping[str, Any]], *, profile: str,
                  directory: str | os.PathLike | None = None) -> Path:
    """Write ``{result name: {"value": ..., "unit"/"detail": ...}}`` to ``<dir>/<notebook>.json``.

    Example: ``save_headline("02_stock", {"best model test MAE": {"value": 1.23, "detail": "..."}},
    profile="full")``.
    """
    if not figures:
        raise ValueError("figures is empty")
    clean = {str(name): {str(k): _plain(v) for k, v in entry.items()} for name, entry in figures.items()}
    for name, entry in clean.items():
        if "value" not in entry:
            raise ValueError(f"headline {name!r} has no 'value'")
    directory = Path(directory) if directory is not None else results_dir()
    return write_text_atomic(directory / f"{notebook}.json",
                             json.dumps({"notebook": notebook, "profile": profile, "figures": clean}, indent=1))


def load_headlines(directory: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """``{notebook: {"profile": ..., "figures": {...}}}`` from every ``*.json`` that
    :func:`save_headline` wrote in ``directory``."""
    found = {}
    for path in sorted(Path(directory).glob("*.json")):
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from error
        if not isinstance(content, dict) or "figures" not in content or "notebook" not in content:
            continue  # other JSON files (e.g. timings.json)
        found[content["notebook"]] = {"profile": content.get("profile"), "figures": content["figures"]}
    return found
