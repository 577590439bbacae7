"""Shared test set-up: Keras on JAX before anything imports keras; quick profile."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("RNNKIT_PROFILE", "quick")
