"""Length-bucketed batches: pad each batch only as far as its longest member needs.

Sentences and reviews vary a lot in length. Padding every example to the longest one wastes most
of the recurrent computation (each padded step still runs through the cell; the mask only stops
it from changing the state). :class:`BucketedBatches` groups examples of similar length and cuts
every batch to a small set of widths, so JAX compiles one step per width and each step does
little wasted work.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["BucketedBatches", "predict_bucketed"]


class BucketedBatches(keras.utils.PyDataset):
    """A ``keras.utils.PyDataset`` of length-bucketed batches.

    Args:
        inputs: ``{name: (n, time, ...) array}`` padded at the end (``padding="post"``) to a common
            ``time``; 0 is padding. With a single input, batches hold the bare array.
        lengths: ``(n,)`` real length of each example.
        targets: ``(n,)`` per-example targets, or ``(n, time)`` per-step targets (cut like the
            inputs); ``None`` for prediction.
        batch_size: examples per batch.
        widths: allowed batch widths (ascending); an example goes to the smallest width that holds
            it; the last width must be ``>= max(lengths)``.
        shuffle: reshuffle examples within each width and the order of batches every epoch.
        seed: the shuffles are ``default_rng(seed + epoch)``: the same seed gives the same batches.
        step_weights: with per-step targets, each batch is ``(x, y, weights)`` where ``weights:
            (batch, width) float32`` is 1 at real steps and 0 at padding. Keras then leaves padding
            out of the loss *and* of ``weighted_metrics`` in ``fit`` as well as in ``evaluate`` (the
            mask that the model's output carries reaches the loss, but in ``fit`` on JAX it does not
            reach the metrics). ``False``: ``(x, y)`` as before.
    """

    def __init__(
        self,
        inputs: Mapping[str, np.ndarray],
        lengths: np.ndarray,
        targets: np.ndarray | None = None,
        *,
        batch_size: int = 64,
        widths: Sequence[int] = (16, 32, 64, 128),
        shuffle: bool = True,
        seed: int = 0,
        step_weights: bool = True,
    ):
        super().__init__()
        self.inputs = {name: np.asarray(array) for name, array in inputs.items()}
        self.lengths = np.asarray(lengths)
        self.targets = None if targets is None else np.asarray(targets)
        count = len(self.lengths)
        for name, array in self.inputs.items():
            if len(array) != count:
                raise ValueError(f"input {name!r} has {len(array)} examples, lengths has {count}")
        if self.targets is not None and len(self.targets) != count:
            raise ValueError(f"targets has {len(self.targets)} examples, lengths has {count}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        widths = sorted(int(width) for width in widths)
        if not widths or widths[-1] < self.lengths.max():
            raise ValueError(f"the largest width {widths[-1] if widths else None} is shorter than the longest "
                             f"example ({int(self.lengths.max())} steps)")
        self.widths, self.batch_size, self.shuffle, self.seed = widths, batch_size, shuffle, seed
        self.step_weights = step_weights and self.targets is not None and self.targets.ndim >= 2
        self.bucket_of = np.searchsorted(widths, self.lengths)  # smallest width >= length
        self.epoch = 0
        self._plan()

    def _plan(self) -> None:
        rng = np.random.default_rng(self.seed + self.epoch)
        batches = []
        for bucket, width in enumerate(self.widths):
            members = np.flatnonzero(self.bucket_of == bucket)
            if self.shuffle:
                members = rng.permutation(members)
            batches += [(members[i:i + self.batch_size], width) for i in range(0, len(members), self.batch_size)]
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int):
        members, width = self.batches[index]
        x = {name: array[members, :width] for name, array in self.inputs.items()}
        if len(x) == 1:  # a single-input model takes the bare array
            (x,) = x.values()
        if self.targets is None:
            return (x,)
        if self.targets.ndim < 2:
            return x, self.targets[members]
        y = self.targets[members, :width]
        if not self.step_weights:
            return x, y
        weights = (np.arange(y.shape[1])[None, :] < self.lengths[members, None]).astype(np.float32)
        return x, y, weights

    def on_epoch_end(self) -> None:
        self.epoch += 1
        if self.shuffle:
            self._plan()

    @property
    def padded_fraction(self) -> float:
        """Share of the computed time steps that are padding (0 = no waste)."""
        computed = sum(len(members) * width for members, width in self.batches)
        return 1.0 - float(self.lengths.sum()) / computed


def predict_bucketed(model: keras.Model, batches: BucketedBatches) -> list[np.ndarray]:
    """``model``'s outputs for every example, in the original order, cut to each example's length
    when the output has a time axis. Returns a list of ``n`` arrays."""
    outputs: list[np.ndarray | None] = [None] * len(batches.lengths)
    for index in range(len(batches)):
        members, _ = batches.batches[index]
        predicted = np.asarray(model.predict_on_batch(batches[index][0]))
        for row, example in enumerate(members):
            value = predicted[row]
            outputs[example] = value[: batches.lengths[example]] if predicted.ndim >= 3 else value
    return outputs
