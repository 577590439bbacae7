"""Figures that the notebooks draw more than once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

__all__ = ["plain_log_ticks", "plot_curves", "plot_heatmap", "plot_seed_band"]


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    *,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    title: str | None = None,
    logy: bool = False,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """One line per named curve (e.g. ``{"train": history["loss"], "val": history["val_loss"]}``);
    epochs are numbered from 1."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, values in curves.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


def plot_heatmap(
    matrix: np.ndarray,
    *,
    xticklabels: Sequence[str],
    yticklabels: Sequence[str],
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """``matrix: (rows, columns)`` as an image with labelled ticks and a colour bar (attention
    weights, confusion matrices)."""
    matrix = np.asarray(matrix)
    if matrix.shape != (len(yticklabels), len(xticklabels)):
        raise ValueError(
            f"matrix shape {matrix.shape} does not match the labels ({len(yticklabels)}, {len(xticklabels)})"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(0.45 * len(xticklabels) + 2, 0.45 * len(yticklabels) + 1))
    image = ax.imshow(matrix, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(xticklabels)), xticklabels)
    ax.set_yticks(range(len(yticklabels)), yticklabels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.figure.colorbar(image, ax=ax)
    return ax


def plain_log_ticks(ax: plt.Axes, values: Sequence[float] | None = None, *, axis: str = "x") -> plt.Axes:
    """Plain-number labels on a log axis, no minor-tick labels, so labels neither overlap nor read
    ``2×10^1``: at exactly ``values`` (e.g. the measured sizes), or with ``values=None`` at
    1, 2 and 5 times each power of ten."""
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_minor_formatter(NullFormatter())
    if values is None:
        target.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
        target.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        return ax
    values = sorted(set(float(v) for v in values))
    (ax.set_xticks if axis == "x" else ax.set_yticks)(values, [f"{v:g}" for v in values])
    return ax


def plot_seed_band(
    curves: Mapping[str, np.ndarray],
    *,
    xlabel: str = "epoch",
    ylabel: str = "value",
    title: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """One line per name: the mean over seeds, with a shaded band from the lowest to the highest
    seed. ``curves[name]: (seeds, epochs)``; epochs are numbered from 1."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, values in curves.items():
        values = np.atleast_2d(np.asarray(values, dtype=float))
        epochs = np.arange(1, values.shape[1] + 1)
        (line,) = ax.plot(epochs, values.mean(axis=0), label=f"{name} (mean of {values.shape[0]})")
        if values.shape[0] > 1:
            ax.fill_between(epochs, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    return ax
