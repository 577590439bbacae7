"""AAPL next-day change: configuration, input pipeline and training run (notebook 02).

The target is tomorrow's close-to-close change in percent. Inputs are windows of ``window`` days
of either the report's raw price levels (``features="prices"``: open, high, low, close, volume,
p_change, min-max scaled on the training span) or stationary *return features*
(``features="returns"``: every price relative to the previous close, plus the log volume change).
Windows are split by the date of their target — train, then validation, then test — so no target
day is shared and nothing later than the training span reaches the scaler.

>>> data = load_data()
>>> metrics = run(Config(cell="gru"), seed=0, data=data)      # validation metrics + history
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

os.environ.setdefault("KERAS_BACKEND", "jax")

from rnnkit import data as datasets  # noqa: E402
from rnnkit import metrics, models, training  # noqa: E402

__all__ = ["PRICE_FEATURES", "SETTINGS", "Config", "StockData", "build_model", "evaluate", "load_data",
           "make_split", "predict", "run", "train"]

#: The report's inputs: price levels, the volume and the day's change.
PRICE_FEATURES = ("open", "high", "low", "close", "volume", "p_change")
#: ``setting -> (rows used from the end of the file or None for all, train windows, validation windows)``;
#: ``None`` sizes mean 70 % train and half of the rest for validation.
SETTINGS = {"one_year": (300, 200, 50), "ten_year": (None, None, None)}


@dataclass(frozen=True)
class Config:
    """Every choice that changes a result of the stock task."""

    setting: str = "one_year"  # "one_year": the report's 200/50/50 windows; "ten_year": the whole file
    features: str = "returns"  # "returns" (stationary) or "prices" (the report's min-max scaled levels)
    report_bug: bool = False  # True: the "high" column overwritten by "low", as in the report's code
    window: int = 30  # days per input window
    cell: str = "lstm"
    units: int = 32
    layers: int = 1
    pooling: str = "mean"  # the report's head: the mean of the states over time
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    max_epochs: int = 300  # an upper bound; early stopping on the validation loss decides
    patience: int = 25
    batch_size: int = 32

    def __post_init__(self):
        if self.setting not in SETTINGS:
            raise ValueError(f"setting must be one of {sorted(SETTINGS)}, got {self.setting!r}")
        if self.features not in ("returns", "prices"):
            raise ValueError(f"features must be 'returns' or 'prices', got {self.features!r}")

    @property
    def label(self) -> str:
        """Short name for tables and legends, e.g. ``lstm-32x1 adam``."""
        return f"{self.cell}-{self.units}x{self.layers} {self.optimizer}"


@dataclass
class StockData:
    """The daily prices every configuration is cut from: a date-indexed frame with ``open, high,
    low, close, volume, p_change`` and the :data:`rnnkit.data.RETURN_FEATURES` columns."""

    prices: pd.DataFrame


def load_data(path: str | os.PathLike | None = None) -> StockData:
    """The shipped AAPL file (or another Nasdaq/OHLCV CSV at ``path``) with return features."""
    frame = datasets.load_aapl() if path is None else datasets.load_stock_csv(path)
    return StockData(prices=datasets.add_return_features(frame))


def make_split(config: Config, data: StockData) -> datasets.StockSplits:
    """The chronological train / validation / test windows of ``config.setting``.

    ``x_*: (windows, config.window, features) float32``, ``y_*: (windows,) float32`` in percent.
    """
    frame = data.prices
    if config.report_bug:
        frame = frame.assign(high=frame["low"])
    rows, n_train, n_val = SETTINGS[config.setting]
    if rows is not None:  # the last `rows` target days and the `window` days before the first of them
        frame = frame.iloc[-(rows + config.window):]
    complete = int(frame[list(datasets.RETURN_FEATURES)].notna().all(axis=1).sum())  # the first day has no change
    total = complete - config.window  # windows whose target day is in the frame
    if n_train is None:
        n_train = int(0.7 * total)
        n_val = (total - n_train) // 2
    features = PRICE_FEATURES if config.features == "prices" else datasets.RETURN_FEATURES
    return datasets.split_windows(frame, features=features, window=config.window, n_train=n_train, n_val=n_val)


def build_model(config: Config, features: int):
    """The report's model: a recurrent stack whose states are pooled, then ``Dense(1)``.
    ``(batch, window, features) -> (batch, 1)``."""
    return models.build_many_to_one(config.window, features, 1, cell=config.cell, units=config.units,
                                    layers=config.layers, pooling=config.pooling)


def train(config: Config, seed: int, split: datasets.StockSplits) -> training.TrainResult:
    """Train on the training windows; early stopping keeps the best validation-loss epoch."""
    return training.train(
        lambda: build_model(config, len(split.features)), split.x_train, split.y_train, seed=seed, loss="mse",
        optimizer=config.optimizer, learning_rate=config.learning_rate,
        validation_data=(split.x_val, split.y_val), epochs=config.max_epochs, batch_size=config.batch_size,
        patience=config.patience,
    )


def predict(model, x: np.ndarray) -> np.ndarray:
    """``x: (windows, window, features)`` -> ``(windows,)`` forecasts in percent."""
    return np.asarray(model.predict(x, verbose=0, batch_size=1024))[:, 0]


def evaluate(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, direction accuracy (days with a move) and the spread of the forecasts.

    ``prediction_std / target_std`` near 0 means a near-constant forecaster: it calls the same
    direction every day, whatever the inputs.
    """
    accuracy, _, _ = metrics.direction_accuracy(y_true, y_pred)
    return {"mae": metrics.mae(y_true, y_pred), "rmse": metrics.rmse(y_true, y_pred), "direction": accuracy,
            "prediction_std": float(np.std(y_pred)), "target_std": float(np.std(y_true)),
            "share_up_calls": float(np.mean(y_pred > 0))}


def run(config: Config, seed: int, data: StockData) -> dict[str, Any]:
    """Grid entry point: train one configuration, score the **validation** span only."""
    split = make_split(config, data)
    result = train(config, seed, split)
    scores = evaluate(split.y_val, predict(result.model, split.x_val))
    return {**{f"val_{name}": value for name, value in scores.items()}, "epochs": result.epochs_run,
            "best_epoch": result.best_epoch, "history": result.history}


def replace(config: Config, **changes: Any) -> Config:
    """``dataclasses.replace`` (re-exported for notebooks)."""
    return dataclasses.replace(config, **changes)
