"""Character-level language modelling on Tiny Shakespeare: config, stream pipeline, model, training.

The corpus is one stream of character ids, ``train | validation | test`` in that order
(tensorflow-datasets' contiguous 90/5/5 split). A model reads ``tokens: (batch, time)`` and
predicts every next character, ``logits: (batch, time, vocab)``; the loss is the mean
cross-entropy in **nats per character** (``/ ln 2``: bits per character; ``exp``: perplexity).

Two ways to cut the training stream into truncated-BPTT windows of ``seq_len`` characters:

* ``stateful=True`` — :func:`stream_batches`: the stream is split into ``batch_size`` contiguous
  rows and batch ``k`` holds characters ``k·T .. (k+1)·T`` of every row, so **row i of batch
  k+1 continues row i of batch k**. A ``stateful`` recurrent layer carries its final state into
  the next batch: the network sees an unbounded past, gradients flow back ``T`` steps.
* ``stateful=False`` — :func:`random_windows`: independent windows at random positions, each
  starting from a zero state.

Validation and test are scored as a stream too (:func:`char_nll`): ``EVAL_ROWS`` contiguous rows,
each primed on the ``BURN_IN`` characters before it, every character of the split scored once.

>>> data = load_data()
>>> result = train(Config(epochs=2), seed=0, data=data)
>>> evaluate(result.model, data, "validation")["nats"]
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402

from rnnkit import models, training  # noqa: E402
from rnnkit.data.shakespeare import SHAKESPEARE_SPLITS, load_tiny_shakespeare  # noqa: E402

__all__ = [
    "BURN_IN",
    "EVAL_ROWS",
    "Config",
    "Data",
    "TextBatches",
    "build_model",
    "char_nll",
    "decoder",
    "evaluate",
    "gradient_memory",
    "gradient_norm_trace",
    "load_data",
    "parameter_count",
    "random_windows",
    "run",
    "stream_batches",
    "train",
    "units_for_budget",
]

#: rows the validation / test stream is cut into for scoring, and the characters of context each
#: row reads (not scored) before its first scored character.
EVAL_ROWS, BURN_IN = 32, 200


@dataclasses.dataclass(frozen=True)
class Config:
    """Every hyper-parameter that changes a result; the defaults are the notebook's base run."""

    cell: str = "lstm"  # "simple_rnn" | "lstm" | "gru"
    units: int = 256
    layers: int = 1
    embedding_dim: int = 32
    dropout: float = 0.0  # between stacked recurrent layers
    seq_len: int = 100  # truncation length T: gradients flow back at most T steps
    batch_size: int = 128
    stateful: bool = True  # carry the state across consecutive windows (else: random windows)
    learning_rate: float = 3e-3
    schedule: str = "cosine"  # "constant" or "cosine" (decay to 5 % over all updates)
    global_clipnorm: float | None = 5.0
    epochs: int = 8  # the weights of the best validation epoch are kept


@dataclasses.dataclass
class Data:
    """The corpus as one id stream.

    ``ids: (n,) int32`` — train, validation and test characters in text order;
    ``vocab: str`` — id -> character (the sorted characters of the training text);
    ``bounds: {split: (start, stop)}`` — each split's slice of ``ids`` (train may be a prefix).
    """

    ids: np.ndarray
    vocab: str
    bounds: dict[str, tuple[int, int]]

    def split(self, name: str) -> np.ndarray:
        """``(stop - start,) int32`` ids of one split."""
        start, stop = self.bounds[_split_name(name)]
        return self.ids[start:stop]

    def encode(self, text: str) -> np.ndarray:
        unknown = sorted(set(text) - set(self.vocab))
        if unknown:
            raise ValueError(f"characters {unknown} are not in the vocabulary")
        lookup = {char: index for index, char in enumerate(self.vocab)}
        return np.array([lookup[char] for char in text], dtype=np.int32)

    def decode(self, ids) -> str:
        return "".join(self.vocab[int(i)] for i in np.asarray(ids).reshape(-1))


def _split_name(name: str) -> str:
    name = {"dev": "validation", "val": "validation"}.get(name, name)
    if name not in SHAKESPEARE_SPLITS:
        raise ValueError(f"split must be one of {SHAKESPEARE_SPLITS} (or 'dev'/'val'), got {name!r}")
    return name


