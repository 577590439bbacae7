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
