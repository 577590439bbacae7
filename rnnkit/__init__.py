"""rnnkit — the helper package of the rnn-notebooks course.

* :mod:`rnnkit.data` — offline dataset loaders (AAPL, IMDB, UD EWT, GloVe), text utilities,
  synthetic tasks.
* :mod:`rnnkit.cells` — SimpleRNN / LSTM / GRU cells in pure JAX, weight-compatible with Keras.
* :mod:`rnnkit.gradients` — BPTT, RTRL and truncated BPTT by hand, gradient-flow diagnostics.
* :mod:`rnnkit.attention` — dot-product and additive attention (score, softmax, context) in pure JAX.
* :mod:`rnnkit.models` — Keras model builders (uncompiled).
* :mod:`rnnkit.layers` — dot-product and additive attention written out, equal to Keras' layers.
* :mod:`rnnkit.losses` — masked sequence loss and accuracy for padded targets.
* :mod:`rnnkit.decoding` — greedy, sampling (temperature, top-k) and beam search over a step function.
* :mod:`rnnkit.batching` — length-bucketed batches (less padding, fewer wasted steps).
* :mod:`rnnkit.training` — seed, build, compile, fit with early stopping (and data parallelism).
* :mod:`rnnkit.experiments` — grids of configurations x seeds, cached on disk, summarised.
* :mod:`rnnkit.metrics` — MAE/RMSE, direction accuracy with its interval, token accuracy.
* :mod:`rnnkit.results` — headline figures saved by each notebook for the handout.
* :mod:`rnnkit.tagging` — POS-tagging inputs, the most-frequent-tag baseline, `Tagger.tag(sentence)`.
* :mod:`rnnkit.plots` — figures the notebooks draw more than once.
* :mod:`rnnkit.profiles` — the ``quick`` / ``full`` run profiles.

The modules that import JAX or Keras are loaded on first attribute access, so
``import rnnkit`` and the data loaders stay fast.
"""

import importlib
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

from rnnkit import data  # noqa: E402
from rnnkit.profiles import resolve_profile  # noqa: E402

__version__ = "0.1.0"
_LAZY_MODULES = (
    "attention", "batching", "cells", "decoding", "experiments", "gradients", "layers", "losses", "metrics", "models",
    "plots", "results", "tagging", "tasks", "training",
)
__all__ = ["__version__", "data", "resolve_profile", *_LAZY_MODULES]


def __getattr__(name: str):
    if name in _LAZY_MODULES:
        return importlib.import_module(f"rnnkit.{name}")
    raise AttributeError(f"module 'rnnkit' has no attribute {name!r}")