def load_data(*, train_chars: int | None = None, eval_chars: int | None = None,
              source: str = "local") -> Data:
    """Tiny Shakespeare as a :class:`Data` stream.

    Args:
        train_chars: keep only the first ``train_chars`` training characters (quick runs).
        eval_chars: score only the first ``eval_chars`` of validation and of test (quick runs).
        source: passed to :func:`rnnkit.data.load_tiny_shakespeare`.
    """
    splits = load_tiny_shakespeare(source)
    vocab = "".join(sorted(set(splits["train"])))
    unseen = sorted(set(splits["validation"] + splits["test"]) - set(vocab))
    if unseen:
        raise ValueError(f"validation/test characters {unseen} never occur in the training text")
    lookup = np.zeros(max(map(ord, vocab)) + 1, dtype=np.int32)
    lookup[[ord(char) for char in vocab]] = np.arange(len(vocab), dtype=np.int32)
    text = splits["train"] + splits["validation"] + splits["test"]
    ids = lookup[np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)]
    bounds, start = {}, 0
    for name in SHAKESPEARE_SPLITS:
        stop = start + len(splits[name])
        bounds[name] = (start, stop)
        start = stop
    if train_chars is not None:
        bounds["train"] = (0, min(train_chars, bounds["train"][1]))
    if eval_chars is not None:
        for name in ("validation", "test"):
            begin, end = bounds[name]
            bounds[name] = (begin, min(end, begin + eval_chars))
    return Data(ids=ids, vocab=vocab, bounds=bounds)


# ---------------------------------------------------------------------------------------------
# Input pipeline


