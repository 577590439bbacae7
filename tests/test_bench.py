"""bench/bench_rnn.py and bench/profile_step.py: FLOP counts, the models each case builds, smoke
runs of every path (one process, --jobs 2). No timing is asserted: timings belong in bench/."""

import importlib.util
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

BENCH_DIR = Path(__file__).resolve().parent.parent / "bench"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses (and spawned processes) look their module up there
    spec.loader.exec_module(module)
    return module


bench_rnn = _load("bench_rnn")
profile_step = _load("profile_step")
CASES = {case.name: case for case in bench_rnn.CASES}


def _torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


def test_flops_per_sequence():
    # LSTM, 1 layer: 3 x T x 4 gates x 2 x (input + units) x units
    case = bench_rnn.Case("x", "classify", "lstm", 64, 200, 64, embedding=64)
    assert case.flops_per_sequence() == 3 * 200 * 4 * 2 * (64 + 64) * 64
    two = bench_rnn.Case("x", "classify", "gru", 8, 10, 4, layers=2, bidirectional=True, embedding=5)
    assert two.flops_per_sequence() == 3 * (2 * 10 * 3 * 2 * (5 + 8) * 8 + 2 * 10 * 3 * 2 * (16 + 8) * 8)


def test_flops_of_the_new_cases():
    lm = CASES["shakespeare-gru296"]  # GRU 296 on embedding 32, T=32; head: Dense(296 -> 65) per step
    assert lm.flops_per_sequence() == 3 * 32 * 3 * 2 * (32 + 296) * 296
    assert lm.head_flops_per_sequence() == 3 * 2 * 32 * 296 * 65
    s2s = CASES["lemma-seq2seq-dot"]
    # encoder: 2 directions x 32 steps x 4 gates x 2 x (32 + 64) x 64; decoder LSTM 128 on embedding 32
    encoder, decoder = 2 * 32 * 4 * 2 * (32 + 64) * 64, 32 * 4 * 2 * (32 + 128) * 128
    assert s2s.flops_per_sequence() == 3 * (encoder + decoder)
    # dot scores and context (T x S x 128 each), tanh layer 256 -> 128, logits 128 -> 129, per target step
    assert s2s.head_flops_per_sequence() == 3 * (2 * 2 * 32 * 32 * 128 + 2 * 32 * 256 * 128 + 2 * 32 * 128 * 129)


def test_cases_the_builders_cannot_honour_are_refused():
    with pytest.raises(ValueError, match="always masks"):
        bench_rnn.Case("x", "tag", "lstm", 8, 12, 4)
    with pytest.raises(ValueError, match="no padding"):
        bench_rnn.Case("x", "lm", "gru", 8, 12, 4, masked=True)
    with pytest.raises(ValueError, match="task"):
        bench_rnn.Case("x", "translate", "lstm", 8, 12, 4)


def test_masked_data_has_padding_after_the_lengths():
    case = bench_rnn.Case("x", "tag", "lstm", 8, 12, 4, masked=True, vocab=30)
    x, y, lengths = bench_rnn.make_data(case, 50)
    assert x.shape == y.shape == (50, 12)
    for row, length in zip(x, lengths, strict=True):
        assert (row[:length] > 0).all() and (row[length:] == 0).all()


def test_seq2seq_data_is_teacher_forced():
    case = replace(CASES["lemma-seq2seq-dot"], steps=10)
    (source, decoder_input), target, lengths = bench_rnn.make_data(case, 40)
    assert source.shape == decoder_input.shape == target.shape == (40, 10)
    assert (decoder_input[:, 0] == bench_rnn.START_ID).all()
    for row in range(40):
        assert (source[row, : lengths[row]] > 0).all() and (source[row, lengths[row]:] == 0).all()
        n = int((target[row] > 0).sum())  # the lemma's characters, then the end token, then padding
        assert target[row, n - 1] == bench_rnn.END_ID and (target[row, n:] == 0).all()
        assert (decoder_input[row, 1:n] == target[row, : n - 1]).all() and (decoder_input[row, n:] == 0).all()


def test_single_thread_flag_is_the_notebooks():
    from rnnkit.experiments import SINGLE_THREAD_XLA_FLAG

    assert bench_rnn.SINGLE_THREAD_XLA_FLAG == SINGLE_THREAD_XLA_FLAG


@pytest.mark.parametrize("name", ["imdb-lstm64", "imdb-bilstm64-masked"])
def test_keras_model_is_masked_exactly_when_the_case_is(name):
    case = replace(CASES[name], vocab=50)
    model, _ = bench_rnn.build_keras_model(case)
    embedding = model.get_layer("embedding")
    assert embedding.mask_zero is case.masked
    mask = embedding.compute_mask(np.array([[3, 4, 0, 0]], dtype=np.int32))
    if case.masked:
        assert np.asarray(mask).tolist() == [[True, True, False, False]]
    else:
        assert mask is None


def _one_keras_step(case):
    import keras

    model, loss = bench_rnn.build_keras_model(case)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    x, y, _ = bench_rnn.make_data(case, case.batch)
    return model, float(model.train_on_batch(list(x) if isinstance(x, tuple) else x, y))


# LSTM layers: PyTorch keeps two bias vectors (b_ih, b_hh), Keras one; GRU (reset_after) two in both
EXTRA_TORCH_BIASES = {"shakespeare-gru296": 0, "lemma-seq2seq-dot": 2 * 4 * 64 + 4 * 128}


