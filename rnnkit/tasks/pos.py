"""Part-of-speech tagging on UD English EWT: configuration, input pipeline, model, training, scores.

>>> from rnnkit import experiments
>>> from rnnkit.tasks import pos
>>> data = pos.load_data()
>>> configs = [dataclasses.replace(pos.Config(), cell=cell) for cell in ("lstm", "gru")]
>>> table = experiments.run_grid(pos.run, configs, [0, 1, 2], data=data, name="04_pos_tagging")

One run: the training words (lower-cased) and, by default, every word of the shipped GloVe subset
form the word vocabulary; each sentence becomes word ids (and character ids per word); batches
are bucketed by length (:class:`rnnkit.batching.BucketedBatches`, padding left out of the loss and
the accuracy by real-token sample weights); a (bi)directional recurrent tagger
(:func:`rnnkit.models.build_tagger`) is trained with early stopping on validation accuracy.
:func:`run` scores the validation split only; the test split is scored by :func:`fit_and_score`,
called once for the selected models.
"""

from __future__ import annotations

import dataclasses
import os
import weakref
from collections.abc import Sequence
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from rnnkit import batching, models, tagging, training  # noqa: E402
from rnnkit import data as rdata
from rnnkit.data.text import Vocabulary  # noqa: E402

__all__ = [
    "SPLITS",
    "TokenAccuracy",
    "VOCABULARIES",
    "Config",
    "Data",
    "Encoded",
    "baseline_scores",
    "build_model",
    "encode",
    "evaluate",
    "fit_and_score",
    "fit_and_score_concurrently",
    "load_data",
    "restore_model",
    "run",
    "tokenisation_agreement",
    "train",
]

SPLITS = ("train", "dev", "test")
#: How the word vocabulary is built: the training words (count >= ``min_freq``) plus every GloVe
#: word; the training words alone; or nothing but ``<pad>``/``<unk>`` (characters only).
VOCABULARIES = ("train+glove", "train", "none")
GLOVE_DIM = 50


@dataclasses.dataclass(frozen=True)
class Config:
    """Every hyper-parameter that changes a result; the defaults are notebook 04's base run."""

    cell: str = "lstm"  # "simple_rnn" | "lstm" | "gru"
    units: int = 64  # per direction
    layers: int = 1
    bidirectional: bool = True
    vocabulary: str = "train+glove"  # one of VOCABULARIES
    min_freq: int = 1  # training words seen fewer times become <unk>
    glove: bool = True  # initialise the word embedding from GloVe 50d (else uniform random)
    trainable_embeddings: bool = True
    embedding_dim: int = GLOVE_DIM  # must be 50 with glove=True
    chars: bool = False  # add a char-CNN per word
    char_embedding_dim: int = 24
    char_filters: int = 64
    char_kernel_size: int = 3
    max_chars: int = 16  # characters kept per word
    dropout: float = 0.0
    optimizer: str = "adam"
    learning_rate: float = 3e-3
    epochs: int = 3
    patience: int | None = 2  # epochs without a better validation accuracy before stopping
    batch_size: int = 32
    widths: tuple[int, ...] = (24, 48, 160)  # length buckets; EWT's longest sentence has 159 words
    eval_batch_size: int = 512

    def __post_init__(self):
        if self.vocabulary not in VOCABULARIES:
            raise ValueError(f"vocabulary must be one of {VOCABULARIES}, got {self.vocabulary!r}")
        if self.glove and self.embedding_dim != GLOVE_DIM:
            raise ValueError(f"glove=True fixes embedding_dim to {GLOVE_DIM}, got {self.embedding_dim}")
        if self.min_freq < 1:
            raise ValueError(f"min_freq must be >= 1, got {self.min_freq}")
        object.__setattr__(self, "widths", tuple(int(width) for width in self.widths))


