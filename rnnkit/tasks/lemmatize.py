"""Lemmatising UD English EWT character by character: (word form, UPOS) -> lemma.

``studies/VERB -> study``, ``better/ADJ -> good``, ``was/AUX -> be``. The source is the UPOS tag
as one token followed by the form's characters; the target is the lemma's characters and an end
token. The model (:func:`rnnkit.models.build_attention_seq2seq`) trains on the word *types* of the
training split (each distinct ``(form, upos, lemma)`` once), in length buckets, with teacher
forcing; it is scored on every *token* of dev / test by greedy decoding (encoder + one-step
decoder, :func:`rnnkit.models.seq2seq_inference`).

Baselines: copying the form, and :class:`LookupLemmatizer` (the most frequent training lemma of
the lower-cased form with its UPOS, else a copy of the form).
A word is *unseen* when its form (as written) never occurs in the training split.

>>> data = load_data()
>>> run(dataclasses.replace(Config(), attention="additive"), seed=0, data=data)["val_accuracy"]
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter, defaultdict
from collections.abc import Sequence

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from rnnkit import batching, models, training  # noqa: E402
from rnnkit.data import UPOS_TAGS, Vocabulary, load_ud_ewt_lemmas  # noqa: E402
from rnnkit.data.text import PAD, UNK  # noqa: E402
from rnnkit.losses import MaskedAccuracy, masked_sparse_crossentropy  # noqa: E402

__all__ = [
    "END",
    "START",
    "Config",
    "Data",
    "LookupLemmatizer",
    "Pairs",
    "Words",
    "build_model",
    "character_errors",
    "edit_distance",
    "encode_pairs",
    "error_by_position",
    "evaluate",
    "load_data",
    "predict_lemmas",
    "run",
    "train",
]

START, END = "<s>", "</s>"
#: source / decode widths used for prediction (any length is accepted there)
_PREDICT_WIDTHS = (8, 16, 32, 64, 128, 256)


@dataclasses.dataclass(frozen=True)
class Config:
    """Every hyper-parameter that changes a result; the defaults are notebook 06's base run."""

    attention: str = "dot"  # "none", "dot" (Luong) or "additive" (Bahdanau)
    units: int = 64  # encoder LSTM units per direction; the decoder has 2x as many
    embedding_dim: int = 32  # character (and tag) embeddings
    bidirectional: bool = True
    dropout: float = 0.0
    learning_rate: float = 3e-3
    epochs: int = 10
    patience: int | None = 2  # early stopping on dev loss (restores the best epoch)
    batch_size: int = 64
    widths: tuple[int, ...] = (8, 12, 16, 24, 32)  # length buckets; longer training types are dropped
    beam_width: int = 1  # decoding on dev in run(): 1 = greedy


@dataclasses.dataclass
class Pairs:
    """Encoded (source, target) pairs, padded at the end with 0 to a common width ``W``.

    ``source: (n, W) int32`` = [<UPOS>, chars of the form]; ``decoder_input: (n, W) int32`` =
    [<s>, chars of the lemma]; ``target: (n, W) int32`` = [chars of the lemma, </s>];
    ``lengths: (n,)`` = the longer of source and target.
    """

    source: np.ndarray
    decoder_input: np.ndarray
    target: np.ndarray
    lengths: np.ndarray


@dataclasses.dataclass
class Words:
    """Every token of one split: ``forms``, ``upos``, ``lemmas`` (lists of str, length n);
    ``sentence: (n,) int`` the sentence index of each token (the unit a bootstrap resamples);
    ``unseen: (n,) bool`` the form never occurs in the training split."""

    forms: list[str]
    upos: list[str]
    lemmas: list[str]
    sentence: np.ndarray
    unseen: np.ndarray

    def __len__(self) -> int:
        return len(self.forms)


@dataclasses.dataclass
class Data:
    """Inputs of the lemmatiser.

    ``vocab``: one vocabulary for sources and targets (``<pad>``, ``<unk>``, ``<s>``, ``</s>``, the
    17 ``<UPOS>`` tokens, then the training characters by frequency). ``train`` / ``dev``:
    :class:`Pairs` of the distinct ``(form, upos, lemma)`` types of each split (dev's are the
    validation loss of ``fit``); ``words``: :class:`Words` of every token of ``"train"``, ``"dev"``,
    ``"test"``; ``train_words``: every training ``(form, upos, lemma)`` token (for the lookup).
    """

    vocab: Vocabulary
    train: Pairs
    dev: Pairs
    words: dict[str, Words]
    train_words: list[tuple[str, str, str]]


def tag_token(upos: str) -> str:
    return f"<{upos}>"


