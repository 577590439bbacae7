"""Shared test set-up: Keras on JAX before anything imports keras."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
