import numpy as np
import pandas as pd
import pytest

from rnnkit.data import (
    RETURN_FEATURES,
    DataFormatError,
    add_return_features,
    load_aapl,
    load_stock_csv,
    make_windows,
    split_windows,
)

NASDAQ_HEADER = "Date,Close/Last,Volume,Open,High,Low\n"
GOOD_ROWS = [
    "01/05/2024,$11.00,300,$10.50,$11.20,$10.40\n",
    "01/04/2024,$10.00,200,$10.20,$10.30,$9.90\n",
    "01/03/2024,$10.50,100,$10.00,$10.60,$9.95\n",
]


def write(tmp_path, text, name="prices.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_aapl_counts_and_dates():
    frame = load_aapl()
    assert len(frame) == 2517
    assert frame.index[0] == pd.Timestamp("2013-07-23")
    assert frame.index[-1] == pd.Timestamp("2023-07-21")
    assert frame.index.is_monotonic_increasing
    assert list(frame.columns) == ["open", "high", "low", "close", "volume", "p_change"]
    assert frame.loc["2023-07-21", "close"] == pytest.approx(191.94)
    assert frame.loc["2023-07-21", "high"] == pytest.approx(194.97)
    assert frame.loc["2023-07-21", "low"] == pytest.approx(191.23)
    expected = (191.94 / 193.13 - 1) * 100
    assert frame.loc["2023-07-21", "p_change"] == pytest.approx(expected)
    assert np.isnan(frame["p_change"].iloc[0]) and frame["p_change"].iloc[1:].notna().all()


def test_nasdaq_export_is_sorted_ascending_with_p_change(tmp_path):
    frame = load_stock_csv(write(tmp_path, NASDAQ_HEADER + "".join(GOOD_ROWS)))
    assert list(frame.index.strftime("%Y-%m-%d")) == ["2024-01-03", "2024-01-04", "2024-01-05"]
    np.testing.assert_allclose(frame["close"], [10.5, 10.0, 11.0])
    np.testing.assert_allclose(frame["p_change"].iloc[1:], [(10 / 10.5 - 1) * 100, 10.0])
    assert frame["volume"].dtype == np.float64


def test_plain_ohlcv_with_adj_close(tmp_path):
    text = (
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-01-03,10.0,10.6,9.95,10.5,10.4,100\n"
        "2024-01-04,10.2,10.3,9.9,10.0,9.9,200\n"
    )
    frame = load_stock_csv(write(tmp_path, text))
    assert frame.loc["2024-01-04", "close"] == 10.0  # Close, not Adj Close
    assert frame.loc["2024-01-04", "volume"] == 200.0
    assert frame["p_change"].iloc[1] == pytest.approx((10 / 10.5 - 1) * 100)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Date,Close/Last,Volume,Open,Hi,Low\n" + GOOD_ROWS[0], r"line 1: missing column\(s\) \['High'\]"),
        (NASDAQ_HEADER + GOOD_ROWS[0] + "01/04/2024,$10.00,abc,$10.20,$10.30,$9.90\n", r"line 3: column 'Volume' value 'abc' is not a number"),
        (NASDAQ_HEADER + "2024/13/45,$10.00,200,$10.20,$10.30,$9.90\n", r"line 2: column 'Date' value '2024/13/45' is not a date"),
        (NASDAQ_HEADER + GOOD_ROWS[0] + GOOD_ROWS[0], r"line 3: duplicate date 2024-01-05 \(first seen on line 2\)"),
        (NASDAQ_HEADER + GOOD_ROWS[0] + "01/04/2024,,200,$10.20,$10.30,$9.90\n", r"line 3: column 'Close/Last' is empty or NaN"),
        (NASDAQ_HEADER + "01/04/2024,NaN,200,$10.20,$10.30,$9.90\n", r"line 2: column 'Close/Last' is empty or NaN"),
        (NASDAQ_HEADER + "01/04/2024,$10.00,200,$10.20,$10.10,$9.90\n", r"line 2: High 10.1 is below Open/Close/Low"),
        (NASDAQ_HEADER + "01/04/2024,$10.00,200,$10.20,$10.30,$10.10\n", r"line 2: Low 10.1 is above Open/Close"),
        (NASDAQ_HEADER + "01/04/2024,$10.00,200\n", r"line 2: expected 6 fields, got 3"),
        (NASDAQ_HEADER, r"no data rows"),
    ],
)
def test_bad_stock_files_name_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(DataFormatError, match=message) as info:
        load_stock_csv(path)
    assert str(path) in str(info.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_stock_csv(tmp_path / "nope.csv")


def test_make_windows_shapes_and_alignment():
    values = np.arange(20, dtype=np.float32).reshape(10, 2)
    targets = np.arange(10, dtype=np.float32) * 10
    x, y = make_windows(values, targets, window=3, horizon=1)
    assert x.shape == (7, 3, 2) and y.shape == (7,)
    np.testing.assert_array_equal(x[0], values[0:3])
    np.testing.assert_array_equal(x[-1], values[6:9])
    np.testing.assert_array_equal(y, targets[3:10])
    x2, y2 = make_windows(values, targets, window=3, horizon=2)
    assert len(y2) == 6 and y2[0] == targets[4]


def test_make_windows_rejects_nan_and_short_series():
    values = np.ones((5, 1))
    values[2, 0] = np.nan
    with pytest.raises(ValueError, match=r"NaN/inf at time step\(s\) \[2\]"):
        make_windows(values, np.ones(5), window=2)
    with pytest.raises(ValueError, match="too short"):
        make_windows(np.ones((3, 1)), np.ones(3), window=3)


def test_split_windows_is_chronological_and_scaler_sees_train_only():
    frame = load_aapl().iloc[-253:]
    splits = split_windows(frame, window=30, n_train=150, n_val=30)
    assert splits.x_train.shape == (150, 30, 6)
    total = len(frame) - 30  # horizon 1; p_change of this slice is complete
    assert len(splits.y_train) + len(splits.y_val) + len(splits.y_test) == total
    assert splits.dates_train[-1] < splits.dates_val[0] <= splits.dates_val[-1] < splits.dates_test[0]
    # train inputs span rows [0, n_train + window - 1): scaled to [0, 1] exactly
    assert splits.x_train.min() == pytest.approx(0.0, abs=1e-6) and splits.x_train.max() == pytest.approx(1.0)
    # the test span's prices exceed the training range: scaled above 1 (no refit on test)
    assert splits.x_test[..., 3].max() > 1.0
    # targets are raw percent changes on their dates
    assert splits.y_test[0] == pytest.approx(frame.loc[splits.dates_test[0], "p_change"], rel=1e-5)
    # persistence input: the change on the last day of each window = previous target
    np.testing.assert_allclose(splits.last_target_test[1:], splits.y_test[:-1])
    with pytest.raises(ValueError, match="cannot split"):
        split_windows(frame, n_train=200, n_val=100)


def test_split_windows_drops_the_leading_nan_row():
    frame = load_aapl()
    splits = split_windows(frame, window=30, n_train=2000, n_val=200)
    assert len(splits.y_test) == 2517 - 1 - 30 - 2000 - 200
    assert np.isfinite(splits.x_train).all()
    assert splits.dates_test[-1] == pd.Timestamp("2023-07-21")


def test_return_features_are_relative_to_the_previous_close():
    frame = add_return_features(load_aapl())
    day, previous = frame.iloc[10], frame.iloc[9]
    assert day["open_gap"] == pytest.approx((day["open"] / previous["close"] - 1) * 100)
    assert day["high_return"] == pytest.approx((day["high"] / previous["close"] - 1) * 100)
    assert day["low_return"] == pytest.approx((day["low"] / previous["close"] - 1) * 100)
    assert day["log_volume_change"] == pytest.approx(np.log(day["volume"] / previous["volume"]))
    assert frame[list(RETURN_FEATURES)].iloc[0].isna().all() and frame[list(RETURN_FEATURES)].iloc[1:].notna().all().all()
    # stationary: the level of the price does not leak in (the 2013 and 2023 halves have similar spreads)
    early, late = frame["high_return"].iloc[1:1200], frame["high_return"].iloc[1300:]
    assert 0.5 < late.std() / early.std() < 2
    assert frame["close"].iloc[1300:].mean() / frame["close"].iloc[1:1200].mean() > 3


def test_make_windows_equals_an_explicit_loop():
    rng = np.random.default_rng(0)
    values, targets = rng.normal(size=(20, 3)), rng.normal(size=20)
    x, y = make_windows(values, targets, window=4, horizon=2)
    for i in range(len(y)):
        np.testing.assert_array_equal(x[i], values[i:i + 4].astype(np.float32))
        assert y[i] == np.float32(targets[i + 4 - 1 + 2])
    assert x.flags["C_CONTIGUOUS"] and x.flags["WRITEABLE"]
