"""One training entry point for every notebook: seed, build, compile, fit with early stopping.

:func:`train` takes a *builder* (a function returning an uncompiled model) rather than a model,
because three things must happen before the model exists: ``keras.backend.clear_session()``,
``keras.utils.set_random_seed(seed)`` and, for data-parallel training, entering a
``keras.distribution`` scope so the weights are created on every device.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402

__all__ = [
    "OPTIMIZERS",
    "EpochLogger",
    "TrainResult",
    "enable_compilation_cache",
    "make_optimizer",
    "seed_everything",
    "train",
]


def enable_compilation_cache(directory: str | os.PathLike | None = None) -> str:
    """Keep XLA's compiled programs on disk and reuse them.

    Every new Keras model compiles its training, evaluation and prediction steps again, once per
    input shape — on 2 CPU cores that is 1-2 s each, often more than an epoch. Two models with the
    same architecture and shapes (another seed, a re-run of the notebook) compile to the same
    program, which JAX's persistent cache then loads in milliseconds. Results are unchanged.

    ``directory`` defaults to ``$RNNKIT_JAX_CACHE`` or ``build/jax-cache`` in the repository.
    Returns the directory used.
    """
    import jax

    from rnnkit.data.files import build_dir

    directory = str(directory or build_dir("jax-cache", env="RNNKIT_JAX_CACHE"))
    os.makedirs(directory, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", directory)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return directory

OPTIMIZERS = {
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "rmsprop": keras.optimizers.RMSprop,
    "sgd": keras.optimizers.SGD,
}


def make_optimizer(name: str, learning_rate: float = 1e-3, **kwargs: Any) -> keras.optimizers.Optimizer:
    """``keras.optimizers.Adam/AdamW/RMSprop/SGD`` by lower-case name."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {name!r}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate}")
    return OPTIMIZERS[name](learning_rate=learning_rate, **kwargs)


def seed_everything(seed: int) -> int:
    """``clear_session()`` then ``set_random_seed(seed)``: the same seed gives the same model."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    return seed


class EpochLogger(keras.callbacks.Callback):
    """Prints ``epoch N: loss ... - val_loss ...`` every ``every`` epochs, without timings
    (so committed notebook outputs do not change from run to run)."""

    def __init__(self, every: int = 1, digits: int = 4):
        super().__init__()
        self.every, self.digits = every, digits

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (epoch + 1) % self.every == 0 or epoch == 0:
            shown = " - ".join(f"{name} {value:.{self.digits}f}" for name, value in (logs or {}).items())
            print(f"epoch {epoch + 1}: {shown}")


@dataclass
class TrainResult:
    """What :func:`train` returns."""

    model: keras.Model
    #: ``{"loss": [...], "val_loss": [...], ...}`` one value per epoch run.
    history: dict[str, list[float]] = field(repr=False)
    #: epochs actually run (early stopping may end before ``epochs``).
    epochs_run: int
    #: 1-based epoch whose weights the model holds (the best on ``monitor``).
    best_epoch: int
    #: wall time of ``fit`` (compile included).
    seconds: float
    seed: int
    #: wall time of each epoch; the first includes compiling the training step.
    epoch_seconds: list[float] = field(default_factory=list, repr=False)

    @property
    def steady_epoch_seconds(self) -> float:
        """Median epoch time without the first (compiling) epoch; the first if it is the only one."""
        times = self.epoch_seconds[1:] or self.epoch_seconds
        return float(sorted(times)[len(times) // 2]) if times else float("nan")


def train(
    build: Callable[[], keras.Model],
    x: Any,
    y: Any = None,
    *,
    seed: int,
    loss: Any,
    validation_data: tuple | None = None,
    metrics: Sequence[Any] = (),
    weighted_metrics: Sequence[Any] = (),
    optimizer: str | keras.optimizers.Optimizer = "adam",
    learning_rate: float = 1e-3,
    epochs: int = 10,
    batch_size: int = 64,
    patience: int | None = None,
    monitor: str = "val_loss",
    callbacks: Sequence[keras.callbacks.Callback] = (),
    distribution: keras.distribution.Distribution | None = None,
    verbose: int = 0,
    **fit_kwargs: Any,
) -> TrainResult:
    """Seed, build, compile and fit a model; keep the weights of the best validation epoch.

    Args:
        build: returns an uncompiled model, e.g. ``lambda: models.build_tagger(...)``.
        x, y: training inputs and targets (NumPy arrays or dicts of arrays).
        seed: passed to :func:`seed_everything` before ``build()``.
        loss, metrics, weighted_metrics: as in ``model.compile``; ``weighted_metrics`` also apply
            the batches' sample weights (e.g. the real-token weights of
            :class:`rnnkit.batching.BucketedBatches`, so padding is left out during ``fit`` too).
        validation_data: ``(x_val, y_val)``; required when ``patience`` is set.
        optimizer: a name from :data:`OPTIMIZERS` (built with ``learning_rate``) or an instance.
        patience: early stopping on ``monitor`` with ``restore_best_weights``; ``None`` runs all
            ``epochs``.
        distribution: e.g. ``keras.distribution.DataParallel()``; the model is built, compiled
            and trained inside its scope, so each batch is split across the devices.
        verbose: passed to ``fit`` (``2`` = one line per epoch).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if patience is not None and validation_data is None and monitor.startswith("val_"):
        raise ValueError("early stopping on a validation metric needs validation_data")
    seed_everything(seed)
    timer = _EpochTimer()
    callbacks = [timer, *callbacks]
    stopper = None
    if patience is not None:
        stopper = keras.callbacks.EarlyStopping(
            monitor=monitor, patience=patience, restore_best_weights=True, start_from_epoch=0
        )
        callbacks.append(stopper)
    scope = distribution.scope() if distribution is not None else contextlib.nullcontext()
    start = time.perf_counter()
    with scope:
        model = build()
        if isinstance(optimizer, str):
            optimizer = make_optimizer(optimizer, learning_rate)
        model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics),
                      weighted_metrics=list(weighted_metrics) or None)
        history = model.fit(
            x, y, validation_data=validation_data, epochs=epochs, batch_size=batch_size,
            callbacks=callbacks, verbose=verbose, **fit_kwargs,
        )
    seconds = time.perf_counter() - start
    logs = {name: [float(value) for value in values] for name, values in history.history.items()}
    epochs_run = len(next(iter(logs.values()))) if logs else 0
    if stopper is not None and stopper.best_epoch is not None and monitor in logs:
        best_epoch = int(stopper.best_epoch) + 1
    else:
        best_epoch = epochs_run
    return TrainResult(model=model, history=logs, epochs_run=epochs_run, best_epoch=best_epoch,
                       seconds=seconds, seed=seed, epoch_seconds=timer.seconds)


class _EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)