def build_vocabulary(types: Sequence[tuple[str, str, str]]) -> Vocabulary:
    counts = Counter(char for form, _, lemma in types for char in form + lemma)
    chars = sorted(counts, key=lambda char: (-counts[char], char))
    return Vocabulary([PAD, UNK, START, END, *(tag_token(tag) for tag in UPOS_TAGS), *chars], counts=dict(counts))


def encode_pairs(words: Sequence[tuple[str, str, str]], vocab: Vocabulary, *, width: int | None = None) -> Pairs:
    """Encode ``[(form, upos, lemma), ...]``; ``width`` defaults to the longest example."""
    if not words:
        raise ValueError("no words to encode")
    sources = [[vocab[tag_token(upos)], *vocab.encode(form)] for form, upos, _ in words]
    lemmas = [vocab.encode(lemma) for _, _, lemma in words]
    lengths = np.array([max(len(s), len(t) + 1) for s, t in zip(sources, lemmas, strict=True)])
    width = int(lengths.max()) if width is None else width
    if lengths.max() > width:
        raise ValueError(f"an example needs {int(lengths.max())} steps, width is {width}")
    source, decoder_input, target = (np.zeros((len(words), width), dtype=np.int32) for _ in range(3))
    start, end = vocab[START], vocab[END]
    for row, (encoded_source, lemma) in enumerate(zip(sources, lemmas, strict=True)):
        source[row, : len(encoded_source)] = encoded_source
        decoder_input[row, : len(lemma) + 1] = [start, *lemma]
        target[row, : len(lemma) + 1] = [*lemma, end]
    return Pairs(source=source, decoder_input=decoder_input, target=target, lengths=lengths)


class LookupLemmatizer:
    """Baseline: the most frequent training lemma of ``(form.lower(), upos)`` (ties: alphabetical);
    for a pair never seen in training, a copy of the form as written."""

    def __init__(self, words: Sequence[tuple[str, str, str]]):
        counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
        for form, upos, lemma in words:
            counts[form.lower(), upos][lemma] += 1
        if not counts:
            raise ValueError("no training words")
        self.table = {key: min(c, key=lambda lemma: (-c[lemma], lemma)) for key, c in counts.items()}

    def known(self, form: str, upos: str) -> bool:
        return (form.lower(), upos) in self.table

    def lemmatize(self, form: str, upos: str) -> str:
        return self.table.get((form.lower(), upos), form)

    def predict(self, forms: Sequence[str], upos: Sequence[str]) -> list[str]:
        return [self.lemmatize(form, tag) for form, tag in zip(forms, upos, strict=True)]


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest single-character insertions, deletions and substitutions
    that turn ``a`` into ``b``."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def _words(sentences, train_forms: set[str]) -> Words:
    flat = [(form, upos, lemma, index) for index, sentence in enumerate(sentences) for form, upos, lemma in sentence]
    return Words(forms=[w[0] for w in flat], upos=[w[1] for w in flat], lemmas=[w[2] for w in flat],
                 sentence=np.array([w[3] for w in flat]), unseen=np.array([w[0] not in train_forms for w in flat]))


def load_data(*, subset: int | None = None, max_width: int = 32, root: str | os.PathLike | None = None,
              sentences: dict[str, list] | None = None) -> Data:
    """The shipped EWT r2.16 splits, encoded. ``subset``: keep the first ``subset`` sentences of
    each split (quick runs). Training types longer than ``max_width`` steps are left out of the
    training pairs (0.6 % of types: URLs and e-mail addresses); every token is still scored.
    ``sentences``: the splits already loaded with :func:`~rnnkit.data.load_ud_ewt_lemmas` (saves
    parsing them again)."""
    splits = sentences or {name: load_ud_ewt_lemmas(name, root=root) for name in ("train", "dev", "test")}
    if subset is not None:
        splits = {name: sentences[:subset] for name, sentences in splits.items()}
    train_words = [word for sentence in splits["train"] for word in sentence]
    train_types = sorted(set(train_words))
    vocab = build_vocabulary(train_types)

    def pairs(types):
        encoded = encode_pairs(types, vocab)
        keep = encoded.lengths <= max_width
        return Pairs(*(array[keep][:, :max_width] if array.ndim == 2 else array[keep]
                       for array in dataclasses.astuple(encoded)))

    dev_types = sorted({word for sentence in splits["dev"] for word in sentence})
    train_forms = {form for form, _, _ in train_words}
    return Data(vocab=vocab, train=pairs(train_types), dev=pairs(dev_types),
                words={name: _words(sentences, train_forms) for name, sentences in splits.items()},
                train_words=train_words)


def build_model(config: Config, data: Data) -> keras.Model:
    """The uncompiled teacher-forced training model."""
    return models.build_attention_seq2seq(len(data.vocab), len(data.vocab), units=config.units,
                                          embedding_dim=config.embedding_dim, attention=config.attention,
                                          bidirectional=config.bidirectional, dropout=config.dropout)


