"""Small synthetic sequence tasks used to probe memory and architectures (notebook 01)."""

from __future__ import annotations

import numpy as np

__all__ = ["adding_task", "reversal_task"]


def adding_task(count: int, steps: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber, 1997): add the two marked numbers.

    Each step carries a value ``u_t ~ U(0, 1)`` and a marker ``m_t``; exactly one step in the
    first half and one in the second half are marked. Predicting the mean (1.0) every time gives
    a mean squared error of 1/6 ≈ 0.167: anything near that has learned nothing.

    Returns:
        ``x: (count, steps, 2) float32`` = (value, marker), ``y: (count,) float32`` = the sum.
    """
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    rng = np.random.default_rng(seed)
    values = rng.uniform(size=(count, steps)).astype(np.float32)
    markers = np.zeros((count, steps), np.float32)
    rows = np.arange(count)
    markers[rows, rng.integers(0, steps // 2, count)] = 1.0
    markers[rows, rng.integers(steps // 2, steps, count)] = 1.0
    return np.stack([values, markers], axis=-1), (values * markers).sum(axis=1)


def reversal_task(
    count: int, length: int, *, digits: int = 10, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reverse a string of digits: a toy translation task for encoder-decoder models.

    Token ids: digits are ``1 .. digits`` and ``digits + 1`` is the decoder's start token
    (0 stays free for padding).

    Returns:
        ``source: (count, length) int32``, ``decoder_input: (count, length) int32`` (start token +
        target shifted right: teacher forcing) and ``target: (count, length) int32``.
    """
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    rng = np.random.default_rng(seed)
    source = rng.integers(1, digits + 1, size=(count, length)).astype(np.int32)
    target = source[:, ::-1].copy()
    decoder_input = np.concatenate([np.full((count, 1), digits + 1, np.int32), target[:, :-1]], axis=1)
    return source, decoder_input, target