def stream_batches(ids: np.ndarray, batch_size: int, seq_len: int, *, offset: int = 0,
                   steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cut a stream into ``batch_size`` contiguous rows and the rows into windows of ``seq_len``.

    Row ``i`` holds ``ids[offset + i·R : offset + (i+1)·R]`` (``R = (len - offset - 1) // batch_size``).
    Returns ``inputs, targets: (steps, batch_size, seq_len) int32`` with ``targets`` the inputs
    shifted by one character, and ``inputs[k + 1, i, 0] == targets[k, i, -1]``: row i of batch
    k+1 continues row i of batch k. ``steps`` (default: all that fit) caps the batches.
    """
    if batch_size < 1 or seq_len < 1:
        raise ValueError(f"batch_size and seq_len must be >= 1, got {batch_size}, {seq_len}")
    ids = np.asarray(ids, dtype=np.int32)[offset:]
    row_len = (len(ids) - 1) // batch_size
    fit = row_len // seq_len
    steps = fit if steps is None else steps
    if steps < 1 or steps > fit:
        raise ValueError(f"{len(ids)} ids hold {fit} batches of {batch_size} x {seq_len}, asked for {steps}")
    starts = np.arange(batch_size) * row_len
    rows = ids[starts[:, None] + np.arange(steps * seq_len + 1)]  # (batch, steps·T + 1)
    inputs = rows[:, :-1].reshape(batch_size, steps, seq_len).transpose(1, 0, 2)
    targets = rows[:, 1:].reshape(batch_size, steps, seq_len).transpose(1, 0, 2)
    return np.ascontiguousarray(inputs), np.ascontiguousarray(targets)


def random_windows(ids: np.ndarray, count: int, seq_len: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` independent windows at uniformly random positions: ``inputs, targets: (count, seq_len)``."""
    ids = np.asarray(ids, dtype=np.int32)
    if len(ids) <= seq_len:
        raise ValueError(f"need more than seq_len={seq_len} ids, got {len(ids)}")
    starts = np.random.default_rng(seed).integers(0, len(ids) - seq_len, size=count)
    windows = ids[starts[:, None] + np.arange(seq_len + 1)]
    return windows[:, :-1], windows[:, 1:]


class TextBatches(keras.utils.PyDataset):
    """The training batches of one run, redrawn every epoch (``len`` is the same every epoch).

    Stateful: :func:`stream_batches` with a random offset in ``[0, seq_len)`` from the second
    epoch on, so the truncation points move. Otherwise: :func:`random_windows`, as many characters
    per epoch as the stream holds.
    """

    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int, *, stateful: bool, seed: int):
        super().__init__()
        self.ids, self.batch_size, self.seq_len = ids, batch_size, seq_len
        self.stateful, self.seed, self.epoch = stateful, seed, 0
        self.steps = ((len(ids) - seq_len - 1) // batch_size) // seq_len  # fits at every offset
        if self.steps < 1:
            raise ValueError(f"{len(ids)} training ids are too few for batches of {batch_size} x {seq_len}")
        self._draw()

    def _draw(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        if self.stateful:
            offset = int(rng.integers(self.seq_len)) if self.epoch else 0
            self.inputs, self.targets = stream_batches(self.ids, self.batch_size, self.seq_len, offset=offset,
                                                       steps=self.steps)
        else:
            inputs, targets = random_windows(self.ids, self.steps * self.batch_size, self.seq_len,
                                             seed=int(rng.integers(2**31)))
            shape = (self.steps, self.batch_size, self.seq_len)
            self.inputs, self.targets = inputs.reshape(shape), targets.reshape(shape)

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, index: int):
        return self.inputs[index], self.targets[index]

    def on_epoch_end(self):
        self.epoch += 1
        self._draw()


# ---------------------------------------------------------------------------------------------
# Model, scoring

#: weight matrices per recurrent cell: one per gate plus the candidate.
_GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}


def parameter_count(cell: str, units: int, *, vocab_size: int, embedding_dim: int, layers: int = 1) -> int:
    """Parameters of :func:`rnnkit.models.build_language_model` in closed form:
    ``V·E`` (embedding) ``+ Σ_layers g·u·(d_in + u + 1)`` (recurrent; Keras' GRU has a second bias,
    ``+ g·u``) ``+ u·V + V`` (logits), with ``g`` = 1 / 4 / 3 matrices for SimpleRNN / LSTM / GRU."""
    gates = _GATES[cell]
    total, inputs = vocab_size * embedding_dim, embedding_dim
    for _ in range(layers):
        total += gates * units * (inputs + units + 1) + (gates * units if cell == "gru" else 0)
        inputs = units
    return total + units * vocab_size + vocab_size


def units_for_budget(cell: str, params: int, *, vocab_size: int, embedding_dim: int, layers: int = 1) -> int:
    """The number of units whose :func:`parameter_count` is closest to ``params``."""
    return min(range(1, 4096), key=lambda units: abs(
        parameter_count(cell, units, vocab_size=vocab_size, embedding_dim=embedding_dim, layers=layers) - params))


def build_model(config: Config, data: Data, *, stateful: bool = False) -> keras.Model:
    """Uncompiled :func:`rnnkit.models.build_language_model` for ``config``. ``stateful=True`` gives
    the training twin (fixed batch size ``config.batch_size``); the default reads any batch."""
    return models.build_language_model(
        len(data.vocab), cell=config.cell, units=config.units, layers=config.layers,
        embedding_dim=config.embedding_dim, dropout=config.dropout, stateful=stateful,
        batch_size=config.batch_size if stateful else None,
    )


def char_nll(model: keras.Model, data: Data, split: str, *, rows: int = EVAL_ROWS, burn_in: int = BURN_IN) -> np.ndarray:
    """Negative log-likelihood (nats) of every character of ``split``, in text order: ``(n,) float64``.

    The split is cut into ``rows`` contiguous rows scored in one batch; each row first reads the
    ``burn_in`` characters before it (the end of the previous split, never scored), so its first
    characters are predicted with context. ``model`` must accept any batch size (not stateful).
    """
    start, stop = data.bounds[_split_name(split)]
    first = max(start, 1)  # the corpus' first character has nothing to be predicted from
    count = stop - first
    row_len = math.ceil(count / rows)
    positions = first + np.arange(rows)[:, None] * row_len + np.arange(-burn_in, row_len)[None, :]
    inputs = data.ids[np.clip(positions - 1, 0, len(data.ids) - 1)]
    targets = data.ids[np.clip(positions, 0, len(data.ids) - 1)]
    logits = np.asarray(model.predict(inputs, batch_size=rows, verbose=0), dtype=np.float64)
    logits -= logits.max(axis=-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    scored = (positions >= first) & (positions < stop)
    scored[:, :burn_in] = False
    order = positions[scored]
    assert len(order) == count and np.array_equal(order, np.arange(first, stop))  # each character once
    return nll[scored]


def evaluate(model: keras.Model, data: Data, split: str) -> dict[str, float]:
    """``{"nats": mean NLL per character, "bits": nats / ln 2, "perplexity": e^nats, "chars": n}``."""
    nll = char_nll(model, data, split)
    nats = float(nll.mean())
    return {"nats": nats, "bits": nats / math.log(2), "perplexity": math.exp(nats), "chars": int(len(nll))}


class _StreamValidation(keras.callbacks.Callback):
    """After each epoch: copy the weights into the stateless twin, score validation as a stream
    (``logs["val_loss"]``, nats/char), keep the best epoch's weights and restore them at the end."""

    def __init__(self, built: dict, data: Data):
        super().__init__()
        self.built, self.data, self.twin = built, data, None  # the twin is built with the model, inside train()
        self.best, self.best_epoch, self.best_weights = math.inf, 0, None

    def on_train_begin(self, logs=None):
        self.twin = self.built["twin"]

    def on_train_batch_end(self, batch, logs=None):
        # JAX dispatches the steps asynchronously; wait for the epoch's last one here, so that epoch
        # timers (which run before this callback's on_epoch_end) measure the work, not its dispatch.
        if logs and batch + 1 == self.params.get("steps"):
            float(logs["loss"])

    def _copy(self):
        sources, targets = self.model.trainable_variables, self.twin.trainable_variables
        assert [v.shape for v in sources] == [v.shape for v in targets]
        for target, source in zip(targets, sources, strict=True):
            target.assign(np.array(source.value))  # a copy: the training step donates its buffers

    def on_epoch_end(self, epoch, logs=None):
        self._copy()
        loss = float(char_nll(self.twin, self.data, "validation").mean())
        if logs is not None:
            logs["val_loss"] = loss
        if loss < self.best:
            self.best, self.best_epoch = loss, epoch + 1
            self.best_weights = self.twin.get_weights()

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.twin.set_weights(self.best_weights)


class _ResetStates(keras.callbacks.Callback):
    """Zero every stateful layer's state at the start of each epoch (a new pass over the stream)."""

    def on_epoch_begin(self, epoch, logs=None):
        for layer in self.model.layers:
            if getattr(layer, "stateful", False):
                layer.reset_state()


def _optimizer(config: Config, updates: int) -> keras.optimizers.Optimizer:
    if config.schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=updates, alpha=0.05)
    elif config.schedule == "constant":
        rate = config.learning_rate
    else:
        raise ValueError(f"schedule must be 'constant' or 'cosine', got {config.schedule!r}")
    return keras.optimizers.Adam(learning_rate=rate, global_clipnorm=config.global_clipnorm)


def train(config: Config, seed: int, data: Data, *, callbacks=()) -> training.TrainResult:
    """Train on the training stream for ``config.epochs`` epochs; validation after each epoch.

    Returns a :class:`rnnkit.training.TrainResult` whose ``model`` is the stateless twin (any batch
    size) holding the weights of the best validation epoch, and whose ``history`` has ``loss``
    (training nats/char, mean over the epoch's batches) and ``val_loss`` (validation nats/char).
    """
    batches = TextBatches(data.split("train"), config.batch_size, config.seq_len,
                          stateful=config.stateful, seed=seed)
    built = {}

    def build() -> keras.Model:  # runs after training.train has cleared the session and seeded
        built["twin"] = build_model(config, data)
        return build_model(config, data, stateful=config.stateful)

    validation = _StreamValidation(built, data)
    result = training.train(
        build, batches, seed=seed, optimizer=_optimizer(config, len(batches) * config.epochs),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), epochs=config.epochs,
        callbacks=[*([_ResetStates()] if config.stateful else []), validation, *callbacks],
    )
    return dataclasses.replace(result, model=built["twin"], best_epoch=validation.best_epoch)


