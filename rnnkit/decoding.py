"""Decoding a sequence one token at a time: greedy, sampling with temperature / top-k, beam search.

Every function drives a *step function* and knows nothing about Keras:

``step(tokens, state) -> (log_probs, new_state)``
    ``tokens: (batch,) int32`` — the previous token of each row;
    ``state`` — a list, tuple or dict of NumPy arrays, each with a leading batch axis (an LSTM's
    ``h`` and ``c``, the encoder outputs an attention decoder reads, ...);
    ``log_probs: (batch, vocab) float`` — log-probabilities of the next token.

A step function usually wraps a one-step Keras model that shares its layers with the trained
model, called with fixed shapes so it compiles once (see ``rnnkit.models``). Beam search runs
the step on ``batch * beam_width`` rows, reordering the state rows as beams are kept.

After ``end_token`` (if given) a row keeps emitting ``end_token`` at log-probability 0, so a
finished sequence's score no longer changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["beam_search", "greedy", "sample"]

State = Any
StepFunction = Callable[[np.ndarray, State], tuple[np.ndarray, State]]


def _map_state(function: Callable[[np.ndarray], np.ndarray], state: State) -> State:
    """Apply ``function`` to every array of a list / tuple / dict state (nested allowed)."""
    if isinstance(state, dict):
        return {key: _map_state(function, value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_map_state(function, value) for value in state)
    return function(np.asarray(state))


def _batch_size(state: State) -> int:
    sizes = set()
    _map_state(lambda array: sizes.add(array.shape[0]) or array, state)
    if len(sizes) != 1:
        raise ValueError(f"every state array needs the same leading batch size, got {sorted(sizes)}")
    return sizes.pop()


def _start_tokens(start: int | np.ndarray, batch: int) -> np.ndarray:
    tokens = np.broadcast_to(np.asarray(start, dtype=np.int32), (batch,)).copy()
    return tokens


def _checked(log_probs: np.ndarray, batch: int) -> np.ndarray:
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.ndim != 2 or log_probs.shape[0] != batch:
        raise ValueError(f"step must return log_probs of shape (batch={batch}, vocab), got {log_probs.shape}")
    return log_probs


def _decode(step: StepFunction, state: State, start, steps: int, end_token: int | None,
            choose: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    batch = _batch_size(state)
    tokens = _start_tokens(start, batch)
    done = np.zeros(batch, dtype=bool)
    total = np.zeros(batch)
    out = np.zeros((batch, steps), dtype=np.int32)
    for t in range(steps):
        log_probs, state = step(tokens, state)
        log_probs = _checked(log_probs, batch)
        tokens = choose(log_probs).astype(np.int32)
        if end_token is not None:
            tokens = np.where(done, end_token, tokens)
        total += np.where(done, 0.0, log_probs[np.arange(batch), tokens])
        out[:, t] = tokens
        if end_token is not None:
            done |= tokens == end_token
            if done.all():
                out[:, t + 1:] = end_token
                break
    return out, total


def greedy(step: StepFunction, state: State, *, start: int | np.ndarray, steps: int,
           end_token: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The most likely next token at every step.

    Returns ``(tokens: (batch, steps) int32, log_prob: (batch,))``, the log-likelihood of each
    decoded sequence under the model.
    """
    return _decode(step, state, start, steps, end_token, lambda log_probs: log_probs.argmax(-1))


def sample(step: StepFunction, state: State, *, start: int | np.ndarray, steps: int, seed: int,
           temperature: float = 1.0, top_k: int | None = None,
           end_token: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Draw each next token from ``softmax(log_probs / temperature)``, optionally restricted to the
    ``top_k`` most likely tokens. ``seed`` makes the draw reproducible.

    ``temperature`` < 1 sharpens the distribution (towards greedy), > 1 flattens it. Returns
    ``(tokens (batch, steps) int32, log_prob (batch,))``; ``log_prob`` is the model's own
    log-likelihood of the sample (temperature 1), so samples drawn at different temperatures can
    be compared.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    rng = np.random.default_rng(seed)

    def choose(log_probs: np.ndarray) -> np.ndarray:
        scaled = log_probs / temperature
        if top_k is not None and top_k < scaled.shape[1]:
            kth = np.partition(scaled, -top_k, axis=1)[:, -top_k][:, None]
            scaled = np.where(scaled >= kth, scaled, -np.inf)
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        probs = np.exp(scaled)
        probs /= probs.sum(axis=1, keepdims=True)
        # inverse-CDF draw: one uniform per row, reproducible for a given seed
        uniform = rng.random((probs.shape[0], 1))
        return np.minimum((probs.cumsum(axis=1) < uniform).sum(axis=1), probs.shape[1] - 1)

    return _decode(step, state, start, steps, end_token, choose)


def beam_search(step: StepFunction, state: State, *, start: int | np.ndarray, steps: int, beam_width: int,
                end_token: int | None = None) -> list[list[tuple[np.ndarray, float]]]:
    """Keep the ``beam_width`` most likely prefixes at every step.

    At each step every kept prefix is extended by every token; the ``beam_width`` extensions with
    the highest total log-probability survive (ties: the earlier beam, then the smaller token id,
    so ``beam_width=1`` is exactly :func:`greedy`). Returns, for each batch row, a list of
    ``(tokens (steps,) int32, score)`` sorted best first, where ``score`` is the total
    log-probability of the sequence.
    """
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    batch = _batch_size(state)
    width = beam_width
    # every row starts with `width` copies; all but the first are masked out (-inf) at step 0,
    # so the first expansion draws from one beam only and no duplicate beams appear.
    state = _map_state(lambda array: np.repeat(array, width, axis=0), state)
    tokens = np.repeat(_start_tokens(start, batch), width)
    scores = np.tile(np.r_[0.0, np.full(width - 1, -np.inf)], batch).reshape(batch, width)
    history = np.zeros((batch, width, 0), dtype=np.int32)
    done = np.zeros((batch, width), dtype=bool)
    for _ in range(steps):
        log_probs, state = step(tokens, state)
        log_probs = _checked(log_probs, batch * width).reshape(batch, width, -1)
        vocab = log_probs.shape[-1]
        if end_token is not None:  # a finished beam extends only by end_token, at no cost
            finished = np.full(vocab, -np.inf)
            finished[end_token] = 0.0
            log_probs = np.where(done[..., None], finished, log_probs)
        candidates = (scores[..., None] + log_probs).reshape(batch, width * vocab)
        # stable sort on -score: ties keep (beam, token) order
        order = np.argsort(-candidates, axis=1, kind="stable")[:, :width]
        beam, token = np.divmod(order, vocab)
        scores = np.take_along_axis(candidates, order, axis=1)
        history = np.concatenate([np.take_along_axis(history, beam[..., None], axis=1), token[..., None]], axis=2)
        rows = (np.arange(batch)[:, None] * width + beam).reshape(-1)
        state = _map_state(lambda array, rows=rows: array[rows], state)
        tokens = token.reshape(-1).astype(np.int32)
        if end_token is not None:
            done = np.take_along_axis(done, beam, axis=1) | (token == end_token)
            if done.all():
                break
    if history.shape[2] < steps:  # stopped early: every beam ended
        history = np.concatenate(
            [history, np.full((batch, width, steps - history.shape[2]), end_token, dtype=np.int32)], axis=2)
    return [[(history[b, k].astype(np.int32), float(scores[b, k])) for k in range(width) if np.isfinite(scores[b, k])]
            for b in range(batch)]
