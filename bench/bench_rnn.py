"""Steady-state training throughput of rnnkit's models (Keras 3 on JAX) vs the same models in
PyTorch, on the CPU, at the shapes the notebooks train.

    make bench                                  # installs torch==2.13.0 first, then runs this
    python bench/bench_rnn.py --runs 5 --steps 30
    python bench/bench_rnn.py --jobs 2                                              # grid throughput
    python bench/bench_rnn.py --frameworks keras --cases imdb-lstm64
    python bench/bench_rnn.py --frameworks keras --cases imdb-lstm64 --batch 128    # a lever
    python bench/bench_rnn.py --frameworks keras --cases imdb-lstm64 --devices 2    # DataParallel

How a case is timed, the same way in both frameworks: one warm-up epoch of ``steps`` batches
(for Keras: the ``fit`` that compiles the train step), then ``runs`` timed epochs of the same
``steps`` batches. In each timed epoch the first ``skip`` batches run untimed (Keras: ``fit``'s
per-epoch set-up, the data adapter, the first dispatch); the clock starts at the beginning of batch
``skip``, once every earlier step has finished, and stops at the end of the epoch, once the last
update has finished (JAX dispatches asynchronously: the timer blocks on the trainer's state before
starting and on the trained variables and the epoch's loss before stopping; PyTorch on the CPU
runs synchronously). The rate of a run is ``(steps - skip) * batch / elapsed`` sequences per
second; the median over the runs is reported.

``--jobs 1`` (default): one process using every core (XLA's and PyTorch's own threads).
``--jobs N``: grid throughput, the way the notebooks train their grids (``rnnkit.experiments``:
one worker process per core, each pinned to its core, XLA on one thread). N copies of each case
run at once in N spawned processes, process k pinned to core k with ``os.sched_setaffinity``
and single-threaded XLA (``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false``), both set before the
process imports JAX; a barrier before each timed epoch makes them time the same interval, and the
reported rate is the sum of theirs. PyTorch is measured both ways, (a) one process with N threads
and (b) N single-thread processes pinned one per core; the ratio column compares Keras with the
better of the two.

GFLOP/s counts the multiply-adds of the recurrent layers (training = 3 x forward), its share is of
the best float32 matrix-multiply rate XLA reaches on this machine with every core (the practical
peak). ``gflop_per_seq_all`` in results.json adds the dense heads and the attention.

Cases: IMDB (T=200, batch 64), POS (T=40, batch 32), stock (T=30, batch 32) as before;
``shakespeare-gru296`` is notebook 05's character language model (embedding 32, 65 characters,
GRU 296, a softmax over 65 characters at every step, T=32, batch 32), run *stateless* here (the
notebook trains it stateful: same arithmetic per batch, the state is only carried over);
``lemma-seq2seq-dot`` is notebook 06's lemmatiser (bidirectional LSTM encoder 64 per direction,
teacher-forced LSTM decoder 128, dot attention, ``tanh`` layer, output over 129 symbols, masked
per-character cross-entropy, batch 64) at its widest length bucket, source and target 32 steps.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import queue as queue_module
import statistics
import sys
import time
import traceback
from dataclasses import asdict, dataclass, replace
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402

# XLA on one thread, as run_grid's workers (rnnkit.experiments imports no JAX)
from rnnkit.experiments import SINGLE_THREAD_XLA_FLAG  # noqa: E402

GATES = {"simple_rnn": 1, "gru": 3, "lstm": 4}
TASKS = ("classify", "tag", "regress", "lm", "seq2seq")
#: seconds a process waits at a barrier for the others (compilation included) before giving up
BARRIER_TIMEOUT = 1800
#: seq2seq ids: 0 padding, 2 the start token, 3 the end token (as rnnkit.tasks.lemmatize's vocabulary)
START_ID, END_ID = 2, 3


@dataclass(frozen=True)
class Case:
    name: str
    task: str  # "classify" (IMDB), "tag" (POS), "regress" (stock), "lm" (05), "seq2seq" (06)
    cell: str
    units: int  # per direction (seq2seq: the encoder's; its decoder has units x directions)
    steps: int  # time steps T (seq2seq: source and target width)
    batch: int
    layers: int = 1
    bidirectional: bool = False
    masked: bool = False  # padded inputs (lengths T/4..T) with a mask
    vocab: int = 20_000
    embedding: int = 64
    features: int = 6  # regress only
    tags: int = 17  # tag only

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"{self.name}: task must be one of {TASKS}, got {self.task!r}")
        if self.cell not in GATES:
            raise ValueError(f"{self.name}: cell must be one of {sorted(GATES)}, got {self.cell!r}")
        if self.task == "tag" and not self.masked:  # rnnkit.models.build_tagger has no mask_zero
            raise ValueError(f"{self.name}: rnnkit's tagger always masks: a tag case must be masked")
        if self.task in ("regress", "lm") and self.masked:
            raise ValueError(f"{self.name}: a {self.task} case has no padding to mask")
        if self.task == "seq2seq" and not (self.masked and self.cell == "lstm" and self.layers == 1):
            raise ValueError(f"{self.name}: the seq2seq model is one masked LSTM layer per side")

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    def flops_per_sequence(self) -> float:
        """Training FLOPs of the recurrent layers for one sequence: 3 x (2 x forward multiply-adds),
        over every one of the T steps (masked steps too: Keras computes them)."""
        d = self.directions
        if self.task == "seq2seq":  # encoder d x T x gates x (E + u) x u; decoder (E + du) x du
            u, e, g = self.units, self.embedding, GATES[self.cell]
            encoder = d * self.steps * g * 2 * (e + u) * u
            decoder = self.steps * g * 2 * (e + d * u) * (d * u)
            return 3 * (encoder + decoder)
        total, width = 0.0, (self.features if self.task == "regress" else self.embedding)
        for _ in range(self.layers):
            total += d * self.steps * GATES[self.cell] * 2 * (width + self.units) * self.units
            width = self.units * d
        return 3 * total

    def head_flops_per_sequence(self) -> float:
        """Training FLOPs of the other matrix products: the dense output layers and, for seq2seq,
        the attention (scores, context) and the ``tanh`` layer. Embeddings, pooling, softmax and
        losses are left out (no multiply-adds to speak of)."""
        width, t = self.units * self.directions, self.steps
        if self.task == "seq2seq":
            attention = 2 * (2 * t * t * width)  # scores q·k and context sum alpha·v
            return 3 * (attention + 2 * t * (2 * width) * width + 2 * t * width * self.vocab)
        outputs = {"classify": 1, "regress": 1, "tag": self.tags, "lm": self.vocab}[self.task]
        positions = t if self.task in ("tag", "lm") else 1
        return 3 * 2 * positions * width * outputs


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
    Case("shakespeare-gru296", "lm", "gru", 296, 32, 32, vocab=65, embedding=32),
    Case("lemma-seq2seq-dot", "seq2seq", "lstm", 64, 32, 64, bidirectional=True, masked=True, vocab=129,
         embedding=32),
]


def make_data(case: Case, count: int, seed: int = 0):
    """``(x, y, lengths)`` of ``count`` random sequences; ``x`` is ``(source, decoder_input)`` for
    seq2seq, whose ``lengths`` are the source lengths (the target's padding is 0 in ``y``)."""
    rng = np.random.default_rng(seed)
    if case.task == "regress":
        x = rng.random((count, case.steps, case.features), dtype=np.float32)
        return x, rng.normal(size=(count, 1)).astype(np.float32), np.full(count, case.steps)
    if case.task == "lm":  # every id is a character (no padding): y is the next one
        stream = rng.integers(0, case.vocab, size=(count, case.steps + 1)).astype(np.int32)
        return stream[:, :-1], stream[:, 1:], np.full(count, case.steps)
    positions = np.arange(case.steps)[None, :]
    lengths = rng.integers(case.steps // 4, case.steps + 1, size=count) if case.masked else np.full(count, case.steps)
    x = rng.integers(1, case.vocab, size=(count, case.steps)).astype(np.int32)
    x[positions >= lengths[:, None]] = 0
    if case.task == "seq2seq":  # target: characters then the end token; decoder input: start + target[:-1]
        target_lengths = rng.integers(max(case.steps // 4, 2), case.steps + 1, size=count)
        target = rng.integers(END_ID + 1, case.vocab, size=(count, case.steps)).astype(np.int32)
        target[positions == target_lengths[:, None] - 1] = END_ID
        target[positions >= target_lengths[:, None]] = 0
        decoder_input = np.concatenate([np.full((count, 1), START_ID, np.int32), target[:, :-1]], axis=1)
        decoder_input[decoder_input == END_ID] = 0
        return (x, decoder_input), target, lengths
    if case.task == "tag":
        y = rng.integers(0, case.tags, size=(count, case.steps)).astype(np.int32)
    else:
        y = rng.integers(0, 2, size=(count, 1)).astype(np.float32)
    return x, y, lengths


def available_cores() -> list[int]:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


# --------------------------------------------------------------------------------------- Keras
def build_keras_model(case: Case):
    """``(model, loss)``: the rnnkit model the notebooks train at this case's shape, uncompiled.
    ``case.masked`` decides the embedding's ``mask_zero`` (classifier; the tagger and the seq2seq
    source always mask, the language model never)."""
    from rnnkit import models
    from rnnkit.losses import masked_sparse_crossentropy

    options = dict(cell=case.cell, units=case.units, layers=case.layers, bidirectional=case.bidirectional)
    if case.task == "classify":
        model = models.build_text_classifier(case.vocab, embedding_dim=case.embedding, pooling="mean",
                                             mask_zero=case.masked, **options)
        return model, "binary_crossentropy"
    if case.task == "tag":
        return models.build_tagger(case.vocab, case.tags, embedding_dim=case.embedding, **options), \
            "sparse_categorical_crossentropy"
    if case.task == "regress":
        return models.build_many_to_one(case.steps, case.features, 1, pooling="mean", **options), "mse"
    if case.task == "lm":
        import keras

        model = models.build_language_model(case.vocab, cell=case.cell, units=case.units, layers=case.layers,
                                            embedding_dim=case.embedding)
        return model, keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model = models.build_attention_seq2seq(case.vocab, case.vocab, units=case.units, embedding_dim=case.embedding,
                                           attention="dot", bidirectional=case.bidirectional)
    return model, masked_sparse_crossentropy


def _steady_timer(skip: int, barrier=None):
    """A Keras callback timing each epoch from the start of batch ``skip`` to its end (see the
    module docstring). Only ``on_*_begin`` / ``on_epoch_end`` hooks: a ``on_train_batch_end``
    would switch off Keras' asynchronous callback dispatch and add a sync per step."""
    import jax
    import keras

    class SteadyTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.elapsed: list[float] = []
            self.start: float | None = None

        def on_epoch_begin(self, epoch, logs=None):
            if barrier is not None:
                barrier.wait(BARRIER_TIMEOUT)
            self.start = time.perf_counter() if skip == 0 else None

        def on_train_batch_begin(self, batch, logs=None):
            if batch == skip and skip > 0:
                # the state the trainer carries is the output of step skip - 1: wait for it
                jax.block_until_ready(self.model._jax_state)
                self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            jax.block_until_ready([v.value for v in self.model.trainable_variables + self.model.optimizer.variables])
            float(logs["loss"])
            if self.start is None:
                raise RuntimeError(f"epoch {epoch} had no batch {skip}: use more steps or a smaller skip")
            self.elapsed.append(time.perf_counter() - self.start)

    return SteadyTimer()


def keras_rates(case: Case, steps: int, runs: int, skip: int, *, data_parallel: bool = False,
                barrier=None) -> list[float]:
    """Sequences per second of each timed epoch (one process)."""
    import jax
    import keras

    from rnnkit import training

    training.seed_everything(0)
    scope = (keras.distribution.DataParallel(devices=jax.devices()).scope() if data_parallel
             else contextlib.nullcontext())
    with scope:
        model, loss = build_keras_model(case)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
        x, y, _ = make_data(case, case.batch * steps)
        x = list(x) if isinstance(x, tuple) else x
        model.fit(x, y, batch_size=case.batch, epochs=1, verbose=0, shuffle=False)  # compile + warm-up
        timer = _steady_timer(skip, barrier)
        model.fit(x, y, batch_size=case.batch, epochs=runs, verbose=0, shuffle=False, callbacks=[timer])
    return [(steps - skip) * case.batch / elapsed for elapsed in timer.elapsed]


# ------------------------------------------------------------------------------------- PyTorch
def torch_build_info() -> dict:
    """Which PyTorch build runs: ``cuda`` None means a CPU-only wheel."""
    import torch

    return {"version": torch.__version__, "cuda": torch.version.cuda,
            "cpu_only_build": torch.version.cuda is None,
            "mkldnn": bool(torch.backends.mkldnn.is_available()),
            "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads()}


def build_torch_model(case: Case):
    """``(model, loss_fn)``: the PyTorch twin of :func:`build_keras_model`'s model. The model takes
    ``(inputs, lengths)`` as :func:`torch_batches` yields them and returns what ``loss_fn(out, y)``
    reads. Masked inputs are packed (``pack_padded_sequence``): padding is skipped, not computed."""
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    recurrent_class = {"simple_rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[case.cell]
    d = case.directions

    def recurrent(module, h, lengths, initial=None):
        """Outputs (batch, T, units·d) and the final state, packed when the case is masked."""
        if case.masked:
            packed = pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
            outputs, state = module(packed, initial)
            return pad_packed_sequence(outputs, batch_first=True, total_length=case.steps)[0], state
        return module(h, initial)

    class Model(nn.Module):  # classify, tag, regress, lm
        def __init__(self):
            super().__init__()
            width = case.features if case.task == "regress" else case.embedding
            self.embedding = (None if case.task == "regress" else
                              nn.Embedding(case.vocab, case.embedding, padding_idx=0 if case.masked else None))
            self.recurrent = recurrent_class(width, case.units, num_layers=case.layers, batch_first=True,
                                             bidirectional=case.bidirectional)
            outputs = {"tag": case.tags, "lm": case.vocab}.get(case.task, 1)
            self.head = nn.Linear(case.units * d, outputs)

        def forward(self, x, lengths):
            h = x if self.embedding is None else self.embedding(x)
            states, _ = recurrent(self.recurrent, h, lengths)
            if case.task in ("tag", "lm"):
                return self.head(states)
            mask = (torch.arange(case.steps)[None, :] < lengths[:, None]).float().unsqueeze(-1)
            return self.head((states * mask).sum(1) / mask.sum(1))

    class Seq2Seq(nn.Module):  # rnnkit.models.build_attention_seq2seq(attention="dot")
        def __init__(self):
            super().__init__()
            decoder_units = case.units * d
            self.source_embedding = nn.Embedding(case.vocab, case.embedding, padding_idx=0)
            self.encoder = nn.LSTM(case.embedding, case.units, batch_first=True, bidirectional=case.bidirectional)
            self.target_embedding = nn.Embedding(case.vocab, case.embedding)
            self.decoder = nn.LSTM(case.embedding, decoder_units, batch_first=True)
            self.attentional = nn.Linear(2 * decoder_units, decoder_units)
            self.logits = nn.Linear(decoder_units, case.vocab)

        def forward(self, x, lengths):
            source, decoder_input = x
            encoder_outputs, (h, c) = recurrent(self.encoder, self.source_embedding(source), lengths)
            # final states of both directions, concatenated: the decoder's initial state
            h, c = (torch.cat(list(state), dim=-1).unsqueeze(0) for state in (h, c))
            decoder_outputs, _ = self.decoder(self.target_embedding(decoder_input), (h, c))
            scores = decoder_outputs @ encoder_outputs.transpose(1, 2)  # (batch, T, S) dot scores
            source_mask = (torch.arange(case.steps)[None, :] < lengths[:, None]).unsqueeze(1)
            weights = torch.softmax(torch.where(source_mask, scores, scores - 1e9), dim=-1)
            context = weights @ encoder_outputs
            attentional = torch.tanh(self.attentional(torch.cat([decoder_outputs, context], dim=-1)))
            return self.logits(attentional)

    if case.task == "seq2seq":
        token_loss = nn.CrossEntropyLoss(ignore_index=0)  # mean over real target characters
        return Seq2Seq(), lambda out, y: token_loss(out.reshape(-1, case.vocab), y.reshape(-1))
    if case.task == "tag":
        token_loss = nn.CrossEntropyLoss(ignore_index=-100)
        return Model(), lambda out, y: token_loss(out.reshape(-1, case.tags), y.reshape(-1))
    if case.task == "lm":
        token_loss = nn.CrossEntropyLoss()
        return Model(), lambda out, y: token_loss(out.reshape(-1, case.vocab), y.reshape(-1))
    return Model(), nn.BCEWithLogitsLoss() if case.task == "classify" else nn.MSELoss()


def torch_batches(case: Case, steps: int) -> list[tuple]:
    """``steps`` batches ``(inputs, lengths, y)`` of :func:`make_data`'s data as tensors."""
    import torch

    x_np, y_np, lengths_np = make_data(case, case.batch * steps)
    lengths = torch.from_numpy(lengths_np.astype(np.int64))
    if case.task == "regress":
        x = torch.from_numpy(x_np)
    elif case.task == "seq2seq":
        x = tuple(torch.from_numpy(a.astype(np.int64)) for a in x_np)
    else:
        x = torch.from_numpy(x_np.astype(np.int64))
    y = torch.from_numpy(y_np.astype(np.int64) if case.task in ("tag", "lm", "seq2seq") else y_np)
    if case.task == "tag":  # padded words carry no loss
        y = torch.where(torch.arange(case.steps)[None, :] < lengths[:, None], y, torch.full_like(y, -100))
    batches = []
    for start in range(0, len(y), case.batch):
        window = slice(start, start + case.batch)
        xb = tuple(a[window] for a in x) if isinstance(x, tuple) else x[window]
        batches.append((xb, lengths[window], y[window]))
    return batches


def torch_rates(case: Case, steps: int, runs: int, skip: int, *, threads: int, barrier=None) -> list[float]:
    """Sequences per second of each timed epoch (one process, ``threads`` intra-op threads)."""
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(threads)
    model, loss_fn = build_torch_model(case)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = torch_batches(case, steps)

    def train_step(xb, lb, yb):
        optimizer.zero_grad()
        loss = loss_fn(model(xb, lb), yb)
        loss.backward()
        optimizer.step()
        return loss

    for batch in batches:  # warm-up epoch
        train_step(*batch)
    rates = []
    for _ in range(runs):
        if barrier is not None:
            barrier.wait(BARRIER_TIMEOUT)
        start = time.perf_counter()
        for index, batch in enumerate(batches):
            if index == skip:
                start = time.perf_counter()
            loss = train_step(*batch)
        float(loss.detach())  # CPU ops run synchronously: the update is done
        rates.append((steps - skip) * case.batch / (time.perf_counter() - start))
    return rates


# ------------------------------------------------------------------------- --jobs: N processes
def _process_main(framework: str, case: Case, steps: int, runs: int, skip: int, core: int | None,
                  barrier, results, index: int) -> None:
    """One of the N processes of ``--jobs N`` (spawned: it imports JAX / PyTorch itself)."""
    try:
        jax_was_imported = "jax" in sys.modules
        flags = os.environ.get("XLA_FLAGS", "")
        if SINGLE_THREAD_XLA_FLAG not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {SINGLE_THREAD_XLA_FLAG}".strip()
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
        if core is not None:  # before JAX starts: its thread pools are sized by the affinity
            os.sched_setaffinity(0, {core})
        if framework == "keras":
            rates = keras_rates(case, steps, runs, skip, barrier=barrier)
        else:
            rates = torch_rates(case, steps, runs, skip, threads=1, barrier=barrier)
        results.put({"index": index, "runs": rates, "core": core, "xla_flags": os.environ["XLA_FLAGS"],
                     "jax_imported_before_flags": jax_was_imported})
    except BaseException:
        barrier.abort()
        results.put({"index": index, "error": traceback.format_exc()})


@contextlib.contextmanager
def _importable_by_children():
    """Spawned children import this module by name: make sure its folder is on the path they get."""
    folder = str(Path(__file__).resolve().parent)
    added = folder not in sys.path
    if added:
        sys.path.append(folder)
    try:
        yield
    finally:
        if added:
            sys.path.remove(folder)


def rates_in_processes(framework: str, case: Case, steps: int, runs: int, skip: int, jobs: int) -> dict:
    """``jobs`` pinned single-thread processes training ``case`` at once: per-process rates and their
    sums per run (``{"runs": [sum per run], "processes": [{"core", "runs"}, ...]}``)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    cores = available_cores() if hasattr(os, "sched_setaffinity") else [None]
    if jobs > len(cores):
        print(f"  note: {jobs} processes on {len(cores)} cores: some share a core", file=sys.stderr)
    barrier, results = context.Barrier(jobs), context.Queue()
    processes = [context.Process(target=_process_main, daemon=True,
                                 args=(framework, case, steps, runs, skip, cores[k % len(cores)], barrier, results, k))
                 for k in range(jobs)]
    with _importable_by_children():
        for process in processes:
            process.start()
    reports: dict[int, dict] = {}
    try:
        while len(reports) < jobs:
            try:
                report = results.get(timeout=1)
            except queue_module.Empty:
                dead = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
                if dead and results.empty():
                    raise RuntimeError(f"{framework} {case.name}: a process died (exit codes {dead})") from None
                continue
            if "error" in report:
                raise RuntimeError(f"{framework} {case.name}, process {report['index']}:\n{report['error']}")
            reports[report["index"]] = report
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
    ordered = [reports[k] for k in range(jobs)]
    sums = [sum(report["runs"][run] for report in ordered) for run in range(runs)]
    return {"runs": sums, "processes": [{"core": r["core"], "runs": r["runs"], "xla_flags": r["xla_flags"],
                                         "jax_imported_before_flags": r["jax_imported_before_flags"]}
                                        for r in ordered]}


# ---------------------------------------------------------------------------------------- main
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


def measure(case: Case, framework: str, args, skip: int) -> dict:
    """The entries of one case's row for one framework (``{framework}_seq_s`` is the headline)."""
    jobs, steps, runs = args.jobs, args.steps, args.runs
    if framework == "keras":
        if jobs == 1:
            rates = keras_rates(case, steps, runs, skip, data_parallel=args.devices > 1)
            return {"keras_seq_s": statistics.median(rates), "keras_runs": rates}
        grid = rates_in_processes("keras", case, steps, runs, skip, jobs)
        return {"keras_seq_s": statistics.median(grid["runs"]), "keras_runs": grid["runs"],
                "keras_processes": grid["processes"]}
    threads = len(available_cores()) if jobs == 1 else jobs
    rates = torch_rates(case, steps, runs, skip, threads=threads)
    if jobs == 1:
        return {"torch_seq_s": statistics.median(rates), "torch_runs": rates, "torch_threads": threads}
    grid = rates_in_processes("torch", case, steps, runs, skip, jobs)
    by_threads, by_processes = statistics.median(rates), statistics.median(grid["runs"])
    best = "threads" if by_threads >= by_processes else "processes"
    return {"torch_seq_s": max(by_threads, by_processes), "torch_best": best,
            "torch_threads_seq_s": by_threads, "torch_threads_runs": rates, "torch_threads": threads,
            "torch_processes_seq_s": by_processes, "torch_processes_runs": grid["runs"],
            "torch_processes": grid["processes"]}


def _fmt(value) -> str:
    return f"{value:.0f}" if value else "—"


def print_table(rows: list[dict], peak: float, jobs: int) -> None:
    torch_columns = jobs > 1 and any("torch_best" in row for row in rows)
    keras_head = "Keras-JAX seq/s" if jobs == 1 else f"Keras-JAX seq/s ({jobs} procs)"
    extra = f" PyTorch {jobs} threads | PyTorch {jobs} procs |" if torch_columns else ""
    print(f"\n| case | {keras_head} | PyTorch seq/s |{extra} ratio | Keras GFLOP/s | % of peak |")
    print("|---|---|---|" + ("---|---|" if torch_columns else "") + "---|---|---|")
    for row in rows:
        keras_rate, torch_rate = row.get("keras_seq_s"), row.get("torch_seq_s")
        ratio = f"{keras_rate / torch_rate:.2f}" if keras_rate and torch_rate else "—"
        gflops = keras_rate * row["gflop_per_seq"] if keras_rate else float("nan")
        cells = ""
        if torch_columns:
            cells = f" {_fmt(row.get('torch_threads_seq_s'))} | {_fmt(row.get('torch_processes_seq_s'))} |"
        best = f" ({row['torch_best']})" if "torch_best" in row else ""
        print(f"| {row['name']} | {_fmt(keras_rate)} | {_fmt(torch_rate)}{best} |{cells} {ratio} | "
              f"{gflops:.1f} | {100 * gflops / peak:.0f}% |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--runs", type=int, default=3, help="timed epochs per case (median reported)")
    parser.add_argument("--steps", type=int, default=20, help="batches per epoch")
    parser.add_argument("--skip", type=int, default=3,
                        help="untimed batches at the start of each timed epoch (at most steps - 1)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="N > 1: N pinned single-thread processes per case at once, summed (grid throughput)")
    parser.add_argument("--frameworks", default="keras,torch")
    parser.add_argument("--cases", default="all", help="comma-separated case names, or 'all'")
    parser.add_argument("--output", type=Path, default=Path("build/bench/results.json"))
    parser.add_argument("--batch", type=int, default=None, help="override every case's batch size")
    parser.add_argument("--peak-size", type=int, default=2048, help="matrix size of the matmul peak")
    parser.add_argument("--devices", type=int, default=1,
                        help="Keras: split each batch over N XLA host devices with keras.distribution.DataParallel")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.steps < 2 or args.skip < 0 or args.jobs < 1:
        parser.error("need --runs >= 1, --steps >= 2, --skip >= 0, --jobs >= 1")
    if args.jobs > 1 and args.devices > 1:
        parser.error("--jobs and --devices do not combine")
    skip = min(args.skip, args.steps - 1)
    if skip < args.skip:
        print(f"note: --skip {args.skip} needs more than {args.steps} steps: skipping {skip}", file=sys.stderr)
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
    torch_info = None
    if "torch" in frameworks:
        try:
            torch_info = torch_build_info()
        except ImportError:
            print("PyTorch is not installed: run `make bench` (installs bench/requirements.txt) "
                  "or pass --frameworks keras", file=sys.stderr)
            return 2
        build = ("CPU-only build" if torch_info["cpu_only_build"]
                 else f"CUDA {torch_info['cuda']} build, run on the CPU here")
        print(f"torch {torch_info['version']} ({build}; oneDNN/mkldnn "
              f"{'available' if torch_info['mkldnn'] else 'NOT available'}); "
              f"{torch_info['threads']} intra-op / {torch_info['interop_threads']} inter-op threads by default")
    import jax
    import keras

    cores = available_cores()
    print(f"keras {keras.__version__} on jax {jax.__version__}; {len(cores)} cores; "
          f"{platform.processor() or platform.machine()}; {len(jax.devices())} JAX device(s)")
    mode = ("one process, every core" if args.jobs == 1 else
            f"{args.jobs} processes, each pinned to one core with single-threaded XLA, rates summed")
    print(f"{mode}; {args.runs} timed epochs of {args.steps} batches, the first {skip} of each untimed")
    peak = matmul_peak_gflops(args.peak_size)
    print(f"practical fp32 peak ({args.peak_size}x{args.peak_size} matmul, XLA, every core): {peak:.1f} GFLOP/s\n")
    rows = []
    for case in cases:
        row = {**asdict(case), "gflop_per_seq": case.flops_per_sequence() / 1e9,
               "gflop_per_seq_all": (case.flops_per_sequence() + case.head_flops_per_sequence()) / 1e9}
        for framework in frameworks:
            entries = measure(case, framework, args, skip)
            row.update(entries)
            rates = entries[f"{framework}_runs"] if args.jobs == 1 or framework == "keras" else \
                entries["torch_processes_runs"]
            note = ""
            if "torch_best" in entries:
                note = (f"; {args.jobs} threads in one process: {entries['torch_threads_seq_s']:.0f}, "
                        f"best: {entries['torch_best']}")
            print(f"  {case.name:24s} {framework:6s} {entries[f'{framework}_seq_s']:8.1f} seq/s "
                  f"(runs{' summed over processes' if args.jobs > 1 else ''}: "
                  f"{', '.join(f'{r:.0f}' for r in rates)}{note})", flush=True)
        rows.append(row)
    print_table(rows, peak, args.jobs)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    record = {"peak_gflops": peak, "peak_size": args.peak_size, "runs": args.runs, "steps": args.steps, "skip": skip, "jobs": args.jobs,
              "devices": args.devices, "frameworks": frameworks, "cores": len(cores),
              "processor": platform.processor() or platform.machine(),
              "keras": {"version": keras.__version__, "jax": jax.__version__}, "torch": torch_info,
              "cases": rows}
    args.output.write_text(json.dumps(record, indent=1) + "\n")
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
