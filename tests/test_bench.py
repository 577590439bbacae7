"""bench/bench_rnn.py: the FLOP count and a one-case smoke run (no timing is asserted)."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_rnn.py"
spec = importlib.util.spec_from_file_location("bench_rnn", BENCH)
bench_rnn = importlib.util.module_from_spec(spec)
sys.modules["bench_rnn"] = bench_rnn  # dataclasses look their module up there
spec.loader.exec_module(bench_rnn)


def test_flops_per_sequence():
    # LSTM, 1 layer: 3 x T x 4 gates x 2 x (input + units) x units
    case = bench_rnn.Case("x", "classify", "lstm", 64, 200, 64, embedding=64)
    assert case.flops_per_sequence() == 3 * 200 * 4 * 2 * (64 + 64) * 64
    two = bench_rnn.Case("x", "classify", "gru", 8, 10, 4, layers=2, bidirectional=True, embedding=5)
    assert two.flops_per_sequence() == 3 * (2 * 10 * 3 * 2 * (5 + 8) * 8 + 2 * 10 * 3 * 2 * (16 + 8) * 8)


def test_masked_data_has_padding_after_the_lengths():
    case = bench_rnn.Case("x", "tag", "lstm", 8, 12, 4, masked=True, vocab=30)
    x, y, lengths = bench_rnn.make_data(case, 50)
    assert x.shape == y.shape == (50, 12)
    for row, length in zip(x, lengths, strict=True):
        assert (row[:length] > 0).all() and (row[length:] == 0).all()


def test_keras_smoke_run_writes_results(tmp_path):
    out = tmp_path / "bench.json"
    assert bench_rnn.main(["--frameworks", "keras", "--cases", "stock-lstm32", "--runs", "1", "--steps", "2",
                           "--batch", "8", "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    (case,) = result["cases"]
    assert case["name"] == "stock-lstm32" and case["keras_seq_s"] > 0 and len(case["keras_runs"]) == 1
    assert case["batch"] == 8  # --batch overrides the case's batch size
    assert result["peak_gflops"] > 0


def test_unknown_case_is_an_error():
    with pytest.raises(SystemExit):
        bench_rnn.main(["--frameworks", "keras", "--cases", "nope"])
