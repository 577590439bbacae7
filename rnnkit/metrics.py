"""Evaluation metrics in NumPy, computed once over a whole split (never a mean of batch means),
with the uncertainty a student needs to judge a difference."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = [
    "bootstrap_ci",
    "direction_accuracy",
    "mae",
    "masked_accuracy",
    "mcnemar",
    "paired_bootstrap_ci",
    "rmse",
    "wilson_interval",
]


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} values, y_pred {y_pred.size}")
    if y_true.size == 0:
        raise ValueError("empty arrays")
    if not (np.isfinite(y_true).all() and np.isfinite(y_pred).all()):
        raise ValueError("y_true or y_pred contains NaN/inf (did training diverge?)")
    return y_true, y_pred


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error; ``y_true, y_pred: (n,)``."""
    from sklearn.metrics import mean_absolute_error

    y_true, y_pred = _pair(y_true, y_pred)
    return float(mean_absolute_error(y_true, y_pred))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error; ``y_true, y_pred: (n,)``."""
    from sklearn.metrics import root_mean_squared_error

    y_true, y_pred = _pair(y_true, y_pred)
    return float(root_mean_squared_error(y_true, y_pred))


def direction_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, int, int]:
    """Share of days whose sign (up / down) is predicted right.

    Days with ``y_true == 0`` (no change) are left out. Returns ``(accuracy, correct, days)``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    moved = y_true != 0
    days = int(moved.sum())
    if days == 0:
        raise ValueError("no day with a non-zero change")
    correct = int((np.sign(y_pred[moved]) == np.sign(y_true[moved])).sum())
    return correct / days, correct, days


def wilson_interval(successes: int, trials: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (better than p ± 1.96·se for small n)."""
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials >= 1, got {successes}/{trials}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _resample_means(values: np.ndarray, weights: np.ndarray, *, seed: int, samples: int,
                    groups: np.ndarray | None, block: int | None) -> np.ndarray:
    """``samples`` bootstrap replicates of ``sum(values) / sum(weights)`` (weights: 1 per example)."""
    rng = np.random.default_rng(seed)
    n = values.size
    if groups is not None and block is not None:
        raise ValueError("give groups (cluster bootstrap) or block (time series), not both")
    if groups is not None:
        groups = np.asarray(groups).reshape(-1)
        if groups.size != n:
            raise ValueError(f"groups has {groups.size} ids for {n} values")
        _, codes = np.unique(groups, return_inverse=True)
        totals = np.bincount(codes, weights=values)  # per group: sum of values
        sizes = np.bincount(codes, weights=weights)  # per group: number of examples
        picks = rng.integers(0, totals.size, size=(samples, totals.size))
        return totals[picks].sum(axis=1) / sizes[picks].sum(axis=1)
    if block is not None:
        if not 1 <= block <= n:
            raise ValueError(f"block must be in [1, {n}], got {block}")
        # moving blocks: n/block random starts, each block `block` consecutive examples
        blocks = int(np.ceil(n / block))
        starts = rng.integers(0, n - block + 1, size=(samples, blocks))
        index = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(samples, -1)[:, :n]
        return values[index].mean(axis=1)
    picks = rng.integers(0, n, size=(samples, n))
    return values[picks].mean(axis=1)


def bootstrap_ci(
    values: np.ndarray, *, seed: int, groups: np.ndarray | None = None, block: int | None = None,
    samples: int = 2000, confidence: float = 0.95,
) -> tuple[float, float, float]:
    """Mean of per-example ``values`` and its percentile bootstrap interval.

    Resample the unit that is independent: ``groups`` (``(n,)`` ids, e.g. the sentence of each
    token) resamples whole groups and recomputes the example-weighted mean (cluster bootstrap);
    ``block`` resamples runs of ``block`` consecutive examples (moving-block bootstrap, for days
    whose errors cluster in volatility). Neither: examples are resampled one by one.
    Returns ``(mean, low, high)``.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError("empty values")
    if not np.isfinite(values).all():
        raise ValueError("values contain NaN/inf")
    means = _resample_means(values, np.ones_like(values), seed=seed, samples=samples, groups=groups, block=block)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(values.mean()), float(low), float(high)


def paired_bootstrap_ci(
    loss_a: np.ndarray, loss_b: np.ndarray, *, seed: int, groups: np.ndarray | None = None,
    block: int | None = None, samples: int = 2000, confidence: float = 0.95,
) -> tuple[float, float, float]:
    """Mean of ``loss_a - loss_b`` and its bootstrap interval over the same examples.

    ``loss_a, loss_b: (n,)`` per-example losses of two models on the same examples (absolute
    errors, 0/1 errors, ...). ``groups`` / ``block`` as in :func:`bootstrap_ci`. An interval
    entirely below zero means model A is better beyond the noise of this test set.
    Returns ``(mean_difference, low, high)``.
    """
    loss_a, loss_b = _pair(loss_a, loss_b)
    return bootstrap_ci(loss_a - loss_b, seed=seed, groups=groups, block=block, samples=samples,
                        confidence=confidence)


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> dict[str, float]:
    """Exact McNemar test: do two classifiers, scored on the same examples, differ in accuracy?

    Only the examples on which they disagree count: ``only_a`` (A right, B wrong) and ``only_b``.
    Under "no difference" each disagreement is a fair coin, so the two-sided p-value is a
    binomial test of ``only_a`` out of ``only_a + only_b`` at 1/2.
    Returns ``{"only_a", "only_b", "p_value"}``.
    """
    from scipy.stats import binomtest

    correct_a = np.asarray(correct_a, dtype=bool).reshape(-1)
    correct_b = np.asarray(correct_b, dtype=bool).reshape(-1)
    if correct_a.shape != correct_b.shape:
        raise ValueError(f"correct_a has {correct_a.size} examples, correct_b {correct_b.size}")
    only_a = int((correct_a & ~correct_b).sum())
    only_b = int((~correct_a & correct_b).sum())
    p_value = 1.0 if only_a + only_b == 0 else float(binomtest(only_a, only_a + only_b, 0.5).pvalue)
    return {"only_a": only_a, "only_b": only_b, "p_value": p_value}


def masked_accuracy(y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray) -> float:
    """Token-level micro accuracy: correct real tokens / real tokens, over the whole split.

    ``y_true, y_pred: (sentences, time) int`` labels; ``mask: (sentences, time) bool`` (False at
    padding). Every token weighs the same, whatever the length of its sentence.
    """
    y_true, y_pred, mask = np.asarray(y_true), np.asarray(y_pred), np.asarray(mask, dtype=bool)
    if not y_true.shape == y_pred.shape == mask.shape:
        raise ValueError(f"shapes differ: y_true {y_true.shape}, y_pred {y_pred.shape}, mask {mask.shape}")
    tokens = int(mask.sum())
    if tokens == 0:
        raise ValueError("mask selects no token")
    return float((y_true == y_pred)[mask].sum() / tokens)
