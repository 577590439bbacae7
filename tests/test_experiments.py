"""rnnkit.experiments: the grid runner, its on-disk cache (keys that cannot go stale), workers,
and the summary table."""

import dataclasses
import json
import os
import shutil
import sys
from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd
import pytest

from rnnkit import experiments


@dataclasses.dataclass(frozen=True)
class Config:
    units: int = 8
    cell: str = "lstm"
    learning_rate: float = 1e-3
    widths: tuple = (16, 32)
    patience: int | None = 3


@dataclasses.dataclass(frozen=True)
class Other:
    units: int = 8


class CountingRun:
    """A fake training function that records its calls and returns seed-dependent metrics."""

    def __init__(self):
        self.calls = []
        self.__module__ = "rnnkit.fake"  # the cache key reads the run's identity
        self.__qualname__ = "CountingRun"

    def __call__(self, config, seed, data):
        self.calls.append((config.units, seed))
        return {"val_loss": config.units / 100 + seed + float(np.sum(data)),
                "history": {"loss": [1.0, 0.5], "val_loss": [1.1, config.units / 100]}}


def grid(run, configs, seeds=(0,), data=None, **kwargs):
    data = np.zeros(3) if data is None else data
    return experiments.run_grid(run, configs, list(seeds), data=data, progress=False, inline=True, **kwargs)


def test_grid_rows_columns_and_values(tmp_path):
    run = CountingRun()
    results = grid(run, [Config(units=8), Config(units=16)], [0, 1], cache_dir=tmp_path)
    assert list(results.columns) == ["units", "cell", "learning_rate", "widths", "patience", "seed", "val_loss",
                                     "history", "seconds", "cached", "config"]
    assert results[["units", "seed"]].values.tolist() == [[8, 0], [8, 1], [16, 0], [16, 1]]
    assert results["val_loss"].tolist() == pytest.approx([0.08, 1.08, 0.16, 1.16])
    assert results["widths"].tolist() == [(16, 32)] * 4
    assert results["history"][2] == {"loss": [1.0, 0.5], "val_loss": [1.1, 0.16]}
    assert results["config"].tolist() == [Config(units=8)] * 2 + [Config(units=16)] * 2
    assert not results["cached"].any()
    # trained seed-major (each configuration's first seed first: its compiled steps then serve the later seeds),
    # listed configuration-major
    assert run.calls == [(8, 0), (16, 0), (8, 1), (16, 1)]


def test_cache_hit_skips_training_and_keeps_the_history(tmp_path):
    run = CountingRun()
    first = grid(run, [Config(units=8)], [0, 1], cache_dir=tmp_path)
    second = grid(run, [Config(units=8), Config(units=4)], [0, 1], cache_dir=tmp_path)
    assert run.calls == [(8, 0), (8, 1), (4, 0), (4, 1)]  # the second call only trains units=4
    assert second["cached"].tolist() == [True, True, False, False]
    pd.testing.assert_series_equal(first["val_loss"], second["val_loss"].iloc[:2])
    pd.testing.assert_series_equal(first["seconds"], second["seconds"].iloc[:2])
    assert second["history"][0] == first["history"][0] == {"loss": [1.0, 0.5], "val_loss": [1.1, 0.08]}


@pytest.mark.parametrize("change", [
    {"units": 9}, {"cell": "gru"}, {"learning_rate": 3e-3}, {"widths": (16, 48)}, {"patience": None}])
def test_changing_any_single_config_field_retrains(tmp_path, change):
    run = CountingRun()
    grid(run, [Config()], cache_dir=tmp_path)
    results = grid(run, [Config(), dataclasses.replace(Config(), **change)], cache_dir=tmp_path)
    assert results["cached"].tolist() == [True, False]
    assert len(run.calls) == 2


