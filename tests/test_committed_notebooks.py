"""The committed notebooks themselves: outputs from a fresh full run, nothing from the cache."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").rglob("[0-9][0-9]_*.ipynb"))
CACHE_REPORT = re.compile(r"(\d+) (?:read )?from the cache|(\d+) cached")


def cache_hits(notebook: dict) -> list[int]:
    """Every "N from the cache" / "N cached" a cell output reports."""
    hits = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
            text += "".join(output.get("data", {}).get("text/markdown", ""))
            hits += [int(a or b) for a, b in CACHE_REPORT.findall(text)]
    return hits


def test_the_checker_sees_cache_hits():
    output = {"output_type": "stream", "name": "stdout", "text": "54 runs: 0 trained now, 54 from the cache\n"}
    assert cache_hits({"cells": [{"cell_type": "code", "outputs": [output]}]}) == [54]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: str(path.relative_to(path.parents[1])))
def test_committed_outputs_are_fresh_full_runs(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert not [hit for hit in cache_hits(notebook) if hit > 0], f"{path.name}: outputs report cached results"
    errors = [o for c in notebook["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: committed outputs contain a traceback"
    parameters = [c for c in notebook["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(parameters) == 1 and 'PROFILE = "full"' in "".join(parameters[0]["source"])
    code = [c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert sum(bool(c.get("outputs")) for c in code) > len(code) // 2, f"{path.name}: most cells have no output"
