"""Masked sequence loss and accuracy for padded target sequences (label 0 = padding).

Keras averages a loss over every position of the batch, padding included, unless a mask reaches
the output. A seq2seq decoder's targets are padded at the end, and its output carries no mask, so
these two functions mask by the labels themselves: every real token counts once, every padded
position not at all, whatever the lengths in the batch.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
from keras import ops  # noqa: E402

__all__ = ["MaskedAccuracy", "masked_sparse_crossentropy"]


def masked_sparse_crossentropy(y_true, logits):
    """Cross-entropy per real token, padded positions (``y_true == 0``) contributing nothing.

    ``y_true: (batch, T) int``, ``logits: (batch, T, vocab)``. Returns ``(batch, T)`` values scaled
    so that Keras' mean over all ``batch·T`` positions equals the sum over real tokens divided by
    their number (a token-level mean, not a mean of per-sequence means).
    """
    y_true = ops.cast(y_true, "int32")
    mask = ops.cast(ops.not_equal(y_true, 0), logits.dtype)
    per_token = keras.losses.sparse_categorical_crossentropy(y_true, logits, from_logits=True)
    positions = ops.cast(ops.size(mask), logits.dtype)
    return per_token * mask * positions / ops.maximum(ops.sum(mask), 1.0)


@keras.saving.register_keras_serializable(package="rnnkit")
class MaskedAccuracy(keras.metrics.Metric):
    """Token micro accuracy over real positions (``y_true != 0``): correct / real tokens, summed
    over every batch of the epoch (never a mean of batch means)."""

    def __init__(self, name: str = "accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        mask = ops.not_equal(y_true, 0)
        hit = ops.logical_and(mask, ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), y_true))
        self.correct.assign_add(ops.sum(ops.cast(hit, "float32")))
        self.total.assign_add(ops.sum(ops.cast(mask, "float32")))

    def result(self):
        return self.correct / ops.maximum(self.total, 1.0)

    def reset_state(self):
        self.correct.assign(0.0)
        self.total.assign(0.0)
