"""Attention written out as small Keras layers: a score, a softmax over the source, a context.

For a decoder state ``q_t`` (the *query*) and encoder outputs ``k_1..k_S`` (the *keys*, here also
the *values* ``v_s``):

.. math::

    e_{t,s} = \\mathrm{score}(q_t, k_s), \\qquad
    \\alpha_{t,s} = \\frac{\\exp e_{t,s}}{\\sum_{s'} \\exp e_{t,s'}}, \\qquad
    c_t = \\sum_s \\alpha_{t,s} v_s

* :class:`DotProductAttention` (Luong): ``score(q, k) = q · k`` (optionally times a learned
  scalar ``g``). Same numbers as ``keras.layers.Attention(use_scale=...)``.
* :class:`AdditiveAttention` (Bahdanau): ``score(q, k) = wᵀ tanh(W_q q + W_k k)``. Same numbers
  as ``keras.layers.AdditiveAttention(use_scale=True)`` called on the projected inputs
  ``[q W_q, values, k W_k]`` with ``scale = w`` (Keras' layer leaves the projections to the caller).

Both take ``[query, value]`` or ``[query, value, key]`` with ``query: (batch, Tq, dim_q)``,
``value: (batch, Tv, dim_v)``, and return the context ``(batch, Tq, dim_v)``, plus the weights
``alpha: (batch, Tq, Tv)`` when called with ``return_attention_scores=True``. A value mask
(``mask=[query_mask, value_mask]``, or Keras' automatic mask from ``Embedding(mask_zero=True)``)
keeps padded source positions at weight 0.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
from keras import ops  # noqa: E402

__all__ = ["AdditiveAttention", "DotProductAttention"]

#: subtracted from the score of a padded source position (Keras uses the same constant)
_MASKED_SCORE = 1.0e9


class _Attention(keras.layers.Layer):
    """Shared part: masked softmax over the source positions, weighted sum of the values."""

    supports_masking = True

    def _shapes(self, input_shape) -> tuple:
        """``(query_shape, key_shape)``; a clear error for anything but [query, value(, key)]."""
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) not in (2, 3) or not all(
                isinstance(shape, (list, tuple)) for shape in input_shape):
            raise ValueError(f"{type(self).__name__} takes [query, value] or [query, value, key], got {input_shape!r}")
        return input_shape[0], input_shape[-1]

    def score(self, query, key):
        """``query: (batch, Tq, dq)``, ``key: (batch, Tv, dk)`` -> ``(batch, Tq, Tv)``."""
        raise NotImplementedError

    def call(self, inputs, mask=None, return_attention_scores: bool = False):
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError(f"{type(self).__name__} takes [query, value] or [query, value, key], got {inputs!r}")
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        query_mask, value_mask = (mask[0], mask[1]) if mask is not None else (None, None)
        scores = self.score(query, key)  # e: (batch, Tq, Tv)
        if value_mask is not None:  # padded source positions get exp(e - 1e9) = 0
            value_mask = ops.expand_dims(ops.cast(value_mask, "bool"), axis=-2)
            scores = ops.where(value_mask, scores, scores - _MASKED_SCORE)
        weights = ops.softmax(scores, axis=-1)  # alpha: (batch, Tq, Tv), rows sum to 1
        context = ops.matmul(weights, value)  # c: (batch, Tq, dim_v)
        if query_mask is not None:
            context = ops.where(ops.expand_dims(ops.cast(query_mask, "bool"), -1), context, 0.0)
        return (context, weights) if return_attention_scores else context

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[0]

    def compute_output_spec(self, inputs, mask=None, return_attention_scores: bool = False):
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        context = keras.KerasTensor((*query.shape[:-1], value.shape[-1]), dtype=self.compute_dtype)
        if not return_attention_scores:
            return context
        return context, keras.KerasTensor((*query.shape[:-1], key.shape[-2]), dtype=self.compute_dtype)


@keras.saving.register_keras_serializable(package="rnnkit")
class DotProductAttention(_Attention):
    """Luong's dot score ``e_{t,s} = g · q_t · k_s``; ``g = 1`` unless ``use_scale`` (then learned,
    initialised to 1). ``query`` and ``key`` need the same last dimension."""

    def __init__(self, *, use_scale: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = use_scale

    def build(self, input_shape):
        query_shape, key_shape = self._shapes(input_shape)
        query_dim, key_dim = query_shape[-1], key_shape[-1]
        if query_dim != key_dim:
            raise ValueError(f"dot-product attention needs query and key of the same size, got {query_dim} and {key_dim}")
        self.scale = self.add_weight(name="scale", shape=(), initializer="ones") if self.use_scale else None

    def score(self, query, key):
        scores = ops.matmul(query, ops.swapaxes(key, -2, -1))
        return scores * self.scale if self.scale is not None else scores

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale}


@keras.saving.register_keras_serializable(package="rnnkit")
class AdditiveAttention(_Attention):
    """Bahdanau's additive score ``e_{t,s} = wᵀ tanh(W_q q_t + W_k k_s)`` with ``W_q: (dq, units)``,
    ``W_k: (dk, units)``, ``w: (units,)``: a one-hidden-layer network on the pair (query, key)."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        if units < 1:
            raise ValueError(f"units must be >= 1, got {units}")
        self.units = int(units)
        self.query_projection = keras.layers.Dense(self.units, use_bias=False, name="query_projection")
        self.key_projection = keras.layers.Dense(self.units, use_bias=False, name="key_projection")

    def build(self, input_shape):
        query_shape, key_shape = self._shapes(input_shape)
        self.query_projection.build(query_shape)
        self.key_projection.build(key_shape)
        self.score_vector = self.add_weight(name="score_vector", shape=(self.units,), initializer="glorot_uniform")

    def score(self, query, key):
        projected_query = ops.expand_dims(self.query_projection(query), axis=-2)  # (batch, Tq, 1, units)
        projected_key = ops.expand_dims(self.key_projection(key), axis=-3)  # (batch, 1, Tv, units)
        return ops.sum(self.score_vector * ops.tanh(projected_query + projected_key), axis=-1)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
