"""rnnkit.metrics against hand-computed values."""

import numpy as np
import pytest

from rnnkit import metrics


def test_mae_rmse():
    assert metrics.mae([1, 2, 3], [1, 4, 0]) == pytest.approx(5 / 3)
    assert metrics.rmse([1, 2, 3], [1, 4, 0]) == pytest.approx(np.sqrt(13 / 3))
    with pytest.raises(ValueError, match="NaN"):
        metrics.mae([1, 2], [1, np.nan])
    with pytest.raises(ValueError, match="3 values, y_pred 2"):
        metrics.mae([1, 2, 3], [1, 2])


def test_direction_accuracy_skips_flat_days():
    accuracy, correct, days = metrics.direction_accuracy([1.0, -2.0, 0.0, 3.0], [0.5, 0.1, -1.0, 2.0])
    assert (correct, days) == (2, 3)
    assert accuracy == pytest.approx(2 / 3)


def test_wilson_interval_known_values():
    # Wilson 95% interval for 50/100: (0.4038, 0.5962); for 0/10: (0, 0.2775).
    assert metrics.wilson_interval(50, 100) == pytest.approx((0.40383, 0.59617), abs=1e-4)
    assert metrics.wilson_interval(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-4)
    with pytest.raises(ValueError, match="successes <= trials"):
        metrics.wilson_interval(11, 10)


def test_paired_bootstrap_ci_brackets_the_difference():
    rng = np.random.default_rng(0)
    a = rng.normal(1.0, 0.1, 500)
    mean, low, high = metrics.paired_bootstrap_ci(a, a + 0.5, seed=0)
    assert mean == pytest.approx(-0.5)
    assert low == pytest.approx(-0.5) and high == pytest.approx(-0.5)
    mean, low, high = metrics.paired_bootstrap_ci(a, rng.normal(1.0, 0.1, 500), seed=0)
    assert low < mean < high and low < 0.03 and high > -0.03


def test_masked_accuracy_is_micro_over_tokens():
    y_true = np.array([[1, 2, 3, 0], [4, 0, 0, 0]])
    y_pred = np.array([[1, 2, 0, 5], [0, 9, 9, 9]])
    mask = y_true != 0
    # 2 of 4 real tokens right; a mean of per-sentence accuracies would give (2/3 + 0) / 2 = 1/3.
    assert metrics.masked_accuracy(y_true, y_pred, mask) == 0.5
    with pytest.raises(ValueError, match="no token"):
        metrics.masked_accuracy(y_true, y_pred, np.zeros_like(mask))
