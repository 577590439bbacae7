"""rnnkit — the helper package of the rnn-notebooks course.

* :mod:`rnnkit.data` — offline dataset loaders (AAPL, IMDB, UD EWT, GloVe), text utilities.
* :mod:`rnnkit.profiles` — the ``quick`` / ``full`` run profiles.

Modules that need Keras or JAX are imported on first use, so loading data stays fast.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

from rnnkit import data  # noqa: E402
from rnnkit.profiles import resolve_profile  # noqa: E402

__version__ = "0.1.0"
__all__ = ["__version__", "data", "resolve_profile"]
