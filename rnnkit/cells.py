"""Recurrent cells from scratch in pure JAX, following the report's equations.

Conventions (the same as Keras, so weights copy over unchanged): a batch of inputs is a row
matrix ``x: (batch, features)``, so the report's ``W x_t`` is written ``x_t @ W`` with
``W: (features, units * gates)`` (Keras' ``kernel``) and ``U h_{t-1}`` is ``h_{t-1} @ U`` with
``U: (units, units * gates)`` (Keras' ``recurrent_kernel``). Gates are stacked along the last
axis in Keras' order.

* SimpleRNN:  ``z_t = U h_{t-1} + W x_t + b``,  ``h_t = tanh(z_t)``
* Residual:   ``h_t = h_{t-1} + tanh(U h_{t-1} + W x_t + b)``
* LSTM (gates i, f, c, o):  ``c_t = f ⊙ c_{t-1} + i ⊙ tanh(z_c)``,  ``h_t = o ⊙ tanh(c_t)``
* GRU, Keras' default ``reset_after=True`` (gates z, r, h; two bias vectors):
  ``h̃_t = tanh(W_h x_t + b_h + r ⊙ (U_h h_{t-1} + b'_h))``,  ``h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃_t``
* GRU as Cho et al. (2014) wrote it, Keras' ``reset_after=False`` (one bias vector): the reset
  gate scales the state *before* the recurrent product,
  ``h̃_t = tanh(W_h x_t + U_h (r ⊙ h_{t-1}) + b_h)``, same ``z``, ``r`` and update.

Keras is only touched by :func:`from_keras`, which reads a built layer's weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "CELLS",
    "RecurrentLayer",
    "cell_spec",
    "from_keras",
    "gru_cho_step",
    "gru_step",
    "init_params",
    "initial_state",
    "lstm_step",
    "parameter_count",
    "residual_rnn_step",
    "run_layer",
    "run_layers",
    "scan_rnn",
    "simple_rnn_step",
]

Params = dict[str, jax.Array]
State = tuple[jax.Array, ...]


def simple_rnn_step(params: Params, state: State, x: jax.Array) -> State:
    """``state = (h,)``, ``h: (batch, units)``, ``x: (batch, features)``."""
    (h,) = state
    return (jnp.tanh(x @ params["W"] + h @ params["U"] + params["b"]),)


def residual_rnn_step(params: Params, state: State, x: jax.Array) -> State:
    """The report's residual fix: ``h_t = h_{t-1} + g(x_t, h_{t-1})`` with ``g`` a SimpleRNN step."""
    (h,) = state
    return (h + jnp.tanh(x @ params["W"] + h @ params["U"] + params["b"]),)


def lstm_step(params: Params, state: State, x: jax.Array) -> State:
    """``state = (h, c)``; gates i, f, c, o stacked along the last axis of ``W``, ``U``, ``b``."""
    h, c = state
    z = x @ params["W"] + h @ params["U"] + params["b"]
    i, f, g, o = jnp.split(z, 4, axis=-1)
    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    h = jax.nn.sigmoid(o) * jnp.tanh(c)
    return (h, c)


def gru_step(params: Params, state: State, x: jax.Array) -> State:
    """``state = (h,)``; gates z, r, h; ``b: (2, 3 units)`` = input bias, recurrent bias."""
    (h,) = state
    x_z, x_r, x_h = jnp.split(x @ params["W"] + params["b"][0], 3, axis=-1)
    h_z, h_r, h_h = jnp.split(h @ params["U"] + params["b"][1], 3, axis=-1)
    z = jax.nn.sigmoid(x_z + h_z)
    r = jax.nn.sigmoid(x_r + h_r)
    candidate = jnp.tanh(x_h + r * h_h)
    return (z * h + (1.0 - z) * candidate,)


def gru_cho_step(params: Params, state: State, x: jax.Array) -> State:
    """Cho et al. (2014): the reset gate multiplies ``h_{t-1}`` *before* ``U_h`` (Keras'
    ``GRU(reset_after=False)``). ``state = (h,)``; gates z, r, h; ``b: (3 units,)``."""
    (h,) = state
    units = h.shape[-1]
    x_z, x_r, x_h = jnp.split(x @ params["W"] + params["b"], 3, axis=-1)
    U_z, U_r, U_h = params["U"][:, :units], params["U"][:, units : 2 * units], params["U"][:, 2 * units :]
    z = jax.nn.sigmoid(x_z + h @ U_z)
    r = jax.nn.sigmoid(x_r + h @ U_r)
    candidate = jnp.tanh(x_h + (r * h) @ U_h)
    return (z * h + (1.0 - z) * candidate,)