def batches(pairs: Pairs, config: Config, *, shuffle: bool, seed: int = 0) -> batching.BucketedBatches:
    return batching.BucketedBatches({"source": pairs.source, "decoder_input": pairs.decoder_input}, pairs.lengths,
                                    pairs.target, batch_size=config.batch_size if shuffle else 512,
                                    widths=config.widths, shuffle=shuffle, seed=seed,
                                    # the loss masks by the labels; step weights would follow the *source*
                                    # lengths and cut lemmas longer than their form ("wo" -> "will")
                                    step_weights=False)


def train(config: Config, seed: int, data: Data, *, callbacks: Sequence[keras.callbacks.Callback] = ()
          ) -> training.TrainResult:
    """Fit on the training types with the masked loss and accuracy; early stopping on dev loss."""
    keep = data.train.lengths <= max(config.widths)
    train_pairs = Pairs(*(array[keep] for array in dataclasses.astuple(data.train)))
    dev_keep = data.dev.lengths <= max(config.widths)
    dev_pairs = Pairs(*(array[dev_keep] for array in dataclasses.astuple(data.dev)))
    return training.train(
        lambda: build_model(config, data), batches(train_pairs, config, shuffle=True, seed=seed), seed=seed,
        loss=masked_sparse_crossentropy, metrics=[MaskedAccuracy()], learning_rate=config.learning_rate,
        validation_data=batches(dev_pairs, config, shuffle=False), epochs=config.epochs, patience=config.patience,
        batch_size=None, callbacks=callbacks,
    )


def predict_lemmas(model: keras.Model, data: Data, forms: Sequence[str], upos: Sequence[str], *,
                   beam_width: int = 1, batch_size: int = 512, return_attention: bool = False):
    """The model's lemma for each ``(form, upos)``: greedy decoding (``beam_width=1``) or beam
    search, each distinct pair decoded once. Returns a list of str (and, with
    ``return_attention`` and greedy decoding, a list of ``(lemma_length + 1, source_length)``
    attention matrices, the last row being the end token's)."""
    if len(forms) != len(upos):
        raise ValueError(f"{len(forms)} forms but {len(upos)} tags")
    inference = models.seq2seq_inference(model)
    def width_of(pair: tuple[str, str]) -> int:
        return next((w for w in _PREDICT_WIDTHS if w > len(pair[0])), len(pair[0]) + 1)

    unique = sorted(set(zip(forms, upos, strict=True)), key=lambda pair: (len(pair[0]), pair))
    chunks = []  # pairs of one width together: a long URL does not widen a batch of short words
    for width in sorted({width_of(pair) for pair in unique}):
        group = [pair for pair in unique if width_of(pair) == width]
        chunks += [(group[i: i + batch_size], width) for i in range(0, len(group), batch_size)]
    start, end = data.vocab[START], data.vocab[END]
    predicted: dict[tuple[str, str], str] = {}
    attention: dict[tuple[str, str], np.ndarray] = {}
    for chunk, width in chunks:
        source = np.zeros((len(chunk), width), dtype=np.int32)
        for row, (form, tag) in enumerate(chunk):
            source[row, : len(form) + 1] = [data.vocab[tag_token(tag)], *data.vocab.encode(form)]
        steps = width + 8  # lemmas are at most a few characters longer than their form
        if beam_width == 1:
            decoded = inference.greedy(source, steps=steps, start=start, end_token=end,
                                       return_attention=return_attention)
            tokens, weights = decoded if return_attention else (decoded, None)
        else:
            tokens = np.stack([beams[0][0] for beams in inference.beam_search(
                source, steps=steps, start=start, beam_width=beam_width, end_token=end)])
            weights = None
        for row, pair in enumerate(chunk):
            ids = list(tokens[row])
            length = ids.index(end) if end in ids else len(ids)
            predicted[pair] = "".join(data.vocab.tokens[i] for i in ids[:length])
            if weights is not None:
                attention[pair] = weights[row, : length + 1, : len(pair[0]) + 1]
    lemmas = [predicted[pair] for pair in zip(forms, upos, strict=True)]
    if return_attention:
        return lemmas, [attention[pair] for pair in zip(forms, upos, strict=True)]
    return lemmas


def score(predicted: Sequence[str], words: Words) -> dict[str, float]:
    """Exact-match accuracy overall / on seen / on unseen words, and mean edit distance."""
    correct = np.array([p == g for p, g in zip(predicted, words.lemmas, strict=True)])
    distance = np.array([edit_distance(p, g) for p, g in zip(predicted, words.lemmas, strict=True)])
    return {"accuracy": float(correct.mean()), "seen_accuracy": float(correct[~words.unseen].mean()),
            "unseen_accuracy": float(correct[words.unseen].mean()) if words.unseen.any() else float("nan"),
            "edit_distance": float(distance.mean())}