def test_identical_inputs_hit_and_seed_data_run_and_class_miss(tmp_path):
    run = CountingRun()
    grid(run, [Config()], cache_dir=tmp_path)
    assert grid(run, [Config()], cache_dir=tmp_path)["cached"].tolist() == [True]
    assert grid(run, [Config()], seeds=[1], cache_dir=tmp_path)["cached"].tolist() == [False]
    assert grid(run, [Config()], data=np.ones(3), cache_dir=tmp_path)["cached"].tolist() == [False]
    other_run = CountingRun()
    other_run.__qualname__ = "OtherRun"
    assert grid(other_run, [Config()], cache_dir=tmp_path)["cached"].tolist() == [False]
    assert grid(run, [Other()], cache_dir=tmp_path)["cached"].tolist() == [False]


def test_cache_key_covers_sources_and_library_versions():
    key = dict(seed=0, data_fingerprint="d", run="r", sources="s", versions={"keras": "3", "jax": "1", "numpy": "2"})
    base = experiments.cache_key(Config(), **key)
    assert base == experiments.cache_key(Config(), **key)
    assert base != experiments.cache_key(Config(), **{**key, "sources": "t"})
    for library in ("keras", "jax", "numpy"):
        assert base != experiments.cache_key(Config(), **{**key, "versions": {**key["versions"], library: "9"}})
    assert experiments.library_versions()["numpy"] == np.__version__