@dataclasses.dataclass(eq=False)
class Data:
    """The prepared inputs every configuration shares.

    ``sentences[split]``: lists of ``[(form, upos), ...]`` for ``"train"``, ``"dev"``, ``"test"``;
    ``chars``: the characters of the training words (as written); ``glove_words: (g,)`` and
    ``glove_vectors: (g, 50) float32``: the shipped GloVe subset; ``tags``: the 17 UPOS tags.
    """

    sentences: dict[str, list[list[tuple[str, str]]]]
    chars: Vocabulary
    glove_words: list[str]
    glove_vectors: np.ndarray
    tags: tuple[str, ...] = rdata.UPOS_TAGS

    @property
    def train_words(self) -> set[str]:
        """Lower-cased word forms of the training split (a word outside it is "unknown")."""
        return {form.lower() for sentence in self.sentences["train"] for form, _ in sentence}


def load_data(*, subset: int | None = None, max_length: int | None = None) -> Data:
    """UD English EWT r2.16 (official splits) and the shipped GloVe 50d subset.

    ``subset``: keep the first ``subset`` sentences of each split (the quick profile);
    ``max_length``: first drop sentences longer than this many words.
    """
    sentences = {name: rdata.load_ud_ewt(name) for name in SPLITS}
    if max_length is not None:
        sentences = {name: [s for s in split if len(s) <= max_length] for name, split in sentences.items()}
    if subset is not None:
        sentences = {name: split[:subset] for name, split in sentences.items()}
    chars = Vocabulary.build([list(form) for sentence in sentences["train"] for form, _ in sentence])
    glove = rdata.read_glove(dim=GLOVE_DIM)
    return Data(sentences=sentences, chars=chars, glove_words=list(glove),
                glove_vectors=np.stack(list(glove.values())).astype(np.float32))


@dataclasses.dataclass
class Encoded:
    """One configuration's view of the data: the word vocabulary, the initial embedding matrix
    ``(len(words), 50) float32`` (row 0 zeros; words without a GloVe vector drawn from
    N(0, std of the GloVe vectors)), the share of vocabulary ids that have a GloVe vector, and
    ``splits[name]``: :class:`rnnkit.tagging.EncodedSentences`."""

    words: Vocabulary
    embeddings: np.ndarray
    glove_coverage: float
    splits: dict[str, tagging.EncodedSentences]


_ENCODED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Data -> {rule: Encoded}


def word_vocabulary(config: Config, data: Data) -> Vocabulary:
    """The word vocabulary that ``config.vocabulary`` and ``config.min_freq`` describe."""
    if config.vocabulary == "none":
        return Vocabulary([rdata.PAD, rdata.UNK])
    documents = [[form.lower() for form, _ in sentence] for sentence in data.sentences["train"]]
    vocabulary = Vocabulary.build(documents, min_freq=config.min_freq)
    if config.vocabulary == "train+glove":
        known = set(vocabulary.tokens)
        extra = [word for word in data.glove_words if word not in known]
        vocabulary = Vocabulary([*vocabulary.tokens, *extra], counts=vocabulary.counts)
    return vocabulary


def encode(config: Config, data: Data) -> Encoded:
    """Word vocabulary, embedding matrix and encoded splits for ``config`` (memoised per ``data``)."""
    rule = (config.vocabulary, config.min_freq, config.max_chars)
    memo = _ENCODED.setdefault(data, {})
    if rule in memo:
        return memo[rule]
    words = word_vocabulary(config, data)
    index = {word: i for i, word in enumerate(data.glove_words)}
    rows = np.array([index.get(token, -1) for token in words.tokens])
    found = rows >= 0
    found[0] = False
    rng = np.random.default_rng(0)
    embeddings = rng.normal(0.0, float(data.glove_vectors.std()), size=(len(words), GLOVE_DIM)).astype(np.float32)
    embeddings[found] = data.glove_vectors[rows[found]]
    embeddings[0] = 0.0
    splits = {name: tagging.encode_sentences(sentences, words, data.chars, data.tags, max_chars=config.max_chars)
              for name, sentences in data.sentences.items()}
    memo[rule] = Encoded(words=words, embeddings=embeddings, glove_coverage=float(found[2:].mean()) if len(words) > 2
                         else 0.0, splits=splits)
    return memo[rule]