def hybrid(model_lemmas: Sequence[str], words: Words, lookup: LookupLemmatizer) -> list[str]:
    """The lookup's lemma for pairs seen in training, the model's for the rest."""
    return [lookup.lemmatize(form, tag) if lookup.known(form, tag) else guess
            for form, tag, guess in zip(words.forms, words.upos, model_lemmas, strict=True)]


def evaluate(model: keras.Model, data: Data, split: str, *, beam_width: int = 1) -> dict:
    """Scores of the model and of the hybrid (lookup for seen pairs, model for the rest) on
    ``split`` ("dev"/"validation" or "test", or "train"), plus ``"predictions"`` (one lemma per
    token) and ``"hybrid_predictions"``."""
    split = "dev" if split == "validation" else split
    if split not in data.words:
        raise ValueError(f"split must be one of {sorted(data.words)} or 'validation', got {split!r}")
    words = data.words[split]
    predicted = predict_lemmas(model, data, words.forms, words.upos, beam_width=beam_width)
    combined = hybrid(predicted, words, LookupLemmatizer(data.train_words))
    hybrid_scores = score(combined, words)
    return {**score(predicted, words), **{f"hybrid_{name}": value for name, value in hybrid_scores.items()},
            "predictions": predicted, "hybrid_predictions": combined}


def character_errors(model: keras.Model, data: Data, words: Sequence[tuple[str, str, str]], *,
                     positions: int = 12) -> dict[str, np.ndarray]:
    """Exposure bias, measured character by character: for every target character (the lemma's
    characters, then the end token) at positions ``1..positions``, is the model's character wrong
    when the decoder reads the *true* previous characters (teacher forcing) and when it reads *its
    own* (free running, greedy decoding)?

    ``words``: ``(form, upos, lemma)`` triples. Returns ``{"word": (m,) int, "position": (m,) int,
    "teacher_forcing": (m,) bool, "free_running": (m,) bool}``, one entry per target character:
    ``word`` indexes ``words`` (resample it to bootstrap over words), ``position`` counts from 1.
    A free-running guess that ended early is wrong at the positions it never wrote.
    """
    if positions < 1:
        raise ValueError(f"positions must be >= 1, got {positions}")
    pairs = encode_pairs(words, data.vocab)
    teacher = batching.BucketedBatches({"source": pairs.source, "decoder_input": pairs.decoder_input}, pairs.lengths,
                                       batch_size=512, widths=_PREDICT_WIDTHS, shuffle=False)
    forced = [logits.argmax(-1) for logits in batching.predict_bucketed(model, teacher)]
    free = predict_lemmas(model, data, [w[0] for w in words], [w[1] for w in words])
    end = data.vocab[END]
    word, position, wrong_forced, wrong_free = [], [], [], []
    for row, lemma in enumerate(free):
        truth = pairs.target[row][pairs.target[row] > 0]  # lemma characters + end
        guess = np.array([*data.vocab.encode(lemma), end])
        for t in range(min(positions, len(truth))):
            word.append(row)
            position.append(t + 1)
            wrong_forced.append(forced[row][t] != truth[t])
            wrong_free.append(t >= len(guess) or guess[t] != truth[t])
    return {"word": np.array(word, dtype=int), "position": np.array(position, dtype=int),
            "teacher_forcing": np.array(wrong_forced, dtype=bool), "free_running": np.array(wrong_free, dtype=bool)}


def error_by_position(errors: dict[str, np.ndarray], *, positions: int = 12) -> dict[str, np.ndarray]:
    """The share of wrong characters at each output position ``1..positions``, from
    :func:`character_errors`. Returns ``{"teacher_forcing": (positions,), "free_running":
    (positions,), "count": (positions,)}``; ``count[t-1]`` characters sit at position t (0 where
    none do, and then both shares are 0)."""
    index = np.asarray(errors["position"]) - 1
    if index.size and (index.min() < 0 or index.max() >= positions):
        raise ValueError(f"positions must lie in 1..{positions}, got {index.min() + 1}..{index.max() + 1}")
    count = np.bincount(index, minlength=positions).astype(float)
    seen = np.maximum(count, 1)
    return {mode: np.bincount(index, weights=np.asarray(errors[mode], float), minlength=positions) / seen
            for mode in ("teacher_forcing", "free_running")} | {"count": count}


def run(config: Config, seed: int, data: Data) -> dict:
    """Grid entry point: train, score the dev split only (exact match by decoding, model and
    hybrid); return the scalars plus ``history`` (loss, accuracy, val_loss, val_accuracy per epoch)."""
    result = train(config, seed, data)
    scores = evaluate(result.model, data, "dev", beam_width=config.beam_width)
    return {**{f"val_{name}": value for name, value in scores.items() if not name.endswith("predictions")},
            "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
            "s_per_epoch": result.steady_epoch_seconds, "history": result.history}
