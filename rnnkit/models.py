"""Keras model builders. Required inputs positional, hyper-parameters keyword-only; every builder
returns an uncompiled ``keras.Model`` with named inputs and layers."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["RECURRENT_LAYERS", "build_many_to_one", "build_seq2seq", "greedy_decode", "recurrent_layer"]

RECURRENT_LAYERS = {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def recurrent_layer(cell: str, units: int, *, return_sequences: bool = False, name: str | None = None, **kwargs):
    """``keras.layers.SimpleRNN/LSTM/GRU`` by name (``"simple_rnn"``, ``"lstm"``, ``"gru"``)."""
    if cell not in RECURRENT_LAYERS:
        raise ValueError(f"cell must be one of {sorted(RECURRENT_LAYERS)}, got {cell!r}")
    if units < 1:
        raise ValueError(f"units must be >= 1, got {units}")
    return RECURRENT_LAYERS[cell](units, return_sequences=return_sequences, name=name, **kwargs)


def build_many_to_one(
    steps: int | None,
    features: int,
    outputs: int,
    *,
    cell: str = "lstm",
    units: int = 32,
    recurrent_initializer: str | keras.initializers.Initializer = "orthogonal",
) -> keras.Model:
    """Many-to-one: a recurrent layer's last state -> ``Dense(outputs)`` (linear).

    ``inputs: (batch, steps, features) float32`` -> ``(batch, outputs)``.
    """
    inputs = keras.Input((steps, features), name="inputs")
    state = recurrent_layer(cell, units, name=cell, recurrent_initializer=recurrent_initializer)(inputs)
    prediction = keras.layers.Dense(outputs, name="prediction")(state)
    return keras.Model(inputs, prediction, name=f"{cell}_many_to_one")


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


def greedy_decode(model: keras.Model, source: np.ndarray, *, steps: int, start_token: int) -> np.ndarray:
    """Decode without teacher forcing: feed back the model's own argmax, one step at a time.

    ``source: (batch, S) int`` -> ``(batch, steps) int32``.
    """
    batch = source.shape[0]
    decoded = np.full((batch, 1), start_token, dtype=np.int32)
    for _ in range(steps):
        logits = model.predict({"source": source, "decoder_input": decoded}, verbose=0, batch_size=512)
        decoded = np.concatenate([decoded, logits[:, -1].argmax(-1)[:, None].astype(np.int32)], axis=1)
    return decoded[:, 1:]
