"""rnnkit.experiments: the grid runner, its on-disk cache and the summary table."""

import json

import numpy as np
import pandas as pd
import pytest

from rnnkit import experiments


class CountingRun:
    """A fake training function that records its calls and returns seed-dependent metrics."""

    def __init__(self):
        self.calls = []

    def __call__(self, config, seed):
        self.calls.append((config["units"], seed))
        return {"val_loss": config["units"] / 100 + seed, "epochs": 3}


def test_grid_rows_columns_and_values(tmp_path):
    run = CountingRun()
    results = experiments.run_grid(run, [{"units": 8}, {"units": 16}], [0, 1], data_fingerprint="d",
                                   cache_dir=tmp_path, progress=False)
    assert list(results.columns) == ["units", "seed", "val_loss", "epochs", "seconds", "cached"]
    assert results[["units", "seed"]].values.tolist() == [[8, 0], [8, 1], [16, 0], [16, 1]]
    assert results["val_loss"].tolist() == pytest.approx([0.08, 1.08, 0.16, 1.16])
    assert not results["cached"].any()
    assert run.calls == [(8, 0), (8, 1), (16, 0), (16, 1)]


def test_cache_hit_skips_training(tmp_path):
    run = CountingRun()
    kwargs = dict(data_fingerprint="d", cache_dir=tmp_path, progress=False)
    first = experiments.run_grid(run, [{"units": 8}], [0, 1], **kwargs)
    second = experiments.run_grid(run, [{"units": 8}, {"units": 4}], [0, 1], **kwargs)
    assert run.calls == [(8, 0), (8, 1), (4, 0), (4, 1)]  # the second call only trains units=4
    assert second["cached"].tolist() == [True, True, False, False]
    pd.testing.assert_series_equal(first["val_loss"], second["val_loss"].iloc[:2])
    pd.testing.assert_series_equal(first["seconds"], second["seconds"].iloc[:2])


def test_cache_key_changes_with_data_config_seed_and_version():
    base = experiments.cache_key({"units": 8}, seed=0, data_fingerprint="a", version="1")
    assert base == experiments.cache_key({"units": 8}, seed=0, data_fingerprint="a", version="1")
    assert base != experiments.cache_key({"units": 8}, seed=0, data_fingerprint="b", version="1")
    assert base != experiments.cache_key({"units": 9}, seed=0, data_fingerprint="a", version="1")
    assert base != experiments.cache_key({"units": 8}, seed=1, data_fingerprint="a", version="1")
    assert base != experiments.cache_key({"units": 8}, seed=0, data_fingerprint="a", version="2")


def test_changed_data_fingerprint_retrains(tmp_path):
    run = CountingRun()
    experiments.run_grid(run, [{"units": 8}], [0], data_fingerprint="a", cache_dir=tmp_path, progress=False)
    experiments.run_grid(run, [{"units": 8}], [0], data_fingerprint="b", cache_dir=tmp_path, progress=False)
    assert run.calls == [(8, 0), (8, 0)]


@pytest.mark.parametrize("garbage", [b"{\"metrics\": {\"val_lo", b"\xff\xfe\x00", b"[1, 2]", b""])
def test_corrupt_cache_file_is_recomputed(tmp_path, garbage):
    run = CountingRun()
    kwargs = dict(data_fingerprint="d", cache_dir=tmp_path, name="g", progress=False)
    experiments.run_grid(run, [{"units": 8}], [0], **kwargs)
    (entry,) = (tmp_path / "g").glob("*.json")
    entry.write_bytes(garbage)
    with pytest.warns(UserWarning, match="corrupt cache entry .*json"):
        results = experiments.run_grid(run, [{"units": 8}], [0], **kwargs)
    assert run.calls == [(8, 0), (8, 0)]
    assert results["val_loss"].tolist() == [0.08]
    assert json.loads(entry.read_text())["metrics"]["val_loss"] == 0.08  # rewritten, valid again


def test_cache_write_leaves_no_temp_files(tmp_path):
    cache = experiments.ResultCache(tmp_path)
    cache.put("k", {"metrics": {"a": np.float32(1.5)}, "seconds": 1.0})
    assert [p.name for p in tmp_path.iterdir()] == ["k.json"]
    assert cache.get("k")["metrics"]["a"] == 1.5


def test_failed_run_stores_nothing(tmp_path):
    def broken(config, seed):
        raise RuntimeError("diverged")

    with pytest.raises(RuntimeError, match="diverged"):
        experiments.run_grid(broken, [{"units": 8}], [0], data_fingerprint="d", cache_dir=tmp_path,
                             progress=False)
    assert list(tmp_path.rglob("*.json")) == []


def test_bad_grid_arguments(tmp_path):
    run = CountingRun()
    with pytest.raises(ValueError, match="same keys"):
        experiments.run_grid(run, [{"units": 8}, {"cell": "lstm"}], [0], data_fingerprint="d", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="reserved"):
        experiments.run_grid(run, [{"seed": 8}], [0], data_fingerprint="d", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="configs is empty"):
        experiments.run_grid(run, [], [0], data_fingerprint="d", cache_dir=tmp_path)


def test_summarize_mean_std_sorted():
    results = pd.DataFrame({
        "cell": ["lstm", "lstm", "gru", "gru"], "seed": [0, 1, 0, 1],
        "mae": [1.0, 3.0, 0.5, 0.7], "seconds": [1.0, 1.0, 2.0, 2.0], "cached": [False] * 4,
    })
    table = experiments.summarize(results, "mae", higher_is_better=False)
    assert table.index.tolist() == ["gru", "lstm"]
    assert table.loc["lstm", "mae"] == 2.0
    assert table.loc["lstm", "mae_std"] == pytest.approx(np.sqrt(2.0))
    assert table.loc["gru", "seeds"] == 2
    shown = experiments.format_summary(table, digits=2)
    assert shown.loc["lstm", "mae"] == "2.00 ± 1.41"
    with pytest.raises(ValueError, match="no column 'acc'"):
        experiments.summarize(results, "acc")


def test_fingerprint_sees_values_and_dtypes():
    a = np.arange(6, dtype=np.float32)
    assert experiments.fingerprint(a) == experiments.fingerprint(a.copy())
    assert experiments.fingerprint(a) != experiments.fingerprint(a.astype(np.float64))
    b = a.copy()
    b[3] = 7
    assert experiments.fingerprint(a) != experiments.fingerprint(b)
    assert experiments.fingerprint(a.reshape(2, 3)) != experiments.fingerprint(a)


def test_select_rows_of_given_configs(tmp_path):
    results = experiments.run_grid(CountingRun(), [{"units": 4}, {"units": 8}, {"units": 16}], [0, 1],
                                   data_fingerprint="d", cache_dir=tmp_path, progress=False)
    chosen = experiments.select(results, [{"units": 16}, {"units": 4}])
    assert chosen[["units", "seed"]].values.tolist() == [[4, 0], [4, 1], [16, 0], [16, 1]]
    assert experiments.select(results, [{"units": 5}]).empty
