"""Attention written out in pure JAX: score, softmax, context (notebook 01).

A decoder state ``s_t`` (the *query*) looks at every encoder output ``h_s`` (the *keys*, here also
the *values*):

* score    ``e_{t,s} = score(s_t, h_s)``
* weights  ``alpha_{t,s} = exp(e_{t,s}) / sum_{s'} exp(e_{t,s'})``  (softmax over ``s``)
* context  ``c_t = sum_s alpha_{t,s} h_s``

Two scores, as Keras implements them:

* dot-product (Luong), ``keras.layers.Attention``: ``e_{t,s} = s_t · h_s`` (times an optional scalar);
* additive (Bahdanau), ``keras.layers.AdditiveAttention``: ``e_{t,s} = sum_j v_j tanh(s_{t,j} + h_{s,j})``.
  Bahdanau's ``v^T tanh(W_q s_t + W_k h_s)`` is this with the two projections applied first
  (``Dense`` layers in front of the Keras layer).

Shapes: ``query: (batch, Tq, dim)``, ``keys``/``values: (batch, Tv, dim)``; weights ``(batch, Tq, Tv)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["additive_scores", "attend", "dot_product_scores"]


def dot_product_scores(query: jax.Array, keys: jax.Array, scale: float = 1.0) -> jax.Array:
    """``e = scale · query keys^T``: ``(batch, Tq, Tv)``."""
    return scale * jnp.einsum("bqd,bvd->bqv", query, keys)


def additive_scores(query: jax.Array, keys: jax.Array, v: jax.Array | None = None) -> jax.Array:
    """``e_{t,s} = sum_j v_j tanh(query_{t,j} + keys_{s,j})`` (``v`` = ones if None): ``(batch, Tq, Tv)``."""
    hidden = jnp.tanh(query[:, :, None, :] + keys[:, None, :, :])
    return jnp.sum(hidden * (1.0 if v is None else v), axis=-1)


def attend(scores: jax.Array, values: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Softmax over the value axis, then the weighted sum: ``(context (batch, Tq, dim), weights)``."""
    weights = jax.nn.softmax(scores, axis=-1)
    return jnp.einsum("bqv,bvd->bqd", weights, values), weights
