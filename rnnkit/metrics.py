"""Evaluation metrics in NumPy, computed once over a whole split (never a mean of batch means),
with the uncertainty a student needs to judge a difference."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = [
    "direction_accuracy",
    "mae",
    "masked_accuracy",
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
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.abs(y_true - y_pred).mean())


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error; ``y_true, y_pred: (n,)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.square(y_true - y_pred).mean()))


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


def paired_bootstrap_ci(
    loss_a: np.ndarray, loss_b: np.ndarray, *, seed: int, samples: int = 2000, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Mean of ``loss_a - loss_b`` and its bootstrap confidence interval over the same examples.

    ``loss_a, loss_b: (n,)`` per-example losses of two models (e.g. absolute errors). An interval
    entirely below zero means model A is better beyond the noise of this test set.
    Returns ``(mean_difference, low, high)``.
    """
    loss_a, loss_b = _pair(loss_a, loss_b)
    difference = loss_a - loss_b
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, difference.size, size=(samples, difference.size))
    means = difference[picks].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(difference.mean()), float(low), float(high)


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
