"""Gradients of a SimpleRNN written out by hand: BPTT and RTRL, plus gradient-flow diagnostics.

The model (row-vector convention, as in :mod:`rnnkit.cells`) for one sequence:

    z_t = x_t W + h_{t-1} U + b,   h_t = tanh(z_t),   y_hat_t = h_t V,
    L = sum_t l_t,   l_t = 1/2 ||y_hat_t - y_t||^2

* **BPTT** (report eq. 4-7) runs the network forward, keeps every ``h_t``, then walks back with the
  error term ``delta_t = dL/dz_t = (e_t V^T + delta_{t+1} U^T) ⊙ (1 - h_t^2)``, where
  ``e_t = y_hat_t - y_t``; ``delta_t`` is the sum over ``k >= t`` of the report's ``delta_{k,t}``.
  Memory grows with ``T·n`` (all states kept); time ``O(T n^2)``.
* **RTRL** (report eq. 8) carries the sensitivities ``P_t = dh_t/dtheta`` forward:
  ``P_t = diag(1 - h_t^2) (dz_t/dtheta|_immediate + U^T P_{t-1})`` and adds ``e_t V^T P_t`` at
  every step, so it needs no stored past — it works online, on unbounded streams — at
  ``O(n^4)`` time and ``O(n^3)`` memory per step.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from rnnkit.cells import cell_spec, initial_state

__all__ = [
    "bptt_gradients",
    "step_jacobians",
    "truncated_sequence_loss",
    "gradient_cost",
    "rtrl_gradients",
    "rtrl_sensitivities",
    "sequence_loss",
    "simple_rnn_states",
    "state_gradient_norms",
]

Params = dict[str, jax.Array]


def simple_rnn_states(params: Params, x: jax.Array, h0: jax.Array | None = None) -> jax.Array:
    """``x: (T, d)`` -> ``h: (T, n)`` for ``params = {W: (d, n), U: (n, n), b: (n,)}``, starting
    from ``h0: (n,)`` (default zeros)."""

    def step(h, x_t):
        h = jnp.tanh(x_t @ params["W"] + h @ params["U"] + params["b"])
        return h, h

    _, hs = jax.lax.scan(step, jnp.zeros(params["U"].shape[0], x.dtype) if h0 is None else h0, x)
    return hs


def step_jacobians(params: Params, x: jax.Array, h0: jax.Array | None = None) -> jax.Array:
    """``J_t = dh_t/dh_{t-1} = diag(1 - h_t^2) U^T`` for every step: ``(T, n, n)``.

    The chain rule makes ``dh_T/dh_k = J_T J_{T-1} ... J_{k+1}``, so
    ``||dh_T/dh_k|| <= prod_t ||diag(1 - h_t^2)|| ||U|| <= ||U||^{T-k}`` (spectral norms).
    """
    hs = simple_rnn_states(params, x, h0)
    return (1.0 - hs**2)[:, :, None] * params["U"].T[None]


def truncated_sequence_loss(params: Params, V: jax.Array, x: jax.Array, y: jax.Array, *, window: int) -> jax.Array:
    """:func:`sequence_loss` whose gradient is truncated BPTT: the state is cut from the graph
    (``stop_gradient``) every ``window`` steps, so no gradient flows further back than the start of
    its chunk (what training on consecutive chunks with a carried-over state computes).
    ``window >= T`` gives the full gradient."""
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")

    def step(carry, inputs):
        h, t = carry
        x_t = inputs
        h = jnp.where(t % window == 0, jax.lax.stop_gradient(h), h)
        h = jnp.tanh(x_t @ params["W"] + h @ params["U"] + params["b"])
        return (h, t + 1), h

    _, hs = jax.lax.scan(step, (jnp.zeros(params["U"].shape[0], x.dtype), 0), x)
    return 0.5 * jnp.sum((hs @ V - y) ** 2)


def sequence_loss(params: Params, V: jax.Array, x: jax.Array, y: jax.Array) -> jax.Array:
    """``L = sum_t 1/2 ||h_t V - y_t||^2`` with ``V: (n, m)``, ``y: (T, m)``; the reference that
    ``jax.grad`` differentiates."""
    return 0.5 * jnp.sum((simple_rnn_states(params, x) @ V - y) ** 2)


@jax.jit
def bptt_gradients(params: Params, V: jax.Array, x: jax.Array, y: jax.Array) -> Params:
    """dL/dW, dL/dU, dL/db by backpropagation through time (the backward loop of eq. 4-7)."""
    hs = simple_rnn_states(params, x)
    h_prev = jnp.concatenate([jnp.zeros_like(hs[:1]), hs[:-1]])
    errors = hs @ V - y  # e_t: (T, m)

    def backward(delta_next, inputs):
        h_t, e_t = inputs
        delta = (e_t @ V.T + delta_next @ params["U"].T) * (1.0 - h_t**2)
        return delta, delta

    _, deltas = jax.lax.scan(backward, jnp.zeros_like(hs[0]), (hs, errors), reverse=True)
    return {"W": x.T @ deltas, "U": h_prev.T @ deltas, "b": deltas.sum(axis=0)}


def _rtrl(params: Params, V: jax.Array, x: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """RTRL's forward pass: the flat gradient ``(n_params,)`` and every ``P_t``: ``(T, n, n_params)``."""
    W, U, b = params["W"], params["U"], params["b"]
    d, n = W.shape
    eye = jnp.eye(n, dtype=x.dtype)
    n_params = d * n + n * n + n

    def forward(carry, inputs):
        h_prev, P_prev, grad = carry
        x_t, y_t = inputs
        h = jnp.tanh(x_t @ W + h_prev @ U + b)
        # immediate dz_t[k]/dtheta: W[i,j] -> x_t[i] [j==k]; U[i,j] -> h_{t-1}[i] [j==k]; b[j] -> [j==k]
        immediate = jnp.concatenate(
            [
                jnp.einsum("i,jk->kij", x_t, eye).reshape(n, d * n),
                jnp.einsum("i,jk->kij", h_prev, eye).reshape(n, n * n),
                eye,
            ],
            axis=1,
        )
        P = (1.0 - h**2)[:, None] * (immediate + U.T @ P_prev)  # (n, n_params)
        grad = grad + ((h @ V - y_t) @ V.T) @ P
        return (h, P, grad), P

    start = (jnp.zeros(n, x.dtype), jnp.zeros((n, n_params), x.dtype), jnp.zeros(n_params, x.dtype))
    (_, _, grad), sensitivities = jax.lax.scan(forward, start, (x, y))
    return grad, sensitivities