def test_editing_a_rnnkit_source_file_retrains(tmp_path, monkeypatch):
    package = tmp_path / "package"
    shutil.copytree(Path(experiments.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(experiments, "source_hash", lambda: _hash(package))
    run = CountingRun()
    grid(run, [Config()], cache_dir=tmp_path / "cache")
    assert grid(run, [Config()], cache_dir=tmp_path / "cache")["cached"].tolist() == [True]
    with open(package / "models.py", "a") as handle:
        handle.write("\n# a student's edit\n")
    assert grid(run, [Config()], cache_dir=tmp_path / "cache")["cached"].tolist() == [False]
    assert run.calls == [(8, 0), (8, 0)]


_hash = experiments.source_hash


def test_source_hash_sees_every_python_file(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    before = experiments.source_hash(tmp_path)
    (tmp_path / "sub" / "b.py").write_text("y = 3\n")
    assert experiments.source_hash(tmp_path) != before
    assert len(experiments.source_hash()) == 16


def test_notebook_run_functions_are_keyed_by_their_source():
    def run_a(config, seed, data):
        return {"m": 1}

    def run_b(config, seed, data):
        return {"m": 2}

    assert "return {\"m\": 1}" in experiments.run_identity(run_a)
    assert experiments.run_identity(run_a) != experiments.run_identity(run_b)


@pytest.mark.parametrize("garbage", [b"{\"metrics\": {\"val_lo", b"\xff\xfe\x00", b"[1, 2]", b""])
def test_corrupt_cache_file_is_recomputed(tmp_path, garbage):
    run = CountingRun()
    grid(run, [Config()], cache_dir=tmp_path, name="g")
    (entry,) = (tmp_path / "g").glob("*.json")
    entry.write_bytes(garbage)
    with pytest.warns(UserWarning, match="corrupt cache entry .*json"):
        results = grid(run, [Config()], cache_dir=tmp_path, name="g")
    assert run.calls == [(8, 0), (8, 0)]
    assert results["val_loss"].tolist() == [0.08]
    assert json.loads(entry.read_text())["metrics"]["val_loss"] == 0.08  # rewritten, valid again


def test_cache_write_leaves_no_temp_files(tmp_path):
    cache = experiments.ResultCache(tmp_path)
    cache.put("k", {"metrics": {"a": np.float32(1.5)}, "seconds": 1.0})
    assert [p.name for p in tmp_path.iterdir()] == ["k.json"]
    assert cache.get("k")["metrics"]["a"] == 1.5


def _hammer(directory, key, writer):
    cache = experiments.ResultCache(directory)
    for index in range(200):
        cache.put(key, {"metrics": {"writer": writer, "index": index, "padding": "x" * 20_000}})


def test_cache_stays_whole_when_two_processes_write_the_same_entry(tmp_path):
    from joblib import Parallel, delayed

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        Parallel(n_jobs=2)(delayed(_hammer)(tmp_path, "k", writer) for writer in ("a", "b"))
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert [p.name for p in tmp_path.iterdir()] == ["k.json"]  # no temp file left behind
    record = experiments.ResultCache(tmp_path).get("k")
    assert record["metrics"]["index"] == 199 and record["metrics"]["writer"] in ("a", "b")


def test_failed_run_stores_nothing(tmp_path):
    def broken(config, seed, data):
        raise RuntimeError("diverged")

    with pytest.raises(RuntimeError, match="diverged"):
        grid(broken, [Config()], cache_dir=tmp_path)
    assert list(tmp_path.rglob("*.json")) == []


def test_bad_grid_arguments(tmp_path):
    run = CountingRun()
    with pytest.raises(ValueError, match="every config must be a Config"):
        grid(run, [Config(), Other()], cache_dir=tmp_path)
    with pytest.raises(TypeError, match="dataclass instance"):
        grid(run, [{"units": 8}], cache_dir=tmp_path)
    with pytest.raises(ValueError, match="configs is empty"):
        grid(run, [], cache_dir=tmp_path)

    @dataclasses.dataclass(frozen=True)
    class Clashing:
        seed: int = 0

    with pytest.raises(ValueError, match="reserved"):
        grid(run, [Clashing()], cache_dir=tmp_path)

    def clashing_metrics(config, seed, data):
        return {"units": 1.0}

    with pytest.raises(ValueError, match="clash"):
        grid(clashing_metrics, [Config()], cache_dir=tmp_path)


def test_default_n_jobs_reads_the_environment(monkeypatch):
    monkeypatch.setenv("RNNKIT_N_JOBS", "3")
    assert experiments.default_n_jobs() == 3
    monkeypatch.setenv("RNNKIT_N_JOBS", "0")
    with pytest.raises(ValueError, match="RNNKIT_N_JOBS must be >= 1"):
        experiments.default_n_jobs()
    monkeypatch.delenv("RNNKIT_N_JOBS")
    assert experiments.default_n_jobs() == len(os.sched_getaffinity(0))


def where_am_i(config, seed, data):
    """A run that reports the worker's XLA flags and the cores it may use."""
    import time

    started = time.time()
    time.sleep(0.3)  # long enough that both workers get jobs
    jax = sys.modules.get("jax")
    return {"value": config.units * 10 + seed, "started": started, "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "cores": sorted(os.sched_getaffinity(0)), "pid": os.getpid(),
            "compile_cache": jax.config.jax_compilation_cache_dir if jax else None}


def test_workers_give_the_serial_results_each_pinned_to_its_own_core(tmp_path):
    import jax

    previous_cache = jax.config.jax_compilation_cache_dir
    jax.config.update("jax_compilation_cache_dir", str(tmp_path / "xla"))
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        configs = [Config(units=u) for u in (1, 2, 3)]
        inline = experiments.run_grid(where_am_i, configs, [0, 1], data=None, cache_dir=tmp_path / "i",
                                      inline=True, progress=False)
        serial = experiments.run_grid(where_am_i, configs, [0, 1], data=None, cache_dir=tmp_path / "a",
                                      n_jobs=1, progress=False)
        parallel = experiments.run_grid(where_am_i, configs, [0, 1], data=None, cache_dir=tmp_path / "b",
                                        n_jobs=2, progress=False)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        jax.config.update("jax_compilation_cache_dir", previous_cache)
    assert set(parallel["compile_cache"]) == {str(tmp_path / "xla")}  # workers share the parent's XLA cache
    assert parallel["value"].tolist() == serial["value"].tolist() == inline["value"].tolist() == [10, 11, 20, 21, 30, 31]
    # one worker runs the jobs seed-major: every configuration's first seed before any second seed
    assert serial.sort_values("started")[["units", "seed"]].values.tolist() == [[1, 0], [2, 0], [3, 0], [1, 1], [2, 1], [3, 1]]
    assert set(inline["pid"]) == {os.getpid()}
    assert os.getpid() not in set(parallel["pid"]) | set(serial["pid"])  # really ran elsewhere
    assert len(set(serial["pid"])) == 1 and len(set(parallel["pid"])) == 2
    assert all(experiments.SINGLE_THREAD_XLA_FLAG in flags for flags in parallel["xla_flags"])
    if len(os.sched_getaffinity(0)) >= 2:
        cores_by_worker = {pid: tuple(cores) for pid, cores in zip(parallel["pid"], parallel["cores"], strict=True)}
        assert all(len(cores) == 1 for cores in cores_by_worker.values())
        assert len(set(cores_by_worker.values())) == len(cores_by_worker)  # no two workers share a core
    assert os.environ.get("XLA_FLAGS", "") == inline["xla_flags"][0]  # the parent's flags are restored


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


def test_summarize_a_grid_ignores_history_and_config_objects(tmp_path):
    results = grid(CountingRun(), [Config(units=8), Config(units=4)], [0, 1], cache_dir=tmp_path)
    table = experiments.summarize(results, "val_loss", higher_is_better=False)
    assert [index[0] for index in table.index] == [4, 8]
    assert list(table.columns) == ["val_loss", "val_loss_std", "seconds", "seconds_std", "seeds"]
    assert table["val_loss"].tolist() == pytest.approx([0.54, 0.58])


def test_fingerprint_sees_values_dtypes_and_nested_objects():
    a = np.arange(6, dtype=np.float32)
    assert experiments.fingerprint(a) == experiments.fingerprint(a.copy())
    assert experiments.fingerprint(a) != experiments.fingerprint(a.astype(np.float64))
    b = a.copy()
    b[3] = 7
    assert experiments.fingerprint(a) != experiments.fingerprint(b)
    assert experiments.fingerprint(a.reshape(2, 3)) != experiments.fingerprint(a)

    @dataclasses.dataclass
    class Data:
        x: np.ndarray
        words: list
        extra: dict

    one = Data(a, [["the", "cat"]], {"w": a})
    assert experiments.fingerprint(one) == experiments.fingerprint(Data(a.copy(), [["the", "cat"]], {"w": a.copy()}))
    assert experiments.fingerprint(one) != experiments.fingerprint(Data(a, [["the", "dog"]], {"w": a}))
    assert experiments.fingerprint(one) != experiments.fingerprint(Data(a, [["the", "cat"]], {"w": b}))
    with pytest.raises(TypeError, match="cannot fingerprint"):
        experiments.fingerprint(object())


def test_select_rows_of_given_configs_in_any_field_order(tmp_path):
    results = grid(CountingRun(), [Config(units=4), Config(units=8), Config(units=16)], [0, 1], cache_dir=tmp_path)
    chosen = experiments.select(results, [Config(units=16), Config(units=4)])
    assert chosen[["units", "seed"]].values.tolist() == [[4, 0], [4, 1], [16, 0], [16, 1]]
    # keyword order does not matter: a Config is equal to itself however it was written
    assert experiments.select(results, [Config(cell="lstm", units=8)])["units"].tolist() == [8, 8]
    assert experiments.select(results, [Config(units=5)]).empty


def test_ranking_verdict_is_welchs_t_test_on_the_seed_means():
    from scipy.stats import ttest_ind_from_stats

    def table(means, stds, seeds=3):
        return pd.DataFrame({"acc": means, "acc_std": stds, "seeds": seeds}, index=["a", "b", "c"][:len(means)])

    clear = experiments.ranking_verdict(table([0.90, 0.85, 0.80], [0.01, 0.01, 0.01]), "acc")
    assert (clear["best"], clear["runner_up"]) == ("a", "b")
    assert clear["gap"] == pytest.approx(0.05)
    # two configurations of 3 seeds with equal spread: Welch's df = 4, t(0.975, 4) = 2.776
    assert clear["noise"] == pytest.approx(2.776445 * np.sqrt(2 * 0.01 ** 2 / 3), rel=1e-5)
    assert clear["beyond_noise"]
    # the verdict agrees with scipy's Welch test at 5 %
    for gap in (0.01, 0.02, 0.03, 0.05):
        verdict = experiments.ranking_verdict(table([0.9, 0.9 - gap], [0.01, 0.02]), "acc")
        p_value = ttest_ind_from_stats(0.9, 0.01, 3, 0.9 - gap, 0.02, 3, equal_var=False).pvalue
        assert verdict["beyond_noise"] == (p_value < 0.05)
    lower = experiments.ranking_verdict(table([0.90, 0.85], [0.001, 0.001]), "acc", higher_is_better=False)
    assert lower["best"] == "b" and lower["beyond_noise"]
    one_seed = experiments.ranking_verdict(table([0.9, 0.1], [np.nan, np.nan], seeds=1), "acc")
    assert not one_seed["beyond_noise"] and np.isnan(one_seed["noise"])
    with pytest.raises(ValueError, match="at least two"):
        experiments.ranking_verdict(table([0.9], [0.1]), "acc")


def test_progress_tells_results_of_this_run_from_results_of_earlier_runs(tmp_path, capsys, monkeypatch):
    run = CountingRun()
    arguments = dict(data=np.zeros(3), cache_dir=tmp_path, inline=True, progress=True)
    experiments.run_grid(run, [Config(units=8)], [0], **arguments)
    experiments.run_grid(run, [Config(units=8), Config(units=4)], [0], **arguments)  # units=8 again, same run
    assert "1 reused from this run, 0 from the cache" in capsys.readouterr().err
    monkeypatch.setattr(experiments, "_STORED_HERE", set())  # as in a new process: earlier results are on disk
    experiments.run_grid(run, [Config(units=8), Config(units=4), Config(units=2)], [0], **arguments)
    assert "0 reused from this run, 2 from the cache" in capsys.readouterr().err


def test_one_standard_error_rule_takes_the_cheapest_within_one_se_of_the_best():
    table = pd.DataFrame({"acc": [0.90, 0.895, 0.80, 0.85], "acc_std": [0.01732, 0.001, 0.20, 0.001], "seeds": [3] * 4},
                         index=["big", "small", "noisy", "tiny"])
    cost = {"big": 100, "small": 50, "noisy": 1, "tiny": 10}
    choice = experiments.one_standard_error_rule(table, "acc", cost)
    # SE of the best = 0.01732 / sqrt(3) = 0.01: the window is [0.89, ...]; "noisy" is not admitted for its spread
    assert choice["best"] == "big" and choice["threshold"] == pytest.approx(0.89, abs=1e-5)
    assert choice["candidates"] == ["big", "small"] and choice["selected"] == "small"
    # lower is better: the window lies above the best
    lower = experiments.one_standard_error_rule(table.assign(acc=[0.10, 0.105, 0.2, 0.15]), "acc", cost,
                                                higher_is_better=False)
    assert lower["threshold"] == pytest.approx(0.11, abs=1e-5) and lower["selected"] == "small"
    # equal cost: the better mean wins; one seed: only the best is a candidate
    tie = experiments.one_standard_error_rule(table, "acc", {"big": 1, "small": 1, "noisy": 1, "tiny": 1})
    assert tie["selected"] == "big"
    one_seed = experiments.one_standard_error_rule(table.assign(acc_std=np.nan, seeds=1), "acc", cost)
    assert one_seed["candidates"] == ["big"] and one_seed["selected"] == "big"
    with pytest.raises(ValueError, match="no cost given for \\['tiny'\\]"):
        experiments.one_standard_error_rule(table, "acc", {"big": 1, "small": 1, "noisy": 1})
