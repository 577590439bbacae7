"""Steady-state training throughput of rnnkit's models (Keras 3 on JAX) vs the same models in
PyTorch, on the CPU, at the shapes the notebooks train.

    make bench                                  # installs torch==2.13.0 (CPU) first, then runs this
    python bench/bench_rnn.py --runs 5 --steps 30
    python bench/bench_rnn.py --frameworks keras --cases imdb-lstm64
    python bench/bench_rnn.py --frameworks keras --cases imdb-lstm64 --batch 128    # a lever
    python bench/bench_rnn.py --frameworks keras --cases imdb-lstm64 --devices 2    # DataParallel

Each case trains ``steps`` batches per run after a warm-up run (compilation excluded), ``runs``
times; the median is reported in sequences per second, with the achieved GFLOP/s of the recurrent
layers (3 x the forward multiply-adds, a standard estimate for training) and its share of the
best float32 matrix-multiply rate measured on this machine (the practical peak).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402

GATES = {"simple_rnn": 1, "gru": 3, "lstm": 4}


@dataclass(frozen=True)
class Case:
    name: str
    task: str  # "classify" (IMDB), "tag" (POS), "regress" (stock)
    cell: str
    units: int
    steps: int  # time steps T
    batch: int
    layers: int = 1
    bidirectional: bool = False
    masked: bool = False  # padded inputs (lengths T/4..T) with a mask
    vocab: int = 20_000
    embedding: int = 64
    features: int = 6  # regress only
    tags: int = 17  # tag only

    def flops_per_sequence(self) -> float:
        """Training FLOPs of the recurrent layers for one sequence (3 x forward multiply-adds x 2)."""
        directions = 2 if self.bidirectional else 1
        total, width = 0.0, (self.features if self.task == "regress" else self.embedding)
        for _ in range(self.layers):
            total += directions * self.steps * GATES[self.cell] * 2 * (width + self.units) * self.units
            width = self.units * directions
        return 3 * total


CASES = [
    Case("imdb-simple_rnn64", "classify", "simple_rnn", 64, 200, 64),
    Case("imdb-lstm64", "classify", "lstm", 64, 200, 64),
    Case("imdb-gru64", "classify", "gru", 64, 200, 64),
    Case("imdb-lstm64x2", "classify", "lstm", 64, 200, 64, layers=2),
    Case("imdb-bilstm64", "classify", "lstm", 64, 200, 64, bidirectional=True),
    Case("imdb-lstm128", "classify", "lstm", 128, 200, 64),
    Case("imdb-bilstm128", "classify", "lstm", 128, 200, 64, bidirectional=True),
    Case("imdb-lstm64-masked", "classify", "lstm", 64, 200, 64, masked=True),
    Case("imdb-bilstm64-masked", "classify", "lstm", 64, 200, 64, bidirectional=True, masked=True),
    Case("pos-bilstm128-masked", "tag", "lstm", 128, 40, 32, bidirectional=True, masked=True, embedding=50),
    Case("stock-lstm32", "regress", "lstm", 32, 30, 32),
]


def make_data(case: Case, count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    if case.task == "regress":
        x = rng.random((count, case.steps, case.features), dtype=np.float32)
        return x, rng.normal(size=(count, 1)).astype(np.float32), np.full(count, case.steps)
    lengths = rng.integers(case.steps // 4, case.steps + 1, size=count) if case.masked else np.full(count, case.steps)
    x = rng.integers(1, case.vocab, size=(count, case.steps)).astype(np.int32)
    x[np.arange(case.steps)[None, :] >= lengths[:, None]] = 0
    if case.task == "tag":
        y = rng.integers(0, case.tags, size=(count, case.steps)).astype(np.int32)
    else:
        y = rng.integers(0, 2, size=(count, 1)).astype(np.float32)
    return x, y, lengths


# --------------------------------------------------------------------------------------- Keras
def keras_throughput(case: Case, steps: int, runs: int, *, data_parallel: bool = False) -> list[float]:
    import contextlib

    import jax
    import keras

    from rnnkit import training

    training.seed_everything(0)
    scope = (keras.distribution.DataParallel(devices=jax.devices()).scope() if data_parallel
             else contextlib.nullcontext())
    with scope:
        return _keras_fit_rates(case, steps, runs)


def _keras_fit_rates(case: Case, steps: int, runs: int) -> list[float]:
    import keras

    from rnnkit import models

    options = dict(cell=case.cell, units=case.units, layers=case.layers, bidirectional=case.bidirectional)
    if case.task == "classify":
        model = models.build_text_classifier(case.vocab, embedding_dim=case.embedding, pooling="mean", **options)
        loss = "binary_crossentropy"
    elif case.task == "tag":
        model = models.build_tagger(case.vocab, case.tags, embedding_dim=case.embedding, **options)
        loss = "sparse_categorical_crossentropy"
    else:
        model = models.build_many_to_one(case.steps, case.features, 1, pooling="mean", **options)
        loss = "mse"
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    x, y, _ = make_data(case, case.batch * steps)
    model.fit(x, y, batch_size=case.batch, epochs=1, verbose=0, shuffle=False)  # compile + warm-up
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        model.fit(x, y, batch_size=case.batch, epochs=1, verbose=0, shuffle=False)
        rates.append(len(x) / (time.perf_counter() - start))
    return rates


# ------------------------------------------------------------------------------------- PyTorch
def torch_throughput(case: Case, steps: int, runs: int) -> list[float]:
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    recurrent_class = {"simple_rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[case.cell]

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            width = case.features if case.task == "regress" else case.embedding
            self.embedding = None if case.task == "regress" else nn.Embedding(case.vocab, case.embedding, padding_idx=0)
            self.recurrent = recurrent_class(width, case.units, num_layers=case.layers, batch_first=True,
                                             bidirectional=case.bidirectional)
            out_width = case.units * (2 if case.bidirectional else 1)
            self.head = nn.Linear(out_width, case.tags if case.task == "tag" else 1)

        def forward(self, x, lengths):
            h = x if self.embedding is None else self.embedding(x)
            if case.masked:
                packed = pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
                states, _ = pad_packed_sequence(self.recurrent(packed)[0], batch_first=True, total_length=case.steps)
            else:
                states, _ = self.recurrent(h)
            if case.task == "tag":
                return self.head(states)
            mask = (torch.arange(case.steps)[None, :] < lengths[:, None]).float().unsqueeze(-1)
            return self.head((states * mask).sum(1) / mask.sum(1))

    model = Model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x_np, y_np, lengths_np = make_data(case, case.batch * steps)
    x = torch.from_numpy(x_np if case.task == "regress" else x_np.astype(np.int64))
    y = torch.from_numpy(y_np.astype(np.int64) if case.task == "tag" else y_np)
    lengths = torch.from_numpy(lengths_np.astype(np.int64))
    if case.task == "tag":
        loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
        y = torch.where(torch.arange(case.steps)[None, :] < lengths[:, None], y, torch.full_like(y, -100))
    elif case.task == "classify":
        loss_fn = nn.BCEWithLogitsLoss()
    else:
        loss_fn = nn.MSELoss()

    def epoch():
        for start in range(0, len(x), case.batch):
            xb, yb, lb = x[start:start + case.batch], y[start:start + case.batch], lengths[start:start + case.batch]
            optimizer.zero_grad()
            out = model(xb, lb)
            loss = loss_fn(out.reshape(-1, case.tags), yb.reshape(-1)) if case.task == "tag" else loss_fn(out, yb)
            loss.backward()
            optimizer.step()

    epoch()  # warm-up
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        epoch()
        rates.append(len(x) / (time.perf_counter() - start))
    return rates


def matmul_peak_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Best float32 matmul rate (JAX/XLA) on this machine: the practical peak."""
    import jax
    import jax.numpy as jnp

    a = jnp.ones((size, size), jnp.float32)
    f = jax.jit(lambda m: m @ m)
    f(a).block_until_ready()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        f(a).block_until_ready()
        best = max(best, 2 * size**3 / (time.perf_counter() - start) / 1e9)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case (median reported)")
    parser.add_argument("--steps", type=int, default=20, help="batches per timed run")
    parser.add_argument("--frameworks", default="keras,torch")
    parser.add_argument("--cases", default="all", help="comma-separated case names, or 'all'")
    parser.add_argument("--output", type=Path, default=Path("build/bench/results.json"))
    parser.add_argument("--batch", type=int, default=None, help="override every case's batch size")
    parser.add_argument("--devices", type=int, default=1,
                        help="Keras: split each batch over N XLA host devices with keras.distribution.DataParallel")
    args = parser.parse_args(argv)
    if args.devices > 1:  # must happen before JAX initialises its backend
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   f" --xla_force_host_platform_device_count={args.devices}").strip()
    frameworks = args.frameworks.split(",")
    unknown = set(frameworks) - {"keras", "torch"}
    if unknown:
        parser.error(f"unknown framework(s) {sorted(unknown)}")
    cases = CASES if args.cases == "all" else [c for c in CASES if c.name in args.cases.split(",")]
    if not cases:
        parser.error(f"no case matches {args.cases!r}; cases: {[c.name for c in CASES]}")
    if args.batch is not None:
        cases = [replace(case, batch=args.batch) for case in cases]
    if "torch" in frameworks:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: run `make bench` (installs bench/requirements.txt) "
                  "or pass --frameworks keras", file=sys.stderr)
            return 2
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    import jax
    import keras

    print(f"keras {keras.__version__} on jax {jax.__version__}; {os.cpu_count()} cores; "
          f"{platform.processor() or platform.machine()}; {len(jax.devices())} JAX device(s)")
    peak = matmul_peak_gflops()
    print(f"practical fp32 peak (2048x2048 matmul, XLA): {peak:.1f} GFLOP/s\n")
    rows = []
    for case in cases:
        row = {**asdict(case), "gflop_per_seq": case.flops_per_sequence() / 1e9}
        for framework in frameworks:
            if framework == "keras":
                rates = keras_throughput(case, args.steps, args.runs, data_parallel=args.devices > 1)
            else:
                rates = torch_throughput(case, args.steps, args.runs)
            row[f"{framework}_seq_s"] = statistics.median(rates)
            row[f"{framework}_runs"] = rates
            print(f"  {case.name:24s} {framework:6s} {statistics.median(rates):8.1f} seq/s "
                  f"(runs: {', '.join(f'{r:.0f}' for r in rates)})", flush=True)
        rows.append(row)
    print("\n| case | Keras-JAX seq/s | PyTorch seq/s | ratio | Keras GFLOP/s | % of peak |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        keras_rate, torch_rate = row.get("keras_seq_s"), row.get("torch_seq_s")
        ratio = f"{keras_rate / torch_rate:.2f}" if keras_rate and torch_rate else "—"
        gflops = keras_rate * row["gflop_per_seq"] if keras_rate else float("nan")
        print(f"| {row['name']} | {keras_rate or float('nan'):.0f} | {torch_rate or float('nan'):.0f} | {ratio} | "
              f"{gflops:.1f} | {100 * gflops / peak:.0f}% |")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"peak_gflops": peak, "runs": args.runs, "steps": args.steps, "cases": rows},
                                      indent=1) + "\n")
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