def build_model(config: Config, data: Data):
    """The uncompiled tagger ``config`` describes: ``words (batch, time)`` [+ ``chars (batch, time,
    max_chars)``] -> ``tags (batch, time, 17)`` probabilities."""
    encoded = encode(config, data)
    return models.build_tagger(
        len(encoded.words), len(data.tags), cell=config.cell, units=config.units, layers=config.layers,
        bidirectional=config.bidirectional, embedding_dim=config.embedding_dim,
        embeddings=encoded.embeddings if config.glove else None, trainable_embeddings=config.trainable_embeddings,
        char_vocab_size=len(data.chars) if config.chars else None, char_filters=config.char_filters,
        char_embedding_dim=config.char_embedding_dim, char_kernel_size=config.char_kernel_size,
        dropout=config.dropout,
    )


def batches(config: Config, data: Data, split: str, *, train: bool, seed: int = 0,
            targets: bool = True) -> batching.BucketedBatches:
    """Length-bucketed batches of ``split``: shuffled with ``seed`` for training, in order (and
    ``config.eval_batch_size`` large) otherwise. Per-step targets come with real-token weights."""
    part = encode(config, data).splits[_split(split)]
    return batching.BucketedBatches(
        part.inputs(with_chars=config.chars), part.lengths, part.tags if targets else None,
        batch_size=config.batch_size if train else config.eval_batch_size, widths=config.widths, shuffle=train,
        seed=seed)


class TokenAccuracy(keras.metrics.Metric):
    """Token micro accuracy, exact across batches of different widths: correct real tokens / real
    tokens, summed over every batch seen (``sample_weight``: 1 at real tokens, 0 at padding).

    Keras' ``SparseCategoricalAccuracy`` first averages each sentence over its padded width, so
    with length buckets a token in a short bucket weighs more than one in a long bucket.
    ``y_true: (batch, time) int``, ``y_pred: (batch, time, tags)``.
    """

    def __init__(self, name: str = "accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self._direction = "up"  # higher is better (EarlyStopping reads it)
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.tokens = self.add_variable(shape=(), initializer="zeros", name="tokens")

    def update_state(self, y_true, y_pred, sample_weight=None):
        ops = keras.ops
        right = ops.cast(ops.equal(ops.cast(y_true, "int32"), ops.cast(ops.argmax(y_pred, axis=-1), "int32")),
                         self.dtype)
        weight = ops.ones_like(right) if sample_weight is None else ops.cast(sample_weight, self.dtype)
        self.correct.assign_add(ops.sum(right * weight))
        self.tokens.assign_add(ops.sum(weight))

    def result(self):
        return keras.ops.divide_no_nan(self.correct, self.tokens)


def _use_compilation_cache() -> None:
    """Turn on XLA's persistent compilation cache in this process unless it is set already (a
    grid worker re-uses the programs that another seed of the same configuration compiled)."""
    import jax

    if not jax.config.jax_compilation_cache_dir:
        training.enable_compilation_cache()


def train(config: Config, seed: int, data: Data) -> training.TrainResult:
    """Seed, build, fit with early stopping on validation accuracy (best epoch's weights kept).

    The history holds ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` per epoch, all over
    real tokens only.
    """
    _use_compilation_cache()
    return training.train(
        lambda: build_model(config, data), batches(config, data, "train", train=True, seed=seed), seed=seed,
        loss="sparse_categorical_crossentropy", weighted_metrics=[TokenAccuracy()], optimizer=config.optimizer,
        learning_rate=config.learning_rate, validation_data=batches(config, data, "dev", train=False),
        epochs=config.epochs, patience=config.patience, monitor="val_accuracy")


def _split(split: str) -> str:
    split = {"validation": "dev"}.get(split, split)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} (or 'validation'), got {split!r}")
    return split