#: cell name -> (step function, number of gates, number of state tensors)
CELLS: dict[str, tuple[Callable[[Params, State, jax.Array], State], int, int]] = {
    "simple_rnn": (simple_rnn_step, 1, 1),
    "residual_rnn": (residual_rnn_step, 1, 1),
    "lstm": (lstm_step, 4, 2),
    "gru": (gru_step, 3, 1),
    "gru_cho": (gru_cho_step, 3, 1),
}


def cell_spec(name: str):
    """(step function, gates, state tensors) of a cell; a clear ValueError for unknown names."""
    if name not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {name!r}")
    return CELLS[name]


def parameter_count(cell: str, features: int, units: int) -> int:
    """Weights of one layer with ``d = features`` inputs and ``n = units``: each gate has ``W``
    (``d·n``), ``U`` (``n·n``) and a bias (``n``); Keras' GRU has a second, recurrent bias.

    SimpleRNN ``n(d + n + 1)``, LSTM ``4n(d + n + 1)``, GRU (``reset_after``) ``3n(d + n + 2)``,
    Cho GRU ``3n(d + n + 1)``.
    """
    _, gates, _ = cell_spec(cell)
    biases = 2 if cell == "gru" else 1
    return gates * units * (features + units + biases)


def initial_state(cell: str, batch: int, units: int, dtype=jnp.float32) -> State:
    """Zeros: ``(h,)`` or ``(h, c)``, each ``(batch, units)``."""
    _, _, n_states = cell_spec(cell)
    return tuple(jnp.zeros((batch, units), dtype) for _ in range(n_states))


def init_params(cell: str, features: int, units: int, *, seed: int, spectral_radius: float | None = None) -> Params:
    """Random weights: Glorot-uniform ``W``, orthogonal ``U`` (optionally rescaled so each gate's
    block has the given spectral radius), zero bias (LSTM forget gate 1, as Keras)."""
    _, gates, _ = cell_spec(cell)
    key_w, key_u = jax.random.split(jax.random.key(seed))
    limit = np.sqrt(6.0 / (features + units * gates))
    W = jax.random.uniform(key_w, (features, units * gates), minval=-limit, maxval=limit)
    blocks = []
    for key in jax.random.split(key_u, gates):
        q = jnp.linalg.qr(jax.random.normal(key, (units, units)))[0]
        if spectral_radius is not None:
            q = q * (spectral_radius / jnp.max(jnp.abs(jnp.linalg.eigvals(q))).real)
        blocks.append(q)
    U = jnp.concatenate(blocks, axis=1)
    b = jnp.zeros((2, units * gates)) if cell == "gru" else jnp.zeros((units * gates,))  # gru: input, recurrent
    if cell == "lstm":
        b = b.at[units : 2 * units].set(1.0)
    return {"W": W, "U": U, "b": b}


def scan_rnn(
    cell: str,
    params: Params,
    x: jax.Array,
    *,
    mask: jax.Array | None = None,
    reverse: bool = False,
    state: State | None = None,
    zero_output_for_mask: bool = False,
) -> tuple[jax.Array, State]:
    """Run a cell over time with ``lax.scan``.

    Args:
        x: ``(batch, time, features)``.
        mask: ``(batch, time)`` bool; where False the step is skipped: the state is carried over
            unchanged and the output repeats the previous one, or is zero with
            ``zero_output_for_mask=True`` (what Keras does inside ``Bidirectional``).
        reverse: run from the last step to the first (outputs stay aligned with the inputs).
        state: initial state (default zeros).

    Returns:
        ``outputs: (batch, time, units)`` (the ``h_t``) and the final state.
    """
    step, _, _ = cell_spec(cell)
    batch, _, _ = x.shape
    units = params["U"].shape[0]
    if state is None:
        state = initial_state(cell, batch, units, x.dtype)
    xs = jnp.swapaxes(x, 0, 1)
    ms = jnp.ones(xs.shape[:2], bool) if mask is None else jnp.swapaxes(jnp.asarray(mask, bool), 0, 1)

    def body(carry, inputs):
        state, previous_output = carry
        x_t, m_t = inputs
        new_state = step(params, state, x_t)
        keep = m_t[:, None]
        new_state = tuple(jnp.where(keep, new, old) for new, old in zip(new_state, state, strict=True))
        fill = jnp.zeros_like(previous_output) if zero_output_for_mask else previous_output
        output = jnp.where(keep, new_state[0], fill)
        return (new_state, output), output

    (final_state, _), outputs = jax.lax.scan(body, (state, jnp.zeros_like(state[0])), (xs, ms), reverse=reverse)
    return jnp.swapaxes(outputs, 0, 1), final_state


