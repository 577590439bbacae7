"""Daily stock prices: CSV loading, sliding windows and a chronological, leak-free split.

Two CSV layouts are understood, detected from the header:

* Nasdaq.com's historical-data export: ``Date,Close/Last,Volume,Open,High,Low``, prices with a
  ``$`` prefix, dates ``MM/DD/YYYY``, newest row first (the shipped AAPL file);
* a plain OHLCV file (Yahoo-style): ``Date,Open,High,Low,Close[,Adj Close],Volume``, ISO dates.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.preprocessing import MinMaxScaler

from rnnkit.data.files import DataFormatError, dataset_path, open_text

__all__ = [
    "AAPL_FILE",
    "PRICE_COLUMNS",
    "RETURN_FEATURES",
    "StockSplits",
    "add_return_features",
    "load_aapl",
    "load_stock_csv",
    "make_windows",
    "split_windows",
]

AAPL_FILE = "aapl/AAPL_2013-07-23_2023-07-21.csv"
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")

_NASDAQ = {"date": "Date", "close": "Close/Last", "volume": "Volume", "open": "Open", "high": "High", "low": "Low"}
_PLAIN = {"date": "Date", "open": "Open", "high": "High", "low": "Low", "close": "Close", "volume": "Volume"}
_DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d")


def _parse_number(text: str, path: Path, lineno: int, column: str) -> float:
    cleaned = text.strip().replace("$", "").replace(",", "")
    if cleaned == "" or cleaned.lower() in {"nan", "null", "na", "n/a"}:
        raise DataFormatError(f"{path}, line {lineno}: column {column!r} is empty or NaN ({text!r})")
    try:
        value = float(cleaned)
    except ValueError:
        raise DataFormatError(
            f"{path}, line {lineno}: column {column!r} value {text!r} is not a number"
        ) from None
    if not np.isfinite(value):
        raise DataFormatError(f"{path}, line {lineno}: column {column!r} value {text!r} is not finite")
    return value


def _parse_date(text: str, path: Path, lineno: int) -> datetime:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    raise DataFormatError(
        f"{path}, line {lineno}: column 'Date' value {text!r} is not a date (expected MM/DD/YYYY or YYYY-MM-DD)"
    )


def load_stock_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Load daily prices from a Nasdaq export or a plain OHLCV CSV.

    Returns:
        A frame indexed by ascending ``date`` with float64 columns ``open, high, low, close,
        volume`` and ``p_change``: the percent change of ``close`` against the previous row
        (NaN on the first row, which has no previous day).

    Raises:
        FileNotFoundError: the file does not exist.
        DataFormatError: unknown header, unparsable number or date, empty/NaN field, duplicate
            date, or a row whose High is below its Open/Close/Low (or Low above Open/Close) — each
            message names the file and line.
    """
    path = Path(path)
    with open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise DataFormatError(f"{path}: file is empty, expected a CSV header")
        header = [name.strip() for name in header]
        columns = _NASDAQ if "Close/Last" in header else _PLAIN
        missing = [name for name in columns.values() if name not in header]
        if missing:
            raise DataFormatError(
                f"{path}, line 1: missing column(s) {missing}; found {header}. Expected a Nasdaq export "
                f"({','.join(_NASDAQ.values())}) or a plain OHLCV file ({','.join(_PLAIN.values())})"
            )
        position = {key: header.index(name) for key, name in columns.items()}
        rows: list[tuple] = []
        seen: dict[datetime, int] = {}
        for lineno, record in enumerate(reader, start=2):
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise DataFormatError(
                    f"{path}, line {lineno}: expected {len(header)} fields, got {len(record)}"
                )
            date = _parse_date(record[position["date"]], path, lineno)
            if date in seen:
                raise DataFormatError(
                    f"{path}, line {lineno}: duplicate date {date:%Y-%m-%d} (first seen on line {seen[date]})"
                )
            seen[date] = lineno
            values = {
                key: _parse_number(record[position[key]], path, lineno, columns[key])
                for key in PRICE_COLUMNS
            }
            if values["high"] < max(values["open"], values["close"], values["low"]):
                raise DataFormatError(
                    f"{path}, line {lineno}: High {values['high']} is below Open/Close/Low "
                    f"({values['open']}, {values['close']}, {values['low']})"
                )
            if values["low"] > min(values["open"], values["close"]):
                raise DataFormatError(
                    f"{path}, line {lineno}: Low {values['low']} is above Open/Close "
                    f"({values['open']}, {values['close']})"
                )
            rows.append((date, *(values[key] for key in PRICE_COLUMNS)))
    if not rows:
        raise DataFormatError(f"{path}: no data rows after the header")
    frame = pd.DataFrame(rows, columns=["date", *PRICE_COLUMNS]).set_index("date").sort_index()
    frame["p_change"] = frame["close"].pct_change() * 100.0
    return frame


def load_aapl(*, root: str | os.PathLike | None = None) -> pd.DataFrame:
    """The shipped AAPL daily prices, 2013-07-23 .. 2023-07-21 (2,517 rows), checksum-verified."""
    return load_stock_csv(dataset_path(AAPL_FILE, root=root))


#: Stationary inputs made from one day's prices relative to the previous close (all in percent), and
#: the day's change in log volume: their distribution does not drift with the price level.
RETURN_FEATURES = ("p_change", "open_gap", "high_return", "low_return", "log_volume_change")


