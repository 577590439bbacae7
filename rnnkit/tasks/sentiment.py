"""IMDB sentiment: configuration, input pipeline, model, training and the TF-IDF baseline (notebook 03).

The 25,000 training reviews are split once, with a seeded shuffle, into training and validation
reviews; the vocabulary is counted on the training reviews only. Reviews are stored as token ids
(ragged, flat arrays) and cut, padded and bucketed per configuration, so ``maxlen``,
``truncating``, ``vocab_size`` and the training subset are fields of :class:`Config` like any other.

>>> data = load_data()
>>> metrics = run(Config(cell="gru"), seed=0, data=data)      # validation metrics + history
>>> baseline = fit_tfidf(data)                                 # C chosen on validation
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402

from rnnkit import batching, models, training  # noqa: E402
from rnnkit import data as datasets  # noqa: E402

__all__ = ["SPLITS", "TFIDF_C_GRID", "Config", "Data", "Final", "TfidfBaseline", "batches", "build_model", "evaluate",
           "fit_final_and_baseline", "fit_tfidf", "load_data", "padded", "run", "split_reviews", "train",
           "train_final", "unmasked_copy"]

SPLITS = ("train", "validation", "test")
#: Reviews per batch when only predicting (no gradients): bigger batches, fewer steps, same numbers.
EVAL_BATCH_SIZE = 500
#: Inverse regularisation strengths tried for the TF-IDF baseline (x8 apart).
TFIDF_C_GRID = (1 / 8, 1.0, 8.0, 64.0, 512.0, 4096.0)


@dataclass(frozen=True)
class Config:
    """Every choice that changes a result of the sentiment task (defaults: notebook 03's base run)."""

    cell: str = "lstm"  # "simple_rnn", "lstm" or "gru"
    units: int = 64  # per direction
    layers: int = 1
    bidirectional: bool = False
    pooling: str = "mean"  # "mean": masked mean of the states over time; "last": the final state
    embeddings: str = "random"  # "random" (uniform init) or "glove" (the shipped GloVe 50d vectors)
    embedding_dim: int = 50  # must equal the GloVe dimension (50) with embeddings="glove"
    trainable_embeddings: bool = True
    mask: bool = True  # False: padding enters the states and the mean, as in the original report
    dropout: float = 0.0  # on the embeddings, between layers and on the pooled vector
    optimizer: str = "adam"  # a name in rnnkit.training.OPTIMIZERS
    learning_rate: float = 1e-3
    epochs: int = 3  # an upper bound: early stopping keeps the best validation epoch
    patience: int | None = 1  # epochs without a better validation accuracy before stopping
    batch_size: int = 64
    vocab_size: int = 20_000  # ids kept (<pad>, <unk> and the most frequent training words)
    maxlen: int = 200  # tokens kept per review
    truncating: str = "pre"  # "pre": keep a long review's end; "post": keep its start
    train_reviews: int | None = 10_000  # the first n training reviews (None: all)
    bucket_width: int = 50  # batches are cut to a multiple of this width (one compiled step per width)

    def __post_init__(self):
        choices = {"cell": tuple(models.RECURRENT_LAYERS), "pooling": models.POOLINGS,
                   "embeddings": ("random", "glove"), "truncating": ("pre", "post"),
                   "optimizer": tuple(training.OPTIMIZERS)}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        for name in ("units", "layers", "embedding_dim", "epochs", "batch_size", "maxlen", "bucket_width"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.vocab_size < 3:
            raise ValueError(f"vocab_size must be >= 3 (<pad>, <unk> and a word), got {self.vocab_size}")
        if self.train_reviews is not None and self.train_reviews < 1:
            raise ValueError(f"train_reviews must be >= 1 or None, got {self.train_reviews}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @property
    def widths(self) -> tuple[int, ...]:
        """The batch widths: multiples of ``bucket_width`` below ``maxlen``, then ``maxlen``."""
        return (*range(self.bucket_width, self.maxlen, self.bucket_width), self.maxlen)

    @property
    def label(self) -> str:
        """Short name for tables and legends, e.g. ``bi-gru-64x1 mean glove``."""
        direction = "bi" if self.bidirectional else "uni"
        return f"{direction}-{self.cell}-{self.units}x{self.layers} {self.pooling} {self.embeddings}"


@dataclass
class Data:
    """The three splits as token ids, ragged and stored flat (cheap to hash and to send to workers).

    * ``vocabulary``: counted on the training reviews only; ``<pad>`` = 0, ``<unk>`` = 1, then words
      by frequency, so the first ``k`` ids are the ``k - 2`` most frequent words.
    * ``ids[split]``: ``(tokens in the split,) int32``, every review's ids one after the other;
    * ``offsets[split]``: ``(reviews + 1,) int64``; review ``i`` is ``ids[offsets[i]:offsets[i + 1]]``;
    * ``labels[split]``: ``(reviews,) float32``, 1 = positive;
    * ``glove``: ``(len(vocabulary), 50) float32`` GloVe rows (random rows for words it lacks), or None.
    """

    vocabulary: datasets.Vocabulary
    ids: dict[str, np.ndarray]
    offsets: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    glove: np.ndarray | None = None

    def lengths(self, split: str) -> np.ndarray:
        """``(reviews,) int64`` token count of every review (before any cut)."""
        return np.diff(self.offsets[_check_split(split)])

    def reviews(self, split: str) -> list[np.ndarray]:
        """The reviews of ``split`` as a list of ``(length,) int32`` id arrays."""
        ids, offsets = self.ids[_check_split(split)], self.offsets[split]
        return [ids[start:end] for start, end in zip(offsets[:-1], offsets[1:], strict=True)]

    def __repr__(self) -> str:
        sizes = ", ".join(f"{split} {len(self.labels[split]):,}" for split in SPLITS)
        return f"Data({sizes} reviews; vocabulary {len(self.vocabulary):,}; glove {self.glove is not None})"


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return split


def split_reviews(*, validation_reviews: int = 5_000, seed: int = 0,
                  reviews: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """``{"train", "validation", "test"}`` frames (``text, label``) from the shipped reviews.

    The training reviews are sorted (label, then text), so the split does not depend on the file's
    row order, then shuffled with ``seed``; the last ``validation_reviews`` become validation.
    """
    reviews = datasets.load_imdb() if reviews is None else reviews
    train_all = reviews[reviews["split"] == "train"].sort_values(["label", "text"], kind="stable")
    if not 0 < validation_reviews < len(train_all):
        raise ValueError(f"validation_reviews must be in (0, {len(train_all)}), got {validation_reviews}")
    order = np.random.default_rng(seed).permutation(len(train_all))
    parts = {"train": train_all.iloc[order[:-validation_reviews]], "validation": train_all.iloc[order[-validation_reviews:]],
             "test": reviews[reviews["split"] == "test"]}
    return {name: part[["text", "label"]].reset_index(drop=True) for name, part in parts.items()}


def load_data(*, validation_reviews: int = 5_000, seed: int = 0, limit: int | None = None, glove: bool = True,
              splits: dict[str, pd.DataFrame] | None = None) -> Data:
    """Tokenise the reviews, count the vocabulary on the training split, encode every split.

    Args:
        validation_reviews, seed: the validation split (see :func:`split_reviews`).
        limit: keep only the first ``limit`` reviews of each split (quick runs); None: all.
        glove: also align the shipped GloVe 50d vectors with the vocabulary.
        splits: the frames of :func:`split_reviews`, when the caller has them already.
    """
    splits = split_reviews(validation_reviews=validation_reviews, seed=seed) if splits is None else splits
    if limit is not None:  # train and validation are shuffled already; the test file is sorted by label
        rows = np.sort(np.random.default_rng(seed).permutation(len(splits["test"]))[:limit])
        splits = {"train": splits["train"].iloc[:limit], "validation": splits["validation"].iloc[:limit],
                  "test": splits["test"].iloc[rows]}
    tokens = {name: [datasets.tokenize(text) for text in splits[name]["text"]] for name in SPLITS}
    vocabulary = datasets.Vocabulary.build(tokens["train"])
    ids, offsets, labels = {}, {}, {}
    for name in SPLITS:
        encoded = [vocabulary.encode(review) for review in tokens[name]]
        offsets[name] = np.concatenate([[0], np.cumsum([len(review) for review in encoded])]).astype(np.int64)
        ids[name] = np.fromiter((i for review in encoded for i in review), dtype=np.int32, count=offsets[name][-1])
        labels[name] = splits[name]["label"].to_numpy(np.float32)
        if (offsets[name][1:] == offsets[name][:-1]).any():
            empty = int(np.flatnonzero(offsets[name][1:] == offsets[name][:-1])[0])
            raise ValueError(f"{name} review {empty} has no token after tokenisation")
    matrix = datasets.glove_embedding(vocabulary, dim=50, seed=seed).matrix if glove else None
    return Data(vocabulary=vocabulary, ids=ids, offsets=offsets, labels=labels, glove=matrix)


# --- input pipeline ----------------------------------------------------------------------------------


def padded(config: Config, data: Data, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The reviews of ``split`` as the model reads them under ``config``.

    Returns ``ids: (reviews, config.maxlen) int32`` (post-padded with 0, cut on the
    ``config.truncating`` side, ids ``>= config.vocab_size`` replaced by ``<unk>`` = 1) and
    ``lengths: (reviews,)``, the tokens kept. For ``"train"``, only the first
    ``config.train_reviews`` reviews.
    """
    if config.vocab_size > len(data.vocabulary):
        raise ValueError(f"vocab_size {config.vocab_size} exceeds the vocabulary's {len(data.vocabulary)} ids")
    reviews = data.reviews(split)
    if split == "train" and config.train_reviews is not None:
        reviews = reviews[: config.train_reviews]
    ids = datasets.pad_sequences(reviews, maxlen=config.maxlen, padding="post", truncating=config.truncating)
    ids[ids >= config.vocab_size] = 1
    return ids, np.minimum([len(review) for review in reviews], config.maxlen)


def batches(config: Config, data: Data, split: str, *, shuffle: bool, seed: int = 0) -> batching.BucketedBatches:
    """Length-bucketed batches of ``split``: ``config.batch_size`` reviews when ``shuffle`` (training),
    :data:`EVAL_BATCH_SIZE` otherwise; each batch cut to the smallest of ``config.widths`` that holds it."""
    ids, lengths = padded(config, data, split)
    labels = data.labels[split][: len(ids)]
    return batching.BucketedBatches({"tokens": ids}, lengths, labels, widths=config.widths, shuffle=shuffle,
                                    batch_size=config.batch_size if shuffle else EVAL_BATCH_SIZE, seed=seed)


# --- model, training, evaluation ---------------------------------------------------------------------


def build_model(config: Config, data: Data) -> keras.Model:
    """The classifier of ``config``: ``tokens: (batch, time) int32 -> probability: (batch, 1)``, uncompiled."""
    embeddings = None
    if config.embeddings == "glove":
        if data.glove is None:
            raise ValueError("embeddings='glove' needs data loaded with load_data(glove=True)")
        if data.glove.shape[1] != config.embedding_dim:
            raise ValueError(f"embedding_dim must be {data.glove.shape[1]} (the GloVe dimension) with "
                             f"embeddings='glove', got {config.embedding_dim}")
        embeddings = data.glove[: config.vocab_size]
    return models.build_text_classifier(
        config.vocab_size, cell=config.cell, units=config.units, layers=config.layers,
        bidirectional=config.bidirectional, pooling=config.pooling, embedding_dim=config.embedding_dim,
        embeddings=embeddings, trainable_embeddings=config.trainable_embeddings, dropout=config.dropout,
        mask_zero=config.mask,
    )


def unmasked_copy(model: keras.Model, config: Config, data: Data) -> keras.Model:
    """``model`` (built from ``config``) rebuilt without the mask, holding the same weights.

    Padding then runs through the recurrent layers and, with mean pooling, enters the average.
    """
    unmasked = build_model(dataclasses.replace(config, mask=False), data)
    unmasked.set_weights(model.get_weights())
    return unmasked


def train(config: Config, seed: int, data: Data, *, callbacks=()) -> training.TrainResult:
    """Train on the training reviews of ``config``; early stopping keeps the weights of the epoch
    with the best validation accuracy."""
    training.enable_compilation_cache()  # also in worker processes; results unchanged
    return training.train(
        lambda: build_model(config, data), batches(config, data, "train", shuffle=True, seed=seed),
        seed=seed, loss="binary_crossentropy", metrics=["accuracy"], optimizer=config.optimizer,
        learning_rate=config.learning_rate, epochs=config.epochs, patience=config.patience,
        monitor="val_accuracy", validation_data=batches(config, data, "validation", shuffle=False),
        callbacks=callbacks,
    )


def evaluate(model: keras.Model, data: Data, split: str, *, config: Config) -> dict[str, Any]:
    """Score ``model`` on every review of ``split`` read as ``config`` reads them.

    Returns ``accuracy: float``, ``probability: (reviews,) float32`` P(positive) and
    ``correct: (reviews,) bool`` in the split's order (for paired tests).
    """
    reviews = batches(dataclasses.replace(config, train_reviews=None), data, split, shuffle=False)
    probability = np.array(batching.predict_bucketed(model, reviews), dtype=np.float32)[:, 0]
    correct = (probability > 0.5) == (data.labels[split] > 0.5)
    return {"accuracy": float(correct.mean()), "probability": probability, "correct": correct}


def run(config: Config, seed: int, data: Data) -> dict[str, Any]:
    """Grid entry point: train one configuration and report **validation** metrics only.

    ``val_accuracy`` and ``val_loss`` are those of the epoch early stopping kept (``best_epoch``);
    ``history`` holds every epoch's ``loss, accuracy, val_loss, val_accuracy``.
    """
    result = train(config, seed, data)
    best = result.best_epoch - 1
    return {"val_accuracy": result.history["val_accuracy"][best], "val_loss": result.history["val_loss"][best],
            "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
            "s_per_epoch": result.steady_epoch_seconds, "history": result.history}


# --- the bag-of-words baseline -----------------------------------------------------------------------


def _unigrams_and_bigrams(ids: np.ndarray, *, vocab_size: int) -> list[int]:
    """Feature ids of a review: its word ids, and ``vocab_size * (1 + a) + b`` for each word pair (a, b)."""
    ids = np.asarray(ids, dtype=np.int64)
    return [*ids.tolist(), *(vocab_size * (1 + ids[:-1]) + ids[1:]).tolist()]


@dataclass
class TfidfBaseline:
    """TF-IDF weighted word and word-pair counts into a logistic regression, C chosen on validation."""

    vectorizer: Any  # sklearn TfidfVectorizer
    classifier: Any  # sklearn LogisticRegression fitted with the chosen C
    C: float
    validation_accuracy: dict[float, float]  # every C tried -> validation accuracy
    train_reviews: int

    def predict_proba(self, data: Data, split: str) -> np.ndarray:
        """``(reviews,)`` P(positive) for every review of ``split`` (whole reviews, never cut)."""
        return self.classifier.predict_proba(self.vectorizer.transform(data.reviews(split)))[:, 1]

    def evaluate(self, data: Data, split: str) -> dict[str, Any]:
        """Same keys as :func:`evaluate`: ``accuracy``, ``probability``, ``correct``."""
        probability = self.predict_proba(data, split)
        correct = (probability > 0.5) == (data.labels[split] > 0.5)
        return {"accuracy": float(correct.mean()), "probability": probability, "correct": correct}


def fit_tfidf(data: Data, *, train_reviews: int | None = None, c_grid=TFIDF_C_GRID,
              require_interior: bool = True) -> TfidfBaseline:
    """Fit the baseline on the first ``train_reviews`` training reviews (None: all), whole reviews.

    Features: unigrams and bigrams seen in at least 2 training reviews, sublinear TF-IDF. ``C`` is the
    value of ``c_grid`` with the best validation accuracy; with ``require_interior`` a best ``C`` at
    either end of the grid raises ``ValueError`` (the optimum may lie outside: widen the grid).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    c_grid = sorted(float(c) for c in c_grid)
    if len(c_grid) < 3 and require_interior:
        raise ValueError(f"c_grid needs >= 3 values to have an interior, got {c_grid}")
    reviews = data.reviews("train")[:train_reviews]
    labels = data.labels["train"][: len(reviews)]
    vectorizer = TfidfVectorizer(analyzer=functools.partial(_unigrams_and_bigrams, vocab_size=len(data.vocabulary)),
                                 min_df=2, sublinear_tf=True, dtype=np.float32)
    features = vectorizer.fit_transform(reviews)
    validation = vectorizer.transform(data.reviews("validation"))
    scores, fitted = {}, {}
    for c in c_grid:
        fitted[c] = LogisticRegression(C=c, solver="liblinear").fit(features, labels)
        scores[c] = float(fitted[c].score(validation, data.labels["validation"]))
    best = max(c_grid, key=lambda c: (scores[c], -c))  # ties: the stronger regularisation
    if require_interior and best in (c_grid[0], c_grid[-1]):
        raise ValueError(f"the best C={best:g} is at the edge of the grid {c_grid}: widen it")
    return TfidfBaseline(vectorizer=vectorizer, classifier=fitted[best], C=best, validation_accuracy=scores,
                         train_reviews=len(reviews))


# --- the final models, trained side by side ----------------------------------------------------------


@dataclass
class Final:
    """A trained final model as plain arrays (it comes back from a worker process)."""

    config: Config
    seed: int
    weights: list[np.ndarray]
    history: dict[str, list[float]]
    best_epoch: int
    epochs_run: int

    def model(self, data: Data) -> keras.Model:
        """The trained network, rebuilt in this process."""
        model = build_model(self.config, data)
        model.set_weights(self.weights)
        return model


def train_final(config: Config, seed: int, data: Data) -> Final:
    """:func:`train`, returning the weights of the best validation epoch instead of a live model."""
    result = train(config, seed, data)
    return Final(config=config, seed=seed, weights=result.model.get_weights(), history=result.history,
                 best_epoch=result.best_epoch, epochs_run=result.epochs_run)


def fit_final_and_baseline(config: Config, seed: int, data: Data, *, c_grid=TFIDF_C_GRID,
                           require_interior: bool = True, n_jobs: int | None = None) -> tuple[Final, TfidfBaseline]:
    """Train the final network and fit the TF-IDF baseline (on all training reviews) at the same time,
    in two worker processes (joblib); XLA runs single-threaded in each, as in
    :func:`rnnkit.experiments.run_grid`. ``n_jobs=1`` runs them one after the other."""
    from joblib import Parallel, delayed

    from rnnkit import experiments

    n_jobs = min(2, experiments.default_n_jobs() if n_jobs is None else n_jobs)
    previous = os.environ.get("XLA_FLAGS")  # the workers inherit it when they start
    os.environ["XLA_FLAGS"] = f"{previous or ''} {experiments.SINGLE_THREAD_XLA_FLAG}".strip()
    try:
        final, baseline = Parallel(n_jobs=n_jobs)(
            [delayed(train_final)(config, seed, data), delayed(fit_tfidf)(data, c_grid=c_grid, require_interior=require_interior)])
    finally:
        if previous is None:
            os.environ.pop("XLA_FLAGS", None)
        else:
            os.environ["XLA_FLAGS"] = previous
    return final, baseline