def evaluate(model, data: Data, split: str, *, config: Config) -> dict[str, Any]:
    """Token micro accuracy over the whole split (one count over all its words), and on the words
    never seen in training.

    Returns ``accuracy``, ``unknown_accuracy`` and per-token arrays ``(tokens,)``: ``predicted``
    and ``gold`` tag ids, ``correct`` bool, ``unknown`` bool (lower-cased form not in the training
    split), ``sentence`` (index of the token's sentence: the unit to resample).
    """
    split = _split(split)
    part = encode(config, data).splits[split]
    outputs = batching.predict_bucketed(model, batches(config, data, split, train=False, targets=False))
    predicted = np.concatenate([output.argmax(-1) for output in outputs])
    real = np.arange(part.tags.shape[1])[None, :] < part.lengths[:, None]
    gold = part.tags[real]
    train_words = data.train_words
    unknown = np.array([form.lower() not in train_words for sentence in data.sentences[split] for form, _ in sentence])
    correct = predicted == gold
    return {"accuracy": float(correct.mean()),
            "unknown_accuracy": float(correct[unknown].mean()) if unknown.any() else float("nan"),
            "predicted": predicted, "gold": gold, "correct": correct, "unknown": unknown,
            "sentence": np.repeat(np.arange(len(part.lengths)), part.lengths)}


def baseline_scores(data: Data, split: str) -> dict[str, Any]:
    """The most-frequent-tag baseline (:class:`rnnkit.tagging.MostFrequentTag`, fitted on the
    training split) scored like :func:`evaluate`: ``accuracy``, ``unknown_accuracy`` and the
    per-token ``correct``, ``unknown`` and ``sentence`` arrays."""
    split = _split(split)
    baseline = tagging.MostFrequentTag(data.sentences["train"])
    sentences = data.sentences[split]
    gold = np.array([tag for sentence in sentences for _, tag in sentence])
    guess = np.array([tag for sentence in sentences for tag in baseline.predict([form for form, _ in sentence])])
    train_words = data.train_words
    unknown = np.array([form.lower() not in train_words for sentence in sentences for form, _ in sentence])
    correct = gold == guess
    return {"accuracy": float(correct.mean()),
            "unknown_accuracy": float(correct[unknown].mean()) if unknown.any() else float("nan"),
            "correct": correct, "unknown": unknown, "default_tag": baseline.default,
            "sentence": np.repeat(np.arange(len(sentences)), [len(sentence) for sentence in sentences])}


def run(config: Config, seed: int, data: Data) -> dict[str, Any]:
    """Grid entry point: train, score the VALIDATION split only.

    Returns ``val_accuracy`` (token micro accuracy of the kept epoch, as ``fit`` logged it: the
    same number :func:`evaluate` computes), ``val_unknown_accuracy`` (on the validation words
    never seen in ``data``'s training sentences), ``best_epoch``, ``epochs_run``, ``s_per_epoch``
    (median epoch time without the compiling first one) and ``history``.
    """
    result = train(config, seed, data)
    unknown_accuracy = evaluate(result.model, data, "dev", config=config)["unknown_accuracy"]
    return {"val_accuracy": result.history["val_accuracy"][result.best_epoch - 1],
            "val_unknown_accuracy": unknown_accuracy, "best_epoch": result.best_epoch,
            "epochs_run": result.epochs_run, "s_per_epoch": result.steady_epoch_seconds, "history": result.history}


def fit_and_score(config: Config, seed: int, data: Data, splits: Sequence[str] = ("dev", "test")) -> dict[str, Any]:
    """Train once and score ``splits``: for the models a notebook has already selected (the test
    split is scored once). Returns ``scores`` ({split: :func:`evaluate`'s dict}), ``history``,
    ``best_epoch``, ``epochs_run``, ``s_per_epoch`` and ``weights`` (for :func:`restore_model`)."""
    result = train(config, seed, data)
    return {"scores": {split: evaluate(result.model, data, split, config=config) for split in splits},
            "history": result.history, "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
            "s_per_epoch": result.steady_epoch_seconds, "weights": result.model.get_weights()}