@dataclass
class RecurrentLayer:
    """One recurrent layer: a cell, its weights, and optionally backward weights (bidirectional)."""

    cell: str
    params: Params
    backward_params: Params | None = None
    go_backwards: bool = False

    @property
    def units(self) -> int:
        return int(self.params["U"].shape[0])


def run_layer(layer: RecurrentLayer, x: jax.Array, *, mask: jax.Array | None = None) -> jax.Array:
    """``x: (batch, time, features)`` -> ``(batch, time, units)``, or ``2 * units`` when
    bidirectional (forward and backward outputs concatenated, as Keras' ``merge_mode="concat"``;
    like Keras, masked steps then output zeros)."""
    bidirectional = layer.backward_params is not None
    outputs, _ = scan_rnn(
        layer.cell, layer.params, x, mask=mask, reverse=layer.go_backwards, zero_output_for_mask=bidirectional
    )
    if not bidirectional:
        return outputs
    backward, _ = scan_rnn(layer.cell, layer.backward_params, x, mask=mask, reverse=True, zero_output_for_mask=True)
    return jnp.concatenate([outputs, backward], axis=-1)


def run_layers(layers: Sequence[RecurrentLayer], x: jax.Array, *, mask: jax.Array | None = None) -> jax.Array:
    """A stack: each layer's full output sequence feeds the next. Returns the last layer's."""
    for layer in layers:
        x = run_layer(layer, x, mask=mask)
    return x


_KERAS_CELLS = {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru"}


def _params_from_keras(layer) -> tuple[str, Params]:
    kind = type(layer).__name__
    if kind not in _KERAS_CELLS:
        raise ValueError(f"expected a keras SimpleRNN, LSTM or GRU layer, got {kind}")
    if not layer.cell.use_bias:
        raise ValueError(f"{layer.name}: layers without bias are not supported")
    activation = getattr(layer.cell.activation, "__name__", "")
    if activation != "tanh":
        raise ValueError(f"{layer.name}: only the default tanh activation is supported, got {activation!r}")
    if kind != "SimpleRNN":  # the gates: cells.py computes them with the logistic sigmoid, as Keras' default
        gate = getattr(layer.cell.recurrent_activation, "__name__", "")
        if gate != "sigmoid":
            raise ValueError(f"{layer.name}: only the default sigmoid recurrent_activation is supported, got {gate!r} "
                             "(copying the weights would silently compute other gates)")
    W, U, b = (jnp.asarray(np.asarray(w)) for w in layer.get_weights())
    cell = "gru_cho" if kind == "GRU" and not layer.cell.reset_after else _KERAS_CELLS[kind]
    return cell, {"W": W, "U": U, "b": b}


def from_keras(layer) -> RecurrentLayer:
    """Copy the weights of a built ``keras.layers.SimpleRNN/LSTM/GRU`` (or a ``Bidirectional``
    wrapper around one) into a :class:`RecurrentLayer`. A ``GRU(reset_after=False)`` becomes the
    ``"gru_cho"`` cell, the default ``reset_after=True`` the ``"gru"`` cell."""
    if type(layer).__name__ == "Bidirectional":
        if layer.merge_mode != "concat":
            raise ValueError(f"{layer.name}: only merge_mode='concat' is supported, got {layer.merge_mode!r}")
        cell, forward = _params_from_keras(layer.forward_layer)
        _, backward = _params_from_keras(layer.backward_layer)
        return RecurrentLayer(cell, forward, backward)
    cell, params = _params_from_keras(layer)
    return RecurrentLayer(cell, params, go_backwards=bool(layer.go_backwards))
