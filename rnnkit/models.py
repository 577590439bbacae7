"""Keras model builders. Required inputs positional, hyper-parameters keyword-only; every builder
returns an uncompiled ``keras.Model`` with named inputs and layers."""

from __future__ import annotations

import operator
import os
from dataclasses import dataclass

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

__all__ = [
    "ATTENTIONS",
    "POOLINGS",
    "RECURRENT_LAYERS",
    "CharCNN",
    "Seq2SeqInference",
    "build_attention_seq2seq",
    "build_language_model",
    "build_language_model_step",
    "build_many_to_one",
    "build_seq2seq",
    "build_tagger",
    "build_text_classifier",
    "greedy_decode",
    "recurrent_layer",
    "seq2seq_inference",
]

RECURRENT_LAYERS = {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
#: How a many-to-one model turns the sequence of states into one vector.
POOLINGS = ("last", "mean")


def recurrent_layer(cell: str, units: int, *, return_sequences: bool = False, name: str | None = None, **kwargs):
    """``keras.layers.SimpleRNN/LSTM/GRU`` by name (``"simple_rnn"``, ``"lstm"``, ``"gru"``)."""
    if cell not in RECURRENT_LAYERS:
        raise ValueError(f"cell must be one of {sorted(RECURRENT_LAYERS)}, got {cell!r}")
    if units < 1:
        raise ValueError(f"units must be >= 1, got {units}")
    units = operator.index(units)  # NumPy integers (e.g. from a results table) -> int
    return RECURRENT_LAYERS[cell](units, return_sequences=return_sequences, name=name, **kwargs)


def recurrent_stack(
    sequence,
    *,
    cell: str,
    units: int,
    layers: int = 1,
    bidirectional: bool = False,
    return_sequences: bool = False,
    dropout: float = 0.0,
    name: str = "recurrent",
    **layer_kwargs,
):
    """``layers`` recurrent layers on ``sequence: (batch, time, features)`` (masks flow through).

    Layer ``i`` (1-based) is named ``f"{name}_{i}"`` (the Bidirectional wrapper gets the name).
    Returns ``(batch, time, units·d)`` if ``return_sequences`` else ``(batch, units·d)``, with
    ``d = 2`` for bidirectional layers. ``dropout`` is applied between layers.
    """
    if layers < 1:
        raise ValueError(f"layers must be >= 1, got {layers}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    for index in range(1, layers + 1):
        last = index == layers
        layer = recurrent_layer(cell, units, return_sequences=return_sequences or not last,
                                name=None if bidirectional else f"{name}_{index}", **layer_kwargs)
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"{name}_{index}")
        sequence = layer(sequence)
        if dropout and (not last or return_sequences):
            sequence = keras.layers.Dropout(dropout, name=f"dropout_{index}")(sequence)
    return sequence


def _pool(states, pooling: str, cell: str, units: int, layers: int, bidirectional: bool, dropout: float,
          **layer_kwargs):
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    pooled = recurrent_stack(states, cell=cell, units=units, layers=layers, bidirectional=bidirectional,
                             return_sequences=pooling == "mean", dropout=dropout, **layer_kwargs)
    if pooling == "mean":  # GlobalAveragePooling1D honours the mask: the mean runs over real steps only
        pooled = keras.layers.GlobalAveragePooling1D(name="mean_over_time")(pooled)
    return pooled


def build_many_to_one(
    steps: int | None,
    features: int,
    outputs: int,
    *,
    cell: str = "lstm",
    units: int = 32,
    layers: int = 1,
    bidirectional: bool = False,
    pooling: str = "last",
    dropout: float = 0.0,
    recurrent_initializer: str | keras.initializers.Initializer = "orthogonal",
) -> keras.Model:
    """Many-to-one regression: recurrent stack -> pooled state -> ``Dense(outputs)`` (linear).

    ``inputs: (batch, steps, features) float32`` -> ``(batch, outputs)``. ``pooling="last"`` reads
    the final state, ``"mean"`` the mean of all states over time (the stock report's head). A single
    unidirectional last-state layer is named ``cell`` (e.g. ``"lstm"``); stacks ``recurrent_1..n``.
    """
    inputs = keras.Input((steps, features), name="inputs")
    if layers == 1 and not bidirectional and pooling == "last":
        state = recurrent_layer(cell, units, name=cell, recurrent_initializer=recurrent_initializer)(inputs)
    else:
        state = _pool(inputs, pooling, cell, units, layers, bidirectional, dropout,
                      recurrent_initializer=recurrent_initializer)
    prediction = keras.layers.Dense(outputs, name="prediction")(state)
    return keras.Model(inputs, prediction, name=f"{cell}_many_to_one")


def _embedding(vocab_size: int, embedding_dim: int, embeddings: np.ndarray | None, trainable: bool, name: str,
               mask_zero: bool = True):
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be >= 2 (padding + one token), got {vocab_size}")
    if embeddings is not None:
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.shape[0] != vocab_size:
            raise ValueError(f"embeddings has {embeddings.shape[0]} rows, vocab_size is {vocab_size}")
        embedding_dim = embeddings.shape[1]
    return keras.layers.Embedding(
        vocab_size, embedding_dim, mask_zero=mask_zero, trainable=trainable, name=name,
        embeddings_initializer=(keras.initializers.Constant(embeddings) if embeddings is not None else "uniform"),
    )


def build_text_classifier(
    vocab_size: int,
    *,
    cell: str = "lstm",
    units: int = 64,
    layers: int = 1,
    bidirectional: bool = False,
    pooling: str = "mean",
    embedding_dim: int = 64,
    embeddings: np.ndarray | None = None,
    trainable_embeddings: bool = True,
    dropout: float = 0.0,
    mask_zero: bool = True,
) -> keras.Model:
    """Binary text classifier: ``Embedding(mask_zero=True)`` -> recurrent stack -> pooling -> sigmoid.

    ``tokens: (batch, time) int32`` (0 = padding, ignored everywhere through the mask) ->
    ``probability: (batch, 1)`` of the positive class. ``embeddings``: an optional
    ``(vocab_size, dim)`` initial matrix (e.g. GloVe), frozen unless ``trainable_embeddings``.
    ``mask_zero=False`` builds the same network without the mask: padding then runs through the
    recurrent layers and enters the mean (the unmasked models of the original report).
    """
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    embedded = _embedding(vocab_size, embedding_dim, embeddings, trainable_embeddings, "embedding",
                          mask_zero=mask_zero)(tokens)
    if dropout:
        embedded = keras.layers.Dropout(dropout, name="embedding_dropout")(embedded)
    pooled = _pool(embedded, pooling, cell, units, layers, bidirectional, dropout)
    if dropout:
        pooled = keras.layers.Dropout(dropout, name="pooled_dropout")(pooled)
    probability = keras.layers.Dense(1, activation="sigmoid", name="probability")(pooled)
    direction = "bi" if bidirectional else "uni"
    return keras.Model(tokens, probability, name=f"{direction}_{cell}_x{layers}_{pooling}")


@keras.saving.register_keras_serializable(package="rnnkit")
class CharCNN(keras.layers.Layer):
    """A word's characters -> one vector: embedding, 1-D convolution over characters, max over them.

    ``chars: (batch, words, chars_per_word) int32`` (0 = padding) -> ``(batch, words, filters)``,
    masked where a word has no character (a padded word).
    """

    def __init__(self, char_vocab_size: int, *, embedding_dim: int = 24, filters: int = 64,
                 kernel_size: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.char_vocab_size, self.embedding_dim = char_vocab_size, embedding_dim
        self.filters, self.kernel_size = filters, kernel_size
        self.embedding = keras.layers.Embedding(char_vocab_size, embedding_dim, name="char_embedding")
        self.convolution = keras.layers.Conv2D(
            filters, (1, kernel_size), padding="same", activation="relu", name="char_convolution"
        )

    def build(self, input_shape):
        self.embedding.build(input_shape)
        self.convolution.build((*input_shape, self.embedding_dim))

    def call(self, chars):
        features = self.convolution(self.embedding(chars))  # (batch, words, chars, filters)
        return keras.ops.max(features, axis=2)

    def compute_mask(self, chars, mask=None):
        # A padded word has no characters. Concatenate combines masks with "any", so without this
        # mask the all-True char features would unmask the padding of the word embedding.
        return keras.ops.any(keras.ops.not_equal(chars, 0), axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], self.filters)

    def get_config(self):
        return {**super().get_config(), "char_vocab_size": self.char_vocab_size,
                "embedding_dim": self.embedding_dim, "filters": self.filters, "kernel_size": self.kernel_size}


def build_tagger(
    vocab_size: int,
    num_tags: int,
    *,
    cell: str = "lstm",
    units: int = 64,
    layers: int = 1,
    bidirectional: bool = True,
    embedding_dim: int = 50,
    embeddings: np.ndarray | None = None,
    trainable_embeddings: bool = True,
    char_vocab_size: int | None = None,
    char_filters: int = 64,
    char_embedding_dim: int = 24,
    char_kernel_size: int = 3,
    dropout: float = 0.0,
) -> keras.Model:
    """Sequence tagger: one softmax over ``num_tags`` per word.

    Inputs ``words: (batch, time) int32`` (0 = padding) and, if ``char_vocab_size`` is given,
    ``chars: (batch, time, chars_per_word) int32`` read by a :class:`CharCNN` (``char_embedding_dim``,
    ``char_filters`` filters of width ``char_kernel_size``) and concatenated with the word embedding. Output ``tags: (batch, time, num_tags)`` probabilities; the mask of
    ``words`` reaches the output, so Keras' loss and metrics skip padded positions.
    """
    if num_tags < 2:
        raise ValueError(f"num_tags must be >= 2, got {num_tags}")
    words = keras.Input((None,), dtype="int32", name="words")
    inputs = [words]
    features = _embedding(vocab_size, embedding_dim, embeddings, trainable_embeddings, "word_embedding")(words)
    if char_vocab_size is not None:
        chars = keras.Input((None, None), dtype="int32", name="chars")
        inputs.append(chars)
        char_features = CharCNN(char_vocab_size, embedding_dim=char_embedding_dim, filters=char_filters,
                                kernel_size=char_kernel_size, name="char_cnn")(chars)
        features = keras.layers.Concatenate(name="word_and_chars")([features, char_features])
    if dropout:
        features = keras.layers.Dropout(dropout, name="input_dropout")(features)
    states = recurrent_stack(features, cell=cell, units=units, layers=layers, bidirectional=bidirectional,
                             return_sequences=True, dropout=dropout)
    tags = keras.layers.Dense(num_tags, activation="softmax", name="tags")(states)
    direction = "bi" if bidirectional else "uni"
    chars_part = "_chars" if char_vocab_size is not None else ""
    return keras.Model(inputs, tags, name=f"{direction}_{cell}_x{layers}{chars_part}_tagger")


def build_seq2seq(
    vocab_size: int,
    *,
    units: int = 64,
    embedding_dim: int = 16,
    attention: bool = False,
) -> keras.Model:
    """LSTM encoder-decoder trained with teacher forcing.

    Inputs ``source: (batch, S) int32`` and ``decoder_input: (batch, T) int32``; output
    ``logits: (batch, T, vocab_size)``. The decoder starts from the encoder's final state. With
    ``attention=True`` each decoder step also reads a dot-product (Luong) attention summary of all
    encoder outputs (layer ``"attention"``, whose scores :func:`greedy_decode` can return).
    """
    source = keras.Input((None,), dtype="int32", name="source")
    decoder_input = keras.Input((None,), dtype="int32", name="decoder_input")
    embed = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
    encoder_outputs, h, c = keras.layers.LSTM(units, return_sequences=True, return_state=True, name="encoder")(
        embed(source)
    )
    decoder_outputs = keras.layers.LSTM(units, return_sequences=True, name="decoder")(
        embed(decoder_input), initial_state=[h, c]
    )
    if attention:
        context = keras.layers.Attention(name="attention")([decoder_outputs, encoder_outputs])
        decoder_outputs = keras.layers.Concatenate(name="with_context")([decoder_outputs, context])
    logits = keras.layers.Dense(vocab_size, name="logits")(decoder_outputs)
    return keras.Model([source, decoder_input], logits, name="seq2seq_attention" if attention else "seq2seq")


def greedy_decode(model: keras.Model, source: np.ndarray, *, steps: int, start_token: int,
                  return_attention: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Decode without teacher forcing: feed back the model's own argmax, one step at a time.

    Runs the encoder once and a one-step decoder ``steps`` times (:func:`seq2seq_inference`; no
    recompilation per step). Works for :func:`build_seq2seq` and :func:`build_attention_seq2seq`
    models. ``source: (batch, S) int`` -> ``(batch, steps) int32``; with ``return_attention`` also
    the attention weights ``(batch, steps, S)`` of each output step (zeros without attention).
    """
    return seq2seq_inference(model).greedy(source, steps=steps, start=start_token,
                                           return_attention=return_attention)


#: score functions of :func:`build_attention_seq2seq` (``"none"``: no attention)
ATTENTIONS = ("none", "dot", "additive")


def build_attention_seq2seq(
    source_vocab_size: int,
    target_vocab_size: int,
    *,
    units: int = 64,
    embedding_dim: int = 32,
    attention: str = "dot",
    bidirectional: bool = True,
    dropout: float = 0.0,
) -> keras.Model:
    """LSTM encoder-decoder with optional attention, trained with teacher forcing (report eq. 12).

    Inputs ``source: (batch, S) int32`` (0 = padding, masked) and ``decoder_input: (batch, T)
    int32`` (the target shifted right behind a start token); output ``logits: (batch, T,
    target_vocab_size)``. Without a Keras mask on the output: losses mask padding themselves
    (:func:`rnnkit.losses.masked_sparse_crossentropy`).

    * ``encoder``: a (bidirectional) LSTM with ``units`` per direction; its final ``h``, ``c``
      (both directions concatenated) start the ``decoder`` LSTM, which has ``units·d`` units
      (``d = 2`` if bidirectional) so its state can be compared with the encoder outputs.
    * ``attention``: ``"dot"`` (:class:`rnnkit.layers.DotProductAttention`) or ``"additive"``
      (:class:`rnnkit.layers.AdditiveAttention`) reads the encoder outputs with each decoder output
      as query (Luong's placement: after the decoder LSTM); ``"none"`` skips it.
    * ``attentional``: ``tanh(W [h_t; c_t])`` (just ``tanh(W h_t)`` without attention), then
      ``logits``.

    :func:`seq2seq_inference` builds the encoder and the one-step decoder from these layers.
    """
    from rnnkit.layers import AdditiveAttention, DotProductAttention

    if attention not in ATTENTIONS:
        raise ValueError(f"attention must be one of {ATTENTIONS}, got {attention!r}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    units = operator.index(units)
    decoder_units = units * (2 if bidirectional else 1)
    source = keras.Input((None,), dtype="int32", name="source")
    decoder_input = keras.Input((None,), dtype="int32", name="decoder_input")
    embedded_source = _embedding(source_vocab_size, embedding_dim, None, True, "source_embedding")(source)
    encoder = keras.layers.LSTM(units, return_sequences=True, return_state=True, name=None if bidirectional else "encoder")
    if bidirectional:
        encoder = keras.layers.Bidirectional(encoder, name="encoder")
        encoder_outputs, h_forward, c_forward, h_backward, c_backward = encoder(embedded_source)
        h = keras.layers.Concatenate(name="encoder_h")([h_forward, h_backward])
        c = keras.layers.Concatenate(name="encoder_c")([c_forward, c_backward])
    else:
        encoder_outputs, h, c = encoder(embedded_source)
    if target_vocab_size < 2:
        raise ValueError(f"target_vocab_size must be >= 2, got {target_vocab_size}")
    embedded_target = keras.layers.Embedding(target_vocab_size, embedding_dim, name="target_embedding")(decoder_input)
    decoder_outputs, _, _ = keras.layers.LSTM(decoder_units, return_sequences=True, return_state=True,
                                              name="decoder")(embedded_target, initial_state=[h, c])
    features = decoder_outputs
    if attention != "none":
        layer = (DotProductAttention(name="attention") if attention == "dot"
                 else AdditiveAttention(decoder_units, name="attention"))
        # called with its weights (unused here) so that seq2seq_inference can call it the same way:
        # a Keras functional layer must return the same structure at every call
        context, _ = layer([decoder_outputs, encoder_outputs], return_attention_scores=True)
        features = keras.layers.Concatenate(name="with_context")([decoder_outputs, context])
    if dropout:
        features = keras.layers.Dropout(dropout, name="dropout")(features)
    attentional = keras.layers.Dense(decoder_units, activation="tanh", name="attentional")(features)
    logits = keras.layers.Dense(target_vocab_size, name="logits")(attentional)
    return keras.Model([source, decoder_input], logits, name=f"seq2seq_{attention}_attention")


def _bucket(rows: int) -> int:
    """Rows padded up to a power of two (at least 8): few distinct shapes, so few compilations."""
    return max(8, 1 << (rows - 1).bit_length())


@dataclass
class Seq2SeqInference:
    """A trained seq2seq model split for decoding: ``encoder`` runs once per source, ``decoder``
    advances one token. Both share the trained model's layers (and weights).

    ``encoder``: ``source (batch, S)`` -> ``[encoder_outputs (batch, S, d), h (batch, d), c (batch, d)]``.
    ``decoder``: ``[token (batch, 1), h, c, encoder_outputs, source_mask (batch, S) float]`` ->
    ``[logits (batch, 1, vocab), h, c, weights (batch, 1, S)]``.

    Calls go through ``predict_on_batch`` with the rows padded to a power of two, so each
    (rows, S) shape compiles once and every later step reuses it.
    """

    encoder: keras.Model
    decoder: keras.Model

    def initial_state(self, source: np.ndarray) -> list[np.ndarray]:
        """``[h, c, encoder_outputs, source_mask]`` — the state :mod:`rnnkit.decoding` carries."""
        source = np.asarray(source, dtype=np.int32)
        outputs, h, c = self._call(self.encoder, [source])
        return [h, c, outputs, (source != 0).astype(np.float32)]

    def step_with_attention(self, tokens: np.ndarray, state: list[np.ndarray]):
        """``(log_probs (batch, vocab), new_state, weights (batch, S))`` for ``tokens: (batch,)``."""
        h, c, outputs, mask = state
        tokens = np.asarray(tokens, dtype=np.int32)[:, None]
        logits, h, c, weights = self._call(self.decoder, [tokens, h, c, outputs, mask])
        logits = logits[:, 0].astype(np.float64)
        log_probs = logits - logits.max(axis=1, keepdims=True)
        log_probs -= np.log(np.exp(log_probs).sum(axis=1, keepdims=True))
        return log_probs, [h, c, outputs, mask], weights[:, 0]

    def step(self, tokens: np.ndarray, state: list[np.ndarray]):
        """The step function of :mod:`rnnkit.decoding`: ``(log_probs, new_state)``."""
        log_probs, state, _ = self.step_with_attention(tokens, state)
        return log_probs, state

    def greedy(self, source: np.ndarray, *, steps: int, start: int, end_token: int | None = None,
               return_attention: bool = False):
        """:func:`rnnkit.decoding.greedy` from ``source: (batch, S)``: tokens ``(batch, steps)``, and
        with ``return_attention`` the weights ``(batch, steps, S)`` each step put on the source."""
        from rnnkit import decoding

        weights: list[np.ndarray] = []

        def step(tokens, state):
            log_probs, state, attended = self.step_with_attention(tokens, state)
            weights.append(attended)
            return log_probs, state

        tokens, _ = decoding.greedy(step, self.initial_state(source), start=start, steps=steps, end_token=end_token)
        if not return_attention:
            return tokens
        attention = np.zeros((tokens.shape[0], steps, np.shape(source)[1]), dtype=np.float32)
        attention[:, : len(weights)] = np.stack(weights, axis=1)
        return tokens, attention

    def beam_search(self, source: np.ndarray, *, steps: int, start: int, beam_width: int,
                    end_token: int | None = None):
        """:func:`rnnkit.decoding.beam_search` from ``source: (batch, S)``."""
        from rnnkit import decoding

        return decoding.beam_search(self.step, self.initial_state(source), start=start, steps=steps,
                                    beam_width=beam_width, end_token=end_token)

    @staticmethod
    def _call(model: keras.Model, inputs: list[np.ndarray]) -> list[np.ndarray]:
        rows = inputs[0].shape[0]
        padded = _bucket(rows)
        inputs = [np.concatenate([a, np.zeros((padded - rows, *a.shape[1:]), a.dtype)]) if padded > rows else a
                  for a in inputs]
        return [np.asarray(output)[:rows] for output in model.predict_on_batch(inputs[0] if len(inputs) == 1 else inputs)]


def seq2seq_inference(model: keras.Model) -> Seq2SeqInference:
    """Encoder model + one-step decoder model sharing the layers of a trained seq2seq model.

    Works for :func:`build_attention_seq2seq` (layers ``source_embedding``, ``encoder``,
    ``target_embedding``, ``decoder``, ``attention``?, ``attentional``, ``logits``) and for
    :func:`build_seq2seq` (``embedding``, ``encoder``, ``decoder``, ``attention``?, ``logits``).
    The keras-io ``lstm_seq2seq`` pattern: no weights are copied, nothing is retrained.
    """
    names = {layer.name for layer in model.layers}
    new_layout = "source_embedding" in names
    source = keras.Input((None,), dtype="int32", name="source")
    if new_layout:
        embedded = model.get_layer("source_embedding")(source)
        encoded = model.get_layer("encoder")(embedded)
        if len(encoded) == 5:  # bidirectional: outputs, h and c of each direction
            outputs = encoded[0]
            h = model.get_layer("encoder_h")([encoded[1], encoded[3]])
            c = model.get_layer("encoder_c")([encoded[2], encoded[4]])
        else:
            outputs, h, c = encoded
    else:
        outputs, h, c = model.get_layer("encoder")(model.get_layer("embedding")(source))
    encoder = keras.Model(source, [outputs, h, c], name=f"{model.name}_encoder")

    units_out = outputs.shape[-1]
    units_state = h.shape[-1]
    token = keras.Input((1,), dtype="int32", name="token")
    h_in = keras.Input((units_state,), name="h")
    c_in = keras.Input((units_state,), name="c")
    outputs_in = keras.Input((None, units_out), name="encoder_outputs")
    mask_in = keras.Input((None,), name="source_mask")
    if new_layout:
        step_output, h_out, c_out = model.get_layer("decoder")(model.get_layer("target_embedding")(token),
                                                               initial_state=[h_in, c_in])
    else:  # build_seq2seq's decoder returns sequences only: step its cell directly
        embedded_token = keras.ops.squeeze(model.get_layer("embedding")(token), axis=1)
        step_output, (h_out, c_out) = model.get_layer("decoder").cell(embedded_token, [h_in, c_in])
        step_output = keras.ops.expand_dims(step_output, 1)
    features = step_output
    if "attention" in names:
        attention = model.get_layer("attention")
        if new_layout:
            context, weights = attention([step_output, outputs_in], mask=[None, mask_in], return_attention_scores=True)
        else:  # keras.layers.Attention (dot score, no scale, no padding mask): its weights written out
            context = attention([step_output, outputs_in])
            weights = keras.ops.softmax(keras.ops.matmul(step_output, keras.ops.swapaxes(outputs_in, 1, 2)), axis=-1)
        features = model.get_layer("with_context")([step_output, context])
    else:
        weights = keras.ops.zeros_like(keras.ops.expand_dims(mask_in, 1))
    if new_layout:
        features = model.get_layer("attentional")(features)
    logits = model.get_layer("logits")(features)
    decoder = keras.Model([token, h_in, c_in, outputs_in, mask_in], [logits, h_out, c_out, weights],
                          name=f"{model.name}_one_step_decoder")
    return Seq2SeqInference(encoder=encoder, decoder=decoder)

def build_language_model(
    vocab_size: int,
    *,
    cell: str = "lstm",
    units: int = 256,
    layers: int = 1,
    embedding_dim: int = 32,
    dropout: float = 0.0,
    stateful: bool = False,
    batch_size: int | None = None,
) -> keras.Model:
    """Character (or token) language model: ``Embedding`` -> recurrent stack -> ``Dense(vocab)`` logits.

    ``tokens: (batch, time) int32`` -> ``logits: (batch, time, vocab_size)``, one next-token
    distribution per position (no mask: every id is a real token). ``stateful=True`` (needs a fixed
    ``batch_size``) keeps each layer's final state as the initial state of the next call, row by row
    — truncated BPTT over a stream whose batch row i continues row i of the previous batch; reset
    with ``model.reset_state()``. Layers: ``embedding``, ``recurrent_1..n``, ``dropout_1..n`` (when
    ``dropout``) and ``logits``; :func:`build_language_model_step` reuses them.
    """
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
    if stateful and batch_size is None:
        raise ValueError("stateful=True needs a fixed batch_size (each row's state is kept)")
    tokens = keras.Input((None,), batch_size=batch_size, dtype="int32", name="tokens")
    states = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")(tokens)
    states = recurrent_stack(states, cell=cell, units=units, layers=layers, return_sequences=True, dropout=dropout,
                             stateful=stateful)
    logits = keras.layers.Dense(vocab_size, name="logits")(states)
    model = keras.Model(tokens, logits, name=f"{cell}{units}x{layers}_language_model")
    if stateful:
        _track_rnn_states(model)
    return model


def _track_rnn_states(model: keras.Model) -> None:
    """Make the state variables of stateful recurrent layers part of the model's state.

    Keras creates them untracked, so the JAX trainer's stateless steps (``fit``, ``predict``,
    ``predict_on_batch``) neither read nor write them: each batch would silently start from zero.
    Tracked, they travel with the non-trainable variables and the state is carried (tested).
    """
    for layer in model.layers:
        if getattr(layer, "stateful", False) and layer.states is not None:
            tracked = {id(variable) for variable in layer.non_trainable_variables}
            layer._tracker.unlock()
            for variable in keras.tree.flatten(layer.states):
                if id(variable) not in tracked:
                    layer._track_variable(variable)
            layer._tracker.lock()


class _CellStep(keras.layers.Layer):
    """One step of a recurrent layer's cell (shared, not copied): ``(x, [states]) -> (h, [states])``.
    A wrapper because Keras names every LSTM layer's cell ``lstm_cell`` and a model needs unique names."""

    def __init__(self, cell: keras.layers.Layer, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell

    def call(self, inputs, states):
        output, new_states = self.cell(inputs, list(states), training=False)
        return output, list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]


def build_language_model_step(model: keras.Model) -> keras.Model:
    """A one-step twin of a :func:`build_language_model` model that shares its layers (and weights).

    Inputs ``token: (batch,) int32`` and ``state_1 .. state_m`` (the recurrent cells' states,
    ``(batch, units)`` each: LSTM ``h, c`` per layer, GRU / SimpleRNN ``h``) -> outputs
    ``log_probs: (batch, vocab)`` and the new states in the same order. Dropout is not applied
    (inference). Called with fixed shapes it compiles once, however many steps are decoded.
    """
    embedding, logits = model.get_layer("embedding"), model.get_layer("logits")
    recurrent = []
    index = 1
    while any(layer.name == f"recurrent_{index}" for layer in model.layers):
        recurrent.append(model.get_layer(f"recurrent_{index}"))
        index += 1
    if not recurrent:
        raise ValueError(f"{model.name}: no layer named recurrent_1; build it with build_language_model")
    token = keras.Input((), dtype="int32", name="token")
    hidden = embedding(token)
    inputs, outputs = [token], []
    for number, layer in enumerate(recurrent, start=1):
        state_sizes = layer.cell.state_size if isinstance(layer.cell.state_size, (list, tuple)) else [layer.cell.state_size]
        state = [keras.Input((size,), name=f"state_{number}_{k}") for k, size in enumerate(state_sizes, start=1)]
        inputs.extend(state)
        hidden, new_state = _CellStep(layer.cell, name=f"step_{number}")(hidden, state)
        outputs.extend(new_state if isinstance(new_state, (list, tuple)) else [new_state])
    log_probs = keras.layers.Activation("log_softmax", name="log_probs")(logits(hidden))
    return keras.Model(inputs, [log_probs, *outputs], name=f"{model.name}_step")