def _fit_and_score_in_worker(config: Config, seed: int, data: Data, splits: Sequence[str],
                             compilation_cache: str | None, pool: str) -> dict[str, Any]:
    from rnnkit import experiments

    experiments._pin_worker_to_a_core(pool)  # one XLA thread on a core of its own, as run_grid's workers
    if compilation_cache:
        training.enable_compilation_cache(compilation_cache)
    return fit_and_score(config, seed, data, splits)


def fit_and_score_concurrently(configs: Sequence[Config], seed: int, data: Data, *,
                               splits: Sequence[str] = ("dev", "test"), n_jobs: int | None = None,
                               inline: bool = False) -> list[dict]:
    """:func:`fit_and_score` for independent models at once: each in a single-core worker process
    (joblib/loky, as :func:`rnnkit.experiments.run_grid`), ``n_jobs`` of them side by side (default:
    every core), so the numbers do not depend on ``n_jobs``. ``inline=True`` trains here, one
    after the other (for debugging)."""
    from rnnkit import experiments

    if inline:
        return [fit_and_score(config, seed, data, splits) for config in configs]
    n_jobs = max(1, min(experiments.default_n_jobs() if n_jobs is None else n_jobs, len(configs)))
    from joblib import Parallel, delayed
    from joblib.executor import get_memmapping_executor

    arguments = (tuple(splits), experiments._compilation_cache_dir(), f"{os.getpid()}")
    previous = os.environ.get("XLA_FLAGS")  # new loky workers inherit it
    os.environ["XLA_FLAGS"] = f"{previous or ''} {experiments.SINGLE_THREAD_XLA_FLAG}".strip()
    try:
        if n_jobs == 1:  # joblib would run n_jobs=1 in this process: use one loky worker directly
            executor = get_memmapping_executor(1)
            futures = [executor.submit(_fit_and_score_in_worker, config, seed, data, *arguments) for config in configs]
            return [future.result() for future in futures]
        return Parallel(n_jobs=n_jobs)(
            delayed(_fit_and_score_in_worker)(config, seed, data, *arguments) for config in configs)
    finally:
        if previous is None:
            os.environ.pop("XLA_FLAGS", None)
        else:
            os.environ["XLA_FLAGS"] = previous


def restore_model(config: Config, data: Data, weights: Sequence[np.ndarray]):
    """The model of a :func:`fit_and_score` result, rebuilt in this process."""
    model = build_model(config, data)
    model.set_weights(list(weights))
    return model


def tagger(model, config: Config, data: Data) -> tagging.Tagger:
    """A :class:`rnnkit.tagging.Tagger` for raw sentences."""
    return tagging.Tagger(model, encode(config, data).words, data.chars, data.tags, with_chars=config.chars,
                          max_chars=config.max_chars)


def tokenisation_agreement(split: str = "test") -> tuple[float, list[tuple[list[str], list[str]]]]:
    """How often :func:`rnnkit.tagging.split_words` applied to a sentence's raw text (the
    ``# text`` line) gives exactly EWT's words. Returns ``(share of sentences, mismatches)`` with
    each mismatch as ``(split_words' words, EWT's words)``."""
    import conllu

    from rnnkit.data.files import dataset_path, open_text

    split = _split(split)
    agree, mismatches = 0, []
    with open_text(dataset_path(f"ud_ewt/en_ewt-ud-{split}.conllu.gz")) as handle:
        for sentence in conllu.parse_incr(handle):
            words = [token["form"] for token in sentence if isinstance(token["id"], int)]
            split_up = tagging.split_words(sentence.metadata["text"])
            if split_up == words:
                agree += 1
            else:
                mismatches.append((split_up, words))
    return agree / (agree + len(mismatches)), mismatches
