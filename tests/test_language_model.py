import dataclasses
import math

import keras
import numpy as np
import pytest

from rnnkit import decoding, models, training
from rnnkit.tasks import language_model as lm


@pytest.fixture(scope="module")
def data():
    return lm.load_data(train_chars=4_000, eval_chars=3_000)


def test_load_data_vocab_bounds_and_round_trip(data):
    assert len(data.vocab) == 65 and data.vocab[0] == "\n"
    assert data.bounds == {"train": (0, 4_000), "validation": (1_003_854, 1_006_854),
                           "test": (1_059_624, 1_062_624)}
    assert data.decode(data.split("train")[:14]) == "First Citizen:"
    assert data.decode(data.encode("ROMEO:\n")) == "ROMEO:\n"
    with pytest.raises(ValueError, match=r"not in the vocabulary"):
        data.encode("é")
    with pytest.raises(ValueError, match="split must be one of"):
        data.split("holdout")


def test_stream_batches_row_i_continues_row_i():
    ids = np.arange(1_000) % 97
    inputs, targets = lm.stream_batches(ids, 4, 10, offset=3)
    row_len = (1_000 - 3 - 1) // 4
    assert inputs.shape == targets.shape == (row_len // 10, 4, 10)
    np.testing.assert_array_equal(inputs[:, :, 1:], targets[:, :, :-1])  # targets = inputs shifted by one
    np.testing.assert_array_equal(inputs[1:, :, 0], targets[:-1, :, -1])  # batch k+1 continues batch k
    for row in range(4):  # each row reads a contiguous piece of the stream
        np.testing.assert_array_equal(inputs[:, row].reshape(-1), ids[3 + row * row_len: 3 + row * row_len + inputs.shape[0] * 10])
    with pytest.raises(ValueError, match="hold 2 batches"):
        lm.stream_batches(np.arange(100), 4, 10, steps=3)


def test_random_windows_are_slices_of_the_stream():
    ids = np.arange(500, dtype=np.int32)
    inputs, targets = lm.random_windows(ids, 6, 8, seed=1)
    assert inputs.shape == (6, 8)
    np.testing.assert_array_equal(np.diff(inputs, axis=1), 1)  # consecutive ids: one contiguous window
    np.testing.assert_array_equal(targets, inputs + 1)
    np.testing.assert_array_equal(lm.random_windows(ids, 6, 8, seed=1)[0], inputs)  # seeded


def test_text_batches_move_the_truncation_points_each_epoch():
    ids = np.arange(2_000, dtype=np.int32) % 50
    batches = lm.TextBatches(ids, 4, 16, stateful=True, seed=0)
    first = batches[0][0].copy()
    steps = len(batches)
    offsets = set()
    for _ in range(5):
        batches.on_epoch_end()
        assert len(batches) == steps
        offsets.add(int(batches[0][0][0, 0]))
    assert first[0, 0] == 0 and len(offsets) > 1


def test_stateful_layer_carries_the_state_across_batches():
    keras.utils.set_random_seed(0)
    stateless = models.build_language_model(11, cell="lstm", units=6, embedding_dim=4)
    stateful = models.build_language_model(11, cell="lstm", units=6, embedding_dim=4, stateful=True, batch_size=2)
    for target, source in zip(stateful.trainable_variables, stateless.trainable_variables, strict=True):
        target.assign(np.array(source.value))
    tokens = np.random.default_rng(0).integers(0, 11, (2, 12)).astype("int32")
    whole = stateless.predict(tokens, verbose=0)
    first = stateful.predict_on_batch(tokens[:, :6])
    second = stateful.predict_on_batch(tokens[:, 6:])  # continues from the state the first call left
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-5)
    fresh = stateless.predict(tokens[:, 6:], verbose=0)
    assert np.abs(second - fresh).max() > 1e-3  # a zero state gives different predictions
    for layer in stateful.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()
    np.testing.assert_allclose(stateful.predict_on_batch(tokens[:, 6:]), fresh, atol=1e-5)
    with pytest.raises(ValueError, match="needs a fixed batch_size"):
        models.build_language_model(11, stateful=True)


