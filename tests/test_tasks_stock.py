"""rnnkit.tasks.stock: configuration, pipeline and run, on the shipped AAPL file."""

import dataclasses

import numpy as np
import pytest

from rnnkit import experiments
from rnnkit.tasks import stock


@pytest.fixture(scope="module")
def data():
    return stock.load_data()


def test_config_is_frozen_and_validated():
    config = stock.Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.units = 64
    assert dataclasses.replace(config, cell="gru").label == "gru-32x1 adam"
    with pytest.raises(ValueError, match="setting must be one of"):
        stock.Config(setting="two_year")
    with pytest.raises(ValueError, match="features must be"):
        stock.Config(features="levels")


@pytest.mark.parametrize("setting, sizes", [("one_year", (200, 50, 50)), ("ten_year", (1740, 373, 373))])
def test_splits_are_chronological_with_the_report_sizes(data, setting, sizes):
    split = stock.make_split(stock.Config(setting=setting), data)
    assert (len(split.y_train), len(split.y_val), len(split.y_test)) == sizes
    assert split.dates_train.max() < split.dates_val.min() and split.dates_val.max() < split.dates_test.min()
    assert str(split.dates_test[-1].date()) == "2023-07-21"  # the last day of the file is a test target
    assert split.x_train.shape[1:] == (30, 5)


def test_report_bug_and_price_features(data):
    prices = stock.make_split(stock.Config(features="prices"), data)
    buggy = stock.make_split(stock.Config(features="prices", report_bug=True), data)
    high, low = prices.features.index("high"), prices.features.index("low")
    np.testing.assert_array_equal(buggy.x_train[..., high], buggy.x_train[..., low])
    assert not np.array_equal(prices.x_train[..., high], prices.x_train[..., low])
    np.testing.assert_array_equal(prices.y_test, buggy.y_test)  # same targets, only an input changes


def test_evaluate_flags_a_constant_forecaster():
    y = np.array([1.0, -2.0, 0.5, -0.5])
    scores = stock.evaluate(y, np.full(4, 0.1))
    assert scores["prediction_std"] == 0.0 and scores["share_up_calls"] == 1.0
    assert scores["direction"] == 0.5
    assert scores["mae"] == pytest.approx(np.mean(np.abs(y - 0.1)))


def test_run_scores_validation_only_and_workers_match_serially(data, tmp_path):
    configs = [stock.Config(max_epochs=3, patience=2, units=8), stock.Config(max_epochs=3, patience=2, cell="gru", units=8)]
    one = experiments.run_grid(stock.run, configs, [0], data=data, n_jobs=1, cache_dir=tmp_path / "a", progress=False)
    two = experiments.run_grid(stock.run, configs, [0], data=data, n_jobs=2, cache_dir=tmp_path / "b", progress=False)
    metric_columns = [c for c in one.columns if c.startswith("val_")]
    assert not [c for c in one.columns if "test" in c]  # the grid never sees the test span
    assert one[metric_columns].equals(two[metric_columns])  # bit for bit, whatever the number of workers
    assert one["history"].tolist() == two["history"].tolist()
    assert len(one["history"][0]["val_loss"]) == one["epochs"][0] <= 3
    assert 1 <= one["best_epoch"][0] <= one["epochs"][0]