def _unflatten(flat: jax.Array, d: int, n: int) -> Params:
    """``(..., d·n + n·n + n)`` -> ``{W: (..., d, n), U: (..., n, n), b: (..., n)}``."""
    lead = flat.shape[:-1]
    return {"W": flat[..., : d * n].reshape(*lead, d, n), "U": flat[..., d * n : d * n + n * n].reshape(*lead, n, n),
            "b": flat[..., d * n + n * n :]}


@jax.jit
def rtrl_gradients(params: Params, V: jax.Array, x: jax.Array, y: jax.Array) -> Params:
    """The same gradients by real-time recurrent learning: sensitivities carried forward (eq. 8)."""
    d, n = params["W"].shape
    grad, _ = _rtrl(params, V, x, y)
    return _unflatten(grad, d, n)


@jax.jit
def rtrl_sensitivities(params: Params, x: jax.Array) -> Params:
    """The ``P_t = dh_t/dtheta`` RTRL carries, for every step: ``{W: (T, n, d, n), U: (T, n, n, n),
    b: (T, n, n)}`` (axis 1 is the component of ``h_t``)."""
    d, n = params["W"].shape
    _, sensitivities = _rtrl(params, jnp.zeros((n, 1), x.dtype), x, jnp.zeros((x.shape[0], 1), x.dtype))
    return _unflatten(sensitivities, d, n)


def state_gradient_norms(cell: str, params: Params, x: jax.Array, *, seed: int = 0) -> np.ndarray:
    """How much the last step's loss still "hears" each earlier state: ``||dl_T/dh_k||``.

    ``l_T = v · h_T`` for a fixed random unit vector ``v``; the gradient with respect to every
    ``h_k`` comes from one ``jax.grad`` call through a perturbation added to each state.

    Args:
        x: ``(batch, T, features)``.

    Returns:
        ``(T,)`` mean over the batch of ``||dl_T/dh_k||`` for ``k = 1 .. T``.
    """
    step, _, _ = cell_spec(cell)
    batch, steps, _ = x.shape
    units = params["U"].shape[0]
    v = jax.random.normal(jax.random.key(seed), (units,))
    v = v / jnp.linalg.norm(v)

    def last_loss(perturbation):
        def body(state, inputs):
            x_t, eps_t = inputs
            state = step(params, state, x_t)
            state = (state[0] + eps_t, *state[1:])
            return state, None

        state, _ = jax.lax.scan(
            body, initial_state(cell, batch, units, x.dtype), (jnp.swapaxes(x, 0, 1), perturbation)
        )
        return jnp.sum(state[0] @ v)

    grads = jax.grad(last_loss)(jnp.zeros((steps, batch, units), x.dtype))
    return np.asarray(jnp.linalg.norm(grads, axis=-1).mean(axis=1))


def gradient_cost(
    method: str, steps: int, units: int, *, features: int = 8, repeats: int = 9, seed: int = 0
) -> dict[str, float]:
    """Measure one gradient computation: best wall time of ``repeats`` (compiled, after a warm-up;
    the minimum, as ``timeit`` advises, since other processes only ever add time) and the
    compiler's temporary-buffer size (XLA ``memory_analysis``) as the peak working memory.

    Returns ``{"method", "T", "n", "d", "seconds", "temp_bytes"}`` (``d``: input features).
    """
    functions: dict[str, Callable] = {"bptt": bptt_gradients, "rtrl": rtrl_gradients}
    if method not in functions:
        raise ValueError(f"method must be 'bptt' or 'rtrl', got {method!r}")
    keys = jax.random.split(jax.random.key(seed), 5)
    params = {
        "W": jax.random.normal(keys[0], (features, units)) / np.sqrt(features),
        "U": jax.random.normal(keys[1], (units, units)) / np.sqrt(units),
        "b": jnp.zeros(units),
    }
    V = jax.random.normal(keys[2], (units, 1))
    x = jax.random.normal(keys[3], (steps, features))
    y = jax.random.normal(keys[4], (steps, 1))
    function = functions[method]
    compiled = function.lower(params, V, x, y).compile()
    memory = compiled.memory_analysis()
    jax.block_until_ready(compiled(params, V, x, y))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(compiled(params, V, x, y))
        times.append(time.perf_counter() - start)
    return {
        "method": method,
        "T": steps,
        "n": units,
        "d": features,
        "seconds": float(min(times)),
        "temp_bytes": float(getattr(memory, "temp_size_in_bytes", np.nan)),
    }