def add_return_features(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus the :data:`RETURN_FEATURES` columns (NaN on the first row, which has no
    previous day). ``open_gap`` is ``open / previous close - 1`` in percent, likewise
    ``high_return`` and ``low_return``; ``log_volume_change`` is ``log(volume / previous volume)``.
    """
    previous_close = frame["close"].shift(1)
    return frame.assign(
        open_gap=(frame["open"] / previous_close - 1) * 100.0,
        high_return=(frame["high"] / previous_close - 1) * 100.0,
        low_return=(frame["low"] / previous_close - 1) * 100.0,
        log_volume_change=np.log(frame["volume"]).diff(),
    )


def make_windows(
    values: np.ndarray, targets: np.ndarray, *, window: int = 30, horizon: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Sliding windows over a time series.

    Args:
        values: ``(time, features)`` inputs.
        targets: ``(time,)`` quantity to predict.
        window: days per input window.
        horizon: predict ``targets`` this many days after a window's last day.

    Returns:
        ``x: (n, window, features) float32`` with ``x[i] = values[i : i + window]`` and
        ``y: (n,) float32`` with ``y[i] = targets[i + window - 1 + horizon]``,
        ``n = time - window - horizon + 1``.
    """
    values = np.asarray(values, dtype=np.float32)
    targets = np.asarray(targets, dtype=np.float32)
    if values.ndim != 2:
        raise ValueError(f"values must be (time, features), got shape {values.shape}")
    if targets.shape != (values.shape[0],):
        raise ValueError(f"targets must be (time,) = ({values.shape[0]},), got {targets.shape}")
    if window < 1 or horizon < 1:
        raise ValueError(f"window and horizon must be >= 1, got window={window}, horizon={horizon}")
    count = values.shape[0] - window - horizon + 1
    if count < 1:
        raise ValueError(f"series of length {values.shape[0]} is too short for window={window}, horizon={horizon}")
    for name, array in (("values", values), ("targets", targets)):
        bad = np.flatnonzero(~np.isfinite(array.reshape(array.shape[0], -1)).all(axis=1))
        if bad.size:
            raise ValueError(f"{name} has NaN/inf at time step(s) {bad[:5].tolist()}; drop those rows first")
    # x[i] = values[i : i + window]: a read-only view, copied once into a contiguous array
    x = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(values[:count + window - 1], window, axis=0)
                             .transpose(0, 2, 1))
    y = targets[window - 1 + horizon:][:count]
    return x, y


@dataclass
class StockSplits:
    """Chronological train / validation / test windows.

    ``x_*: (n, window, features) float32`` (scaled), ``y_*: (n,) float32`` (target in its own
    units), ``dates_*``: the date each target belongs to.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    dates_train: pd.DatetimeIndex
    dates_val: pd.DatetimeIndex
    dates_test: pd.DatetimeIndex
    features: tuple[str, ...]
    #: ``(n_test,)`` the target's value on each test window's last day (persistence baseline).
    last_target_test: np.ndarray = field(repr=False)
    scaler: MinMaxScaler = field(repr=False)


def split_windows(
    frame: pd.DataFrame,
    *,
    features: tuple[str, ...] = ("open", "high", "low", "close", "volume", "p_change"),
    target: str = "p_change",
    window: int = 30,
    horizon: int = 1,
    n_train: int,
    n_val: int,
    n_test: int | None = None,
) -> StockSplits:
    """Cut ``frame`` into windows and split them by target date, with no overlap of targets.

    The first ``n_train`` windows (by target date) train, the next ``n_val`` validate, the next
    ``n_test`` (default: all the rest) test. The scaler is fit on the feature rows that the
    training windows see and nothing later, so no information from the validation or test span
    leaks into training. Leading rows with NaN (the first day's ``p_change``) are dropped.
    """
    missing = [name for name in (*features, target) if name not in frame.columns]
    if missing:
        raise ValueError(f"frame has no column(s) {missing}; columns are {list(frame.columns)}")
    used = frame[list(dict.fromkeys((*features, target)))]
    first_complete = int(np.argmax(used.notna().all(axis=1).to_numpy()))
    used = used.iloc[first_complete:]
    x_raw, y = make_windows(used[list(features)].to_numpy(), used[target].to_numpy(), window=window, horizon=horizon)
    total = len(y)
    n_test = total - n_train - n_val if n_test is None else n_test
    if min(n_train, n_val, n_test) < 1 or n_train + n_val + n_test > total:
        raise ValueError(
            f"cannot split {total} windows into train={n_train}, val={n_val}, test={n_test}"
        )
    scaler = MinMaxScaler().fit(used[list(features)].to_numpy()[: n_train + window - 1])
    x = scaler.transform(x_raw.reshape(-1, len(features))).reshape(x_raw.shape).astype(np.float32)
    target_dates = used.index[window - 1 + horizon :][:total]
    last_values = used[target].to_numpy(dtype=np.float32)[window - 1 : window - 1 + total]
    a, b, c = n_train, n_train + n_val, n_train + n_val + n_test
    return StockSplits(
        x_train=x[:a], y_train=y[:a], x_val=x[a:b], y_val=y[a:b], x_test=x[b:c], y_test=y[b:c],
        dates_train=target_dates[:a], dates_val=target_dates[a:b], dates_test=target_dates[b:c],
        features=tuple(features), last_target_test=last_values[b:c], scaler=scaler,
    )