@pytest.mark.parametrize("name", ["shakespeare-gru296", "lemma-seq2seq-dot"])
def test_new_cases_train_one_step_in_both_frameworks(name):
    case = replace(CASES[name], batch=4, steps=8)
    model, loss = _one_keras_step(case)
    assert math.isfinite(loss) and tuple(model.output_shape) == (None, None, case.vocab)
    if case.task == "seq2seq":
        assert model.get_layer("source_embedding").mask_zero and model.get_layer("attention") is not None
    torch = _torch_or_none()
    if torch is None:
        pytest.skip("PyTorch is not installed (make bench installs it): Keras half checked")
    torch_model, loss_fn = bench_rnn.build_torch_model(case)
    ((xb, lengths, yb),) = bench_rnn.torch_batches(case, 1)
    torch_out = torch_model(xb, lengths)
    assert tuple(torch_out.shape) == (4, 8, case.vocab)
    torch_loss = loss_fn(torch_out, yb)
    torch_loss.backward()
    assert math.isfinite(float(torch_loss.detach()))
    # the twins have the same layers and sizes: the parameter counts differ only by PyTorch's 2nd bias
    torch_params = sum(p.numel() for p in torch_model.parameters())
    assert torch_params - model.count_params() == EXTRA_TORCH_BIASES[name]


def test_smoke_run_writes_results(tmp_path):
    out = tmp_path / "bench.json"
    torch = _torch_or_none()
    frameworks = "keras,torch" if torch is not None else "keras"
    assert bench_rnn.main(["--frameworks", frameworks, "--cases", "stock-lstm32", "--runs", "1", "--steps", "2",
                           "--batch", "8", "--peak-size", "256", "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    (case,) = result["cases"]
    assert case["name"] == "stock-lstm32" and case["keras_seq_s"] > 0 and len(case["keras_runs"]) == 1
    assert case["batch"] == 8  # --batch overrides the case's batch size
    assert result["peak_gflops"] > 0 and result["jobs"] == 1
    assert result["skip"] == 1  # --skip 3 needs more than 2 steps: one batch untimed
    if torch is None:
        assert result["torch"] is None
        return
    assert case["torch_seq_s"] > 0 and case["torch_threads"] == len(bench_rnn.available_cores())
    # which PyTorch build ran: version, CUDA (None: CPU-only wheel), oneDNN, threads
    assert result["torch"]["version"] == torch.__version__ and result["torch"]["cuda"] == torch.version.cuda
    assert result["torch"]["cpu_only_build"] is (torch.version.cuda is None)
    assert result["torch"]["mkldnn"] is torch.backends.mkldnn.is_available()


def test_jobs_runs_pinned_processes_and_sums_their_rates(tmp_path):
    out = tmp_path / "bench.json"
    torch = _torch_or_none()
    frameworks = "keras,torch" if torch is not None else "keras"
    assert bench_rnn.main(["--frameworks", frameworks, "--cases", "stock-lstm32", "--jobs", "2", "--runs", "1",
                           "--steps", "3", "--batch", "4", "--peak-size", "256", "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    (case,) = result["cases"]
    assert result["jobs"] == 2
    processes = case["keras_processes"]
    assert len(processes) == 2 and all(len(p["runs"]) == 1 and p["runs"][0] > 0 for p in processes)
    assert case["keras_runs"] == [pytest.approx(sum(p["runs"][0] for p in processes))]
    assert case["keras_seq_s"] == pytest.approx(case["keras_runs"][0])
    for p in processes:  # single-threaded XLA set before the process imported JAX
        assert bench_rnn.SINGLE_THREAD_XLA_FLAG in p["xla_flags"] and not p["jax_imported_before_flags"]
    if len(bench_rnn.available_cores()) >= 2:
        assert len({p["core"] for p in processes}) == 2  # one core each
    if torch is None:
        return
    assert len(case["torch_processes"]) == 2 and case["torch_threads"] == 2
    assert case["torch_processes_runs"] == [pytest.approx(sum(p["runs"][0] for p in case["torch_processes"]))]
    best = max(case["torch_threads_seq_s"], case["torch_processes_seq_s"])
    assert case["torch_seq_s"] == best
    assert case["torch_best"] == ("threads" if case["torch_threads_seq_s"] >= case["torch_processes_seq_s"]
                                  else "processes")


def test_torch_build_info():
    torch = pytest.importorskip("torch")
    info = bench_rnn.torch_build_info()
    assert info["version"] == torch.__version__ and info["cuda"] == torch.version.cuda
    assert info["cpu_only_build"] is (torch.version.cuda is None)
    assert info["mkldnn"] is torch.backends.mkldnn.is_available()
    assert info["threads"] == torch.get_num_threads() >= 1 and info["interop_threads"] >= 1
    json.dumps(info)  # goes into results.json as it is


def test_profile_step_quick_prints_its_table(capsys):
    assert profile_step.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "cost_analysis" in out and "| what | ms | share of the step |" in out
    for what in ("full LSTM train step", "h U only", "x_t W + h U", "empty body"):
        assert what in out
    assert "loop overhead" in out


def test_unknown_case_is_an_error():
    with pytest.raises(SystemExit):
        bench_rnn.main(["--frameworks", "keras", "--cases", "nope"])
