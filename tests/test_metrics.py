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


def test_mcnemar_counts_disagreements_and_gives_the_exact_binomial_p():
    a = np.array([1, 1, 1, 1, 0, 0, 1, 0], dtype=bool)
    b = np.array([1, 0, 0, 0, 0, 1, 1, 0], dtype=bool)
    result = metrics.mcnemar(a, b)
    assert (result["only_a"], result["only_b"]) == (3, 1)
    # two-sided exact: P(X <= 1) + P(X >= 3) for X ~ Bin(4, 1/2) = (1 + 4 + 4 + 1) / 16
    assert result["p_value"] == pytest.approx(10 / 16)
    assert metrics.mcnemar(a, a)["p_value"] == 1.0
    many_a, many_b = np.ones(100, bool), np.r_[np.zeros(30, bool), np.ones(70, bool)]
    assert metrics.mcnemar(many_a, many_b)["p_value"] == pytest.approx(2 * 0.5 ** 30)
    with pytest.raises(ValueError, match="8 examples, correct_b 3"):
        metrics.mcnemar(a, b[:3])


def test_cluster_bootstrap_resamples_whole_groups():
    # two sentences: one all right (10 tokens), one all wrong (10 tokens). Resampling tokens gives a
    # narrow interval around 0.5; resampling sentences can draw the same sentence twice: 0 or 1.
    values = np.r_[np.ones(10), np.zeros(10)]
    groups = np.repeat([0, 1], 10)
    mean, low, high = metrics.bootstrap_ci(values, seed=0, groups=groups)
    assert mean == 0.5 and (low, high) == (0.0, 1.0)
    _, token_low, token_high = metrics.bootstrap_ci(values, seed=0)
    assert 0.2 < token_low < 0.5 < token_high < 0.8
    # the token-weighted mean: a long sentence counts by its tokens, not as one unit
    uneven = metrics.bootstrap_ci(np.r_[np.ones(3), np.zeros(1)], seed=0, groups=[0, 0, 0, 1])
    assert uneven[0] == 0.75


def test_block_bootstrap_is_wider_for_clustered_errors():
    rng = np.random.default_rng(1)
    calm_then_wild = np.r_[rng.normal(0, 0.1, 100), rng.normal(0, 3.0, 100)] + np.repeat(rng.normal(0, 1, 20), 10)
    _, low, high = metrics.bootstrap_ci(calm_then_wild, seed=0)
    _, block_low, block_high = metrics.bootstrap_ci(calm_then_wild, seed=0, block=20)
    assert block_high - block_low > high - low
    with pytest.raises(ValueError, match="not both"):
        metrics.bootstrap_ci(calm_then_wild, seed=0, block=5, groups=np.zeros(200))
    with pytest.raises(ValueError, match="block must be in"):
        metrics.bootstrap_ci(calm_then_wild, seed=0, block=0)


def test_paired_bootstrap_with_groups_and_blocks():
    a = np.r_[np.zeros(50), np.ones(50)]
    mean, low, high = metrics.paired_bootstrap_ci(a, a - 0.25, seed=3, block=10)
    assert mean == pytest.approx(0.25) and low == pytest.approx(0.25) and high == pytest.approx(0.25)
    mean, low, high = metrics.paired_bootstrap_ci(a, np.zeros(100), seed=3, groups=np.repeat(np.arange(10), 10))
    assert mean == 0.5 and low < 0.5 < high
