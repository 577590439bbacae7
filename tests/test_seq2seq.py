"""Seq2seq inference as an encoder plus a one-step decoder (rnnkit.models.seq2seq_inference)."""

import keras
import numpy as np
import pytest

from rnnkit import decoding, models
from rnnkit.data.synthetic import reversal_task
from rnnkit.losses import masked_sparse_crossentropy

SOURCE = np.array([[5, 6, 7, 8, 0, 0], [9, 4, 3, 0, 0, 0]], dtype="int32")
DECODER_INPUT = np.array([[2, 5, 6, 7], [2, 9, 9, 4]], dtype="int32")


def log_softmax(logits):
    logits = logits - logits.max(-1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(-1, keepdims=True))


@pytest.mark.parametrize("attention", models.ATTENTIONS)
@pytest.mark.parametrize("bidirectional", [True, False], ids=["bi", "uni"])
def test_one_step_decoder_gives_the_teacher_forced_logits(attention, bidirectional):
    keras.utils.set_random_seed(0)
    model = models.build_attention_seq2seq(12, 10, units=6, embedding_dim=5, attention=attention,
                                           bidirectional=bidirectional)
    expected = log_softmax(model.predict({"source": SOURCE, "decoder_input": DECODER_INPUT}, verbose=0))
    inference = models.seq2seq_inference(model)
    state = inference.initial_state(SOURCE)
    for t in range(DECODER_INPUT.shape[1]):
        log_probs, state, weights = inference.step_with_attention(DECODER_INPUT[:, t], state)
        np.testing.assert_allclose(log_probs, expected[:, t], rtol=1e-4, atol=1e-5)
        if attention != "none":
            np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
            assert np.all(weights[SOURCE == 0] == 0.0)  # padded source characters get no attention
    # padding the source further changes nothing
    wider = model.predict({"source": np.pad(SOURCE, ((0, 0), (0, 7))), "decoder_input": DECODER_INPUT}, verbose=0)
    np.testing.assert_allclose(log_softmax(wider), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("attention", [False, True])
def test_greedy_decode_of_build_seq2seq_is_unchanged(attention):
    """The encoder + one-step decoder gives what re-running the whole model per step gave."""
    keras.utils.set_random_seed(1)
    model = models.build_seq2seq(12, units=8, attention=attention)
    source, _, _ = reversal_task(6, 5, seed=0)
    decoded = np.full((6, 1), 11, dtype=np.int32)
    for _ in range(5):  # the former implementation: the full teacher-forced model on the growing prefix
        logits = model.predict({"source": source, "decoder_input": decoded}, verbose=0)
        decoded = np.concatenate([decoded, logits[:, -1].argmax(-1)[:, None].astype(np.int32)], axis=1)
    tokens, weights = models.greedy_decode(model, source, steps=5, start_token=11, return_attention=True)
    np.testing.assert_array_equal(tokens, decoded[:, 1:])
    assert weights.shape == (6, 5, 5)
    if attention:
        np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)


def test_greedy_and_beam_decode_a_learned_copy():
    """A model trained to copy 3-6 symbols decodes unseen strings exactly, and beam width 1 is greedy."""
    rng = np.random.default_rng(0)
    start, end, n = 2, 3, 3000
    lengths = rng.integers(3, 7, size=n)
    symbols = [rng.integers(4, 10, size=length) for length in lengths]
    source = np.zeros((n, 7), dtype=np.int32)
    decoder_input, target = np.zeros_like(source), np.zeros_like(source)
    for row, string in enumerate(symbols):
        source[row, : len(string)] = string
        decoder_input[row, : len(string) + 1] = [start, *string]
        target[row, : len(string) + 1] = [*string, end]
    keras.utils.set_random_seed(0)
    model = models.build_attention_seq2seq(10, 10, units=16, embedding_dim=8, attention="dot")
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=masked_sparse_crossentropy)
    model.fit({"source": source[:2500], "decoder_input": decoder_input[:2500]}, target[:2500], epochs=6,
              batch_size=64, verbose=0)
    held_out = source[2500:]
    decoded = models.greedy_decode(model, held_out, steps=8, start_token=start)
    exact = [list(row[: row.tolist().index(end)]) if end in row else None for row in decoded]
    truth = [list(row[row > 0]) for row in held_out]
    assert np.mean([a == b for a, b in zip(exact, truth, strict=True)]) >= 0.95
    inference = models.seq2seq_inference(model)
    greedy, _ = decoding.greedy(inference.step, inference.initial_state(held_out[:20]), start=start, steps=8,
                                end_token=end)
    beams = inference.beam_search(held_out[:20], steps=8, start=start, beam_width=1, end_token=end)
    np.testing.assert_array_equal(np.stack([row[0][0] for row in beams]), greedy)
    wide = inference.beam_search(held_out[:20], steps=8, start=start, beam_width=3, end_token=end)
    for row in wide:
        scores = [score for _, score in row]
        assert scores == sorted(scores, reverse=True)


def test_attention_seq2seq_arguments_and_save_reload(tmp_path):
    with pytest.raises(ValueError, match="attention must be one of"):
        models.build_attention_seq2seq(10, 10, attention="luong")
    with pytest.raises(ValueError, match="dropout must be in"):
        models.build_attention_seq2seq(10, 10, dropout=1.0)
    keras.utils.set_random_seed(0)
    model = models.build_attention_seq2seq(10, 9, units=4, embedding_dim=3, attention="additive", dropout=0.1)
    assert model.output_shape == (None, None, 9) and not model.compiled
    path = tmp_path / "s2s.keras"
    model.save(path)
    inputs = {"source": SOURCE % 10, "decoder_input": DECODER_INPUT % 9}
    np.testing.assert_allclose(keras.saving.load_model(path).predict(inputs, verbose=0),
                               model.predict(inputs, verbose=0), rtol=1e-6)