def test_fit_carries_the_state_from_batch_to_batch():
    """Keras creates stateful RNN states untracked, and the JAX trainer's fit would start each batch
    from zero; build_language_model tracks them. After fit on two consecutive batches at learning
    rate 0, the layer's state is the one the whole stream leaves."""
    keras.utils.set_random_seed(0)
    stateful = models.build_language_model(11, cell="gru", units=5, embedding_dim=3, stateful=True, batch_size=2)
    stream = np.random.default_rng(1).integers(0, 11, (2, 13)).astype("int32")
    batches = np.concatenate([stream[:, :6], stream[:, 6:12]])  # batch 0 = rows 0-1, batch 1 continues them
    stateful.compile(keras.optimizers.SGD(0.0), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    stateful.fit(batches, np.concatenate([stream[:, 1:7], stream[:, 7:13]]), batch_size=2, shuffle=False, verbose=0)
    carried = np.array(stateful.get_layer("recurrent_1").states[0].value)
    twin = models.build_language_model(11, cell="gru", units=5, embedding_dim=3)
    for target, source in zip(twin.trainable_variables, stateful.trainable_variables, strict=True):
        target.assign(np.array(source.value))
    expected = keras.Model(twin.input, twin.get_layer("recurrent_1").output).predict(stream[:, :12], verbose=0)[:, -1]
    np.testing.assert_allclose(carried, expected, atol=1e-5)


def test_char_nll_scores_every_character_once_with_context(data):
    keras.utils.set_random_seed(0)
    model = lm.build_model(lm.Config(units=8, embedding_dim=4), data)
    nll = lm.char_nll(model, data, "validation", rows=7, burn_in=5)
    assert nll.shape == (3_000,)
    start = data.bounds["validation"][0]  # row 0 by hand: 5 characters of train as context
    row_len = math.ceil(3_000 / 7)
    inputs = data.ids[start - 6: start + row_len - 1][None]
    logits = model.predict(inputs, verbose=0)[0, 5:].astype(np.float64)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -log_probs[np.arange(row_len), data.ids[start: start + row_len]]
    np.testing.assert_allclose(nll[:row_len], expected, rtol=1e-5)


def test_evaluate_units():
    class Uniform:
        @staticmethod
        def predict(inputs, **kwargs):
            return np.zeros((*inputs.shape, 65), dtype=np.float32)

    data = lm.load_data(train_chars=1_000, eval_chars=500)
    scores = lm.evaluate(Uniform(), data, "test")
    assert scores["nats"] == pytest.approx(math.log(65))  # uniform over 65 characters
    assert scores["bits"] == pytest.approx(math.log2(65))
    assert scores["perplexity"] == pytest.approx(65)
    assert scores["chars"] == 500


def test_train_run_history_and_stateless_twin(data):
    config = lm.Config(units=8, embedding_dim=4, batch_size=8, seq_len=20, epochs=2, learning_rate=3e-2)
    metrics = lm.run(config, 0, data)
    assert set(metrics["history"]) == {"loss", "val_loss"} and len(metrics["history"]["val_loss"]) == 2
    assert metrics["val_nats"] == pytest.approx(min(metrics["history"]["val_loss"]))  # best epoch kept
    assert metrics["val_nats"] < math.log(65)  # it learned something
    assert metrics["params"] == 65 * 4 + 4 * (8 * (4 + 8 + 1)) + 8 * 65 + 65
    assert metrics["params"] == lm.parameter_count("lstm", 8, vocab_size=65, embedding_dim=4)


def test_random_window_batches_are_redrawn_each_epoch():
    ids = np.arange(3_000, dtype=np.int32)
    batches = lm.TextBatches(ids, 4, 16, stateful=False, seed=0)
    first = batches[0][0].copy()
    np.testing.assert_array_equal(np.diff(first, axis=1), 1)  # each row one contiguous window
    assert len(batches) == ((3_000 - 17) // 4) // 16  # as many characters per epoch as the stream layout
    batches.on_epoch_end()
    assert not np.array_equal(batches[0][0], first)


def test_units_for_budget_matches_count_params():
    budget = lm.parameter_count("lstm", 32, vocab_size=65, embedding_dim=8)
    for cell in ("simple_rnn", "gru"):
        units = lm.units_for_budget(cell, budget, vocab_size=65, embedding_dim=8)
        count = models.build_language_model(65, cell=cell, units=units, embedding_dim=8).count_params()
        assert count == lm.parameter_count(cell, units, vocab_size=65, embedding_dim=8)
        assert abs(count - budget) < abs(lm.parameter_count(cell, units + 1, vocab_size=65, embedding_dim=8) - budget)


def test_decoder_step_matches_the_full_model_and_beam_width_one_is_greedy(data):
    keras.utils.set_random_seed(0)
    model = lm.build_model(lm.Config(cell="gru", units=8, embedding_dim=4, layers=2), data)
    step, prime = lm.decoder(model, data)
    text = "ROMEO:"
    state, last = prime(text, batch=1)
    log_probs, _ = step(np.array([last]), state)
    logits = model.predict(data.encode(text)[None], verbose=0)[0, -1].astype(np.float64)
    np.testing.assert_allclose(log_probs[0], logits - np.log(np.exp(logits).sum()), atol=1e-5)
    tokens, log_prob = decoding.greedy(step, state, start=last, steps=5)
    beams = decoding.beam_search(step, state, start=last, steps=5, beam_width=1)
    np.testing.assert_array_equal(beams[0][0][0], tokens[0])
    assert beams[0][0][1] == pytest.approx(log_prob[0], abs=1e-5)


def test_gradient_norm_trace_clips_like_fit(data):
    config = lm.Config(cell="simple_rnn", units=8, embedding_dim=4, batch_size=4, seq_len=10, learning_rate=1e-2)
    clipped = lm.gradient_norm_trace(dataclasses.replace(config, global_clipnorm=1e-3), 0, data, steps=3)
    free = lm.gradient_norm_trace(dataclasses.replace(config, global_clipnorm=None), 0, data, steps=3)
    assert clipped["norm"][0] == pytest.approx(free["norm"][0])  # same start, the norm is taken before clipping
    assert clipped["norm"][0] > 1e-3
    # clipped to 1e-3, Adam still moves every weight by ~lr: the loss changes either way
    assert clipped["loss"][2] != pytest.approx(free["loss"][2])
    training.seed_everything(0)
