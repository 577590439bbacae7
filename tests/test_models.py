import keras
import numpy as np
import pytest

import rnnkit
from rnnkit import models
from rnnkit.data.synthetic import adding_task, reversal_task


def test_lazy_modules_and_unknown_attribute():
    assert rnnkit.cells.lstm_step is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        rnnkit.nope  # noqa: B018


def test_many_to_one_shapes_and_names():
    model = models.build_many_to_one(12, 2, 1, cell="gru", units=8)
    assert model.get_layer("gru").units == 8
    assert model.output_shape == (None, 1)
    assert not model.compiled  # builders return uncompiled models
    with pytest.raises(ValueError, match="cell must be one of"):
        models.build_many_to_one(12, 2, 1, cell="transformer")


def test_seq2seq_shapes_attention_and_save_reload(tmp_path):
    keras.utils.set_random_seed(0)
    model = models.build_seq2seq(12, units=8, attention=True)
    source, decoder_input, target = reversal_task(4, 5, seed=0)
    logits = model.predict({"source": source, "decoder_input": decoder_input}, verbose=0)
    assert logits.shape == (4, 5, 12)
    path = tmp_path / "seq2seq.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        reloaded.predict({"source": source, "decoder_input": decoder_input}, verbose=0), logits, rtol=1e-6
    )
    decoded = models.greedy_decode(model, source, steps=5, start_token=11)
    assert decoded.shape == (4, 5) and decoded.dtype == np.int32


def test_synthetic_tasks():
    x, y = adding_task(50, 10, seed=0)
    assert x.shape == (50, 10, 2) and y.shape == (50,)
    assert (x[:, :5, 1].sum(axis=1) == 1).all() and (x[:, 5:, 1].sum(axis=1) == 1).all()
    np.testing.assert_allclose(y, (x[..., 0] * x[..., 1]).sum(axis=1))
    source, decoder_input, target = reversal_task(3, 4, seed=1)
    np.testing.assert_array_equal(target, source[:, ::-1])
    np.testing.assert_array_equal(decoder_input[:, 0], 11)
    np.testing.assert_array_equal(decoder_input[:, 1:], target[:, :-1])
    with pytest.raises(ValueError, match="steps must be >= 2"):
        adding_task(5, 1, seed=0)


CELL_NAMES = ["simple_rnn", "lstm", "gru"]


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_text_classifier_ignores_padding(cell, bidirectional, pooling):
    keras.utils.set_random_seed(0)
    model = models.build_text_classifier(50, cell=cell, units=6, layers=2, bidirectional=bidirectional,
                                         pooling=pooling, embedding_dim=5)
    review = np.array([[3, 17, 4, 9, 22, 5]], dtype="int32")
    padded = np.concatenate([review, np.zeros((1, 300), dtype="int32")], axis=1)
    short, long = model.predict(review, verbose=0), model.predict(padded, verbose=0)
    assert short.shape == (1, 1)
    np.testing.assert_allclose(long, short, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_tagger_ignores_padding(cell, bidirectional):
    keras.utils.set_random_seed(0)
    model = models.build_tagger(40, 5, cell=cell, units=6, bidirectional=bidirectional, embedding_dim=4,
                                char_vocab_size=12, char_filters=3)
    words = np.array([[3, 7, 2]], dtype="int32")
    chars = np.random.default_rng(0).integers(1, 12, size=(1, 3, 6)).astype("int32")
    short = model.predict({"words": words, "chars": chars}, verbose=0)
    padded = model.predict({"words": np.pad(words, ((0, 0), (0, 20))),
                            "chars": np.pad(chars, ((0, 0), (0, 20), (0, 0)))}, verbose=0)
    assert short.shape == (1, 3, 5) and padded.shape == (1, 23, 5)
    np.testing.assert_allclose(padded[:, :3], short, rtol=1e-5, atol=1e-6)


def test_without_mask_padding_changes_the_prediction():
    """The control for the tests above: the same network without a mask reads the zeros."""
    keras.utils.set_random_seed(0)
    tokens = keras.Input((None,), dtype="int32")
    state = keras.layers.LSTM(6)(keras.layers.Embedding(50, 5)(tokens))
    model = keras.Model(tokens, keras.layers.Dense(1)(state))
    review = np.array([[3, 17, 4, 9]], dtype="int32")
    padded = np.pad(review, ((0, 0), (0, 300)))
    assert abs(float(model.predict(review, verbose=0)[0, 0] - model.predict(padded, verbose=0)[0, 0])) > 1e-4


def test_tagger_loss_and_accuracy_skip_padding():
    """A hand-made batch: 5 real tokens, 3 padded; the padded labels are wrong on purpose."""
    keras.utils.set_random_seed(0)
    model = models.build_tagger(20, 3, units=4, embedding_dim=4)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    words = np.array([[4, 5, 6, 0], [7, 8, 0, 0]], dtype="int32")
    probabilities = model.predict(words, verbose=0)
    predicted = probabilities.argmax(-1)
    mask = words != 0
    labels = np.where(mask, predicted, (predicted + 1) % 3)  # every real token right, every pad wrong
    labels[0, 0] = (predicted[0, 0] + 1) % 3  # ... except one: 4 of 5 real tokens right
    picked = np.take_along_axis(probabilities, labels[..., None], -1)[..., 0]
    expected_loss = float(-np.log(picked[mask]).mean())
    loss, accuracy = model.evaluate(words, labels, verbose=0)
    assert accuracy == pytest.approx(4 / 5)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert loss != pytest.approx(float(-np.log(picked).mean()), rel=1e-3)


def test_tagger_with_chars_save_reload(tmp_path):
    keras.utils.set_random_seed(0)
    model = models.build_tagger(30, 4, units=5, char_vocab_size=10, char_filters=3)
    inputs = {"words": np.array([[1, 2, 3, 0]], dtype="int32"),
              "chars": np.random.default_rng(1).integers(0, 10, size=(1, 4, 5)).astype("int32")}
    path = tmp_path / "tagger.keras"
    model.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path).predict(inputs, verbose=0),
                               model.predict(inputs, verbose=0), rtol=1e-6)


def test_builders_validate_arguments():
    with pytest.raises(ValueError, match="pooling must be one of"):
        models.build_text_classifier(10, pooling="max")
    with pytest.raises(ValueError, match="layers must be >= 1"):
        models.build_text_classifier(10, layers=0)
    with pytest.raises(ValueError, match="embeddings has 5 rows, vocab_size is 10"):
        models.build_text_classifier(10, embeddings=np.zeros((5, 3)))
    with pytest.raises(ValueError, match="num_tags must be >= 2"):
        models.build_tagger(10, 1)


def test_stacked_many_to_one_names_and_shapes():
    model = models.build_many_to_one(30, 6, 1, cell="simple_rnn", units=20, layers=2, pooling="mean")
    assert [layer.name for layer in model.layers] == ["inputs", "recurrent_1", "recurrent_2", "mean_over_time",
                                                      "prediction"]
    assert model.get_layer("recurrent_2").units == 20
    assert model.output.shape == (None, 1)
