"""rnnkit.results: the headline figures each notebook saves for the handout."""

import json

import numpy as np
import pytest

from rnnkit import results


def test_save_and_load_headlines_round_trip(tmp_path):
    path = results.save_headline("02_stock", {"test MAE": {"value": np.float32(0.75), "detail": "lstm"},
                                              "runs": {"value": np.int64(66)}}, profile="full", directory=tmp_path)
    assert path == tmp_path / "02_stock.json"
    results.save_headline("04_pos", {"accuracy": {"value": 0.95, "unit": ""}}, profile="quick", directory=tmp_path)
    (tmp_path / "timings.json").write_text(json.dumps({"full": {"x": 1.0}}))  # other JSON files are skipped
    loaded = results.load_headlines(tmp_path)
    assert list(loaded) == ["02_stock", "04_pos"]
    assert loaded["02_stock"] == {"profile": "full", "figures": {"test MAE": {"value": 0.75, "detail": "lstm"},
                                                                  "runs": {"value": 66}}}
    assert type(loaded["02_stock"]["figures"]["runs"]["value"]) is int
    assert loaded["04_pos"]["profile"] == "quick"


@pytest.mark.parametrize("figures, error, message", [
    ({}, ValueError, "figures is empty"),
    ({"x": {"detail": "no value"}}, ValueError, "has no 'value'"),
    ({"x": {"value": float("nan")}}, ValueError, "not finite"),
    ({"x": {"value": [1, 2]}}, TypeError, "must be str/int/float/bool"),
])
def test_save_headline_rejects_bad_figures(tmp_path, figures, error, message):
    with pytest.raises(error, match=message):
        results.save_headline("nb", figures, profile="full", directory=tmp_path)
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_load_headlines_names_a_broken_file(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json: not valid JSON"):
        results.load_headlines(tmp_path)
