"""Figures that the notebooks draw more than once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_curves", "plot_heatmap"]


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