def run(config: Config, seed: int, data: Data) -> dict:
    """Grid entry point: train, score the validation split only.

    Returns ``val_nats``, ``val_bits``, ``params``, ``best_epoch``, ``s_per_epoch`` (median epoch
    seconds after the first) and ``history`` (``loss``, ``val_loss`` per epoch).
    """
    result = train(config, seed, data)
    scores = evaluate(result.model, data, "validation")
    return {"val_nats": scores["nats"], "val_bits": scores["bits"], "params": int(result.model.count_params()),
            "best_epoch": result.best_epoch, "s_per_epoch": result.steady_epoch_seconds,
            "history": {name: list(values) for name, values in result.history.items()}}


# ---------------------------------------------------------------------------------------------
# Gradient norms, generation


def _loss_of(model: keras.Model):
    """``loss(trainable, non_trainable, inputs, targets) -> (nats/char, non_trainable)``, pure."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def loss_of(trainable, non_trainable, inputs, targets):
        logits, non_trainable = model.stateless_call(trainable, non_trainable, inputs, training=True)
        return loss_fn(targets, logits), non_trainable

    return loss_of


def gradient_norm_trace(config: Config, seed: int, data: Data, *, steps: int) -> dict[str, np.ndarray]:
    """``steps`` Adam updates on random windows in an explicit JAX loop, recording before each
    update the global gradient norm ``sqrt(Σ ||g||²)`` (before any clipping) and the batch loss.

    The optimizer clips to ``config.global_clipnorm`` (``None``: no clipping) exactly as
    ``model.fit`` would. Returns ``{"norm": (steps,), "loss": (steps,)}``.
    """
    import jax
    import jax.numpy as jnp

    training.seed_everything(seed)
    model = build_model(config, data)
    optimizer = _optimizer(dataclasses.replace(config, schedule="constant"), steps)
    optimizer.build(model.trainable_variables)
    gradient = jax.value_and_grad(_loss_of(model), has_aux=True)

    @jax.jit
    def update(trainable, non_trainable, optimizer_state, inputs, targets):
        (loss, non_trainable), grads = gradient(trainable, non_trainable, inputs, targets)
        norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in grads))
        trainable, optimizer_state = optimizer.stateless_apply(optimizer_state, grads, trainable)
        return trainable, non_trainable, optimizer_state, loss, norm

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    optimizer_state = [v.value for v in optimizer.variables]
    inputs, targets = random_windows(data.split("train"), steps * config.batch_size, config.seq_len, seed=seed)
    norms, losses = np.zeros(steps), np.zeros(steps)
    for k in range(steps):
        rows = slice(k * config.batch_size, (k + 1) * config.batch_size)
        trainable, non_trainable, optimizer_state, loss, norm = update(
            trainable, non_trainable, optimizer_state, inputs[rows], targets[rows])
        losses[k], norms[k] = float(loss), float(norm)
    return {"norm": norms, "loss": losses}


def gradient_memory(config: Config, data: Data) -> int:
    """Bytes of working memory XLA allocates for one gradient of a ``(batch_size, seq_len)`` batch
    (``memory_analysis().temp_size_in_bytes`` of the compiled step, as notebook 01 measures BPTT):
    what truncated BPTT stores to walk back ``seq_len`` steps. Compiles, does not run."""
    import jax

    training.seed_everything(0)
    model = build_model(config, data)
    gradient = jax.jit(jax.value_and_grad(_loss_of(model), has_aux=True))
    tokens = np.zeros((config.batch_size, config.seq_len), dtype=np.int32)
    compiled = gradient.lower([v.value for v in model.trainable_variables],
                              [v.value for v in model.non_trainable_variables], tokens, tokens).compile()
    return int(compiled.memory_analysis().temp_size_in_bytes)


def decoder(model: keras.Model, data: Data):
    """A :mod:`rnnkit.decoding` step function for a trained model, and a way to prime it.

    Returns ``(step, prime)``: ``step(tokens (batch,), state) -> (log_probs (batch, vocab), state)``
    runs :func:`rnnkit.models.build_language_model_step` (shared layers, compiled once per batch
    size); ``prime(text, batch) -> (state, last_token)`` reads ``text`` (all but its last
    character) from a zero state, for ``batch`` identical rows.
    """
    step_model = models.build_language_model_step(model)
    sizes = [int(tensor.shape[-1]) for tensor in step_model.inputs[1:]]

    def step(tokens, state):
        outputs = step_model.predict_on_batch([np.asarray(tokens, dtype=np.int32), *state])
        return np.asarray(outputs[0]), [np.asarray(array) for array in outputs[1:]]

    def prime(text: str, batch: int = 1):
        ids = data.encode(text)
        state = [np.zeros((batch, size), dtype=np.float32) for size in sizes]
        for token in ids[:-1]:
            _, state = step(np.full(batch, token, dtype=np.int32), state)
        return state, int(ids[-1])

    return step, prime
