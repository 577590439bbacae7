"""rnnkit.layers: attention written out equals Keras' attention layers on the same weights."""

import keras
import numpy as np
import pytest

from rnnkit.layers import AdditiveAttention, DotProductAttention

RNG = np.random.default_rng(0)
QUERY = RNG.normal(size=(2, 3, 4)).astype("float32")  # (batch, Tq, dim)
VALUE = RNG.normal(size=(2, 5, 4)).astype("float32")  # (batch, Tv, dim)
VALUE_MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)  # row 0: 2 padded positions
QUERY_MASK = np.array([[1, 1, 0], [1, 1, 1]], dtype=bool)


@pytest.mark.parametrize("use_scale", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_dot_product_equals_keras_attention(use_scale, masked):
    mine, theirs = DotProductAttention(use_scale=use_scale), keras.layers.Attention(use_scale=use_scale)
    mask = [QUERY_MASK, VALUE_MASK] if masked else None
    context, weights = mine([QUERY, VALUE], mask=mask, return_attention_scores=True)
    theirs([QUERY, VALUE])  # build
    if use_scale:
        mine.scale.assign(0.7)
        theirs.scale.assign(0.7)
        context, weights = mine([QUERY, VALUE], mask=mask, return_attention_scores=True)
    expected_context, expected_weights = theirs([QUERY, VALUE], mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(context, expected_context, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(weights).sum(-1), 1.0, rtol=1e-5)
    if masked:
        assert np.all(np.asarray(weights)[0, :, 3:] == 0.0)  # padded source positions get no weight


def test_dot_product_by_hand():
    """e = q·k, alpha = softmax(e), c = sum alpha v, for one query and 3 source steps."""
    query = np.array([[[1.0, 0.0]]], dtype="float32")
    value = np.array([[[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]]], dtype="float32")
    context, weights = DotProductAttention()([query, value], return_attention_scores=True)
    scores = np.array([2.0, 0.0, 1.0])
    alpha = np.exp(scores) / np.exp(scores).sum()
    np.testing.assert_allclose(weights[0, 0], alpha, rtol=1e-6)
    np.testing.assert_allclose(context[0, 0], alpha @ value[0], rtol=1e-6)


@pytest.mark.parametrize("masked", [False, True])
def test_additive_equals_keras_additive_attention_on_projected_inputs(masked):
    mine = AdditiveAttention(6)
    mask = [QUERY_MASK, VALUE_MASK] if masked else None
    context, weights = mine([QUERY, VALUE], mask=mask, return_attention_scores=True)
    w_query = np.asarray(mine.query_projection.kernel)
    w_key = np.asarray(mine.key_projection.kernel)
    theirs = keras.layers.AdditiveAttention(use_scale=True)
    projected = [QUERY @ w_query, VALUE, VALUE @ w_key]  # [query, value, key]: keys projected, values not
    theirs(projected)
    theirs.scale.assign(np.asarray(mine.score_vector))
    expected_context, expected_weights = theirs(projected, mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(context, expected_context, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-5, atol=1e-6)
    assert mine.count_params() == 4 * 6 + 4 * 6 + 6  # W_q, W_k, w


def test_additive_score_by_hand():
    layer = AdditiveAttention(3)
    _, weights = layer([QUERY, VALUE], return_attention_scores=True)
    w_q, w_k, w = (np.asarray(v) for v in (layer.query_projection.kernel, layer.key_projection.kernel,
                                           layer.score_vector))
    scores = np.tanh((QUERY @ w_q)[:, :, None, :] + (VALUE @ w_k)[:, None, :, :]) @ w  # (batch, Tq, Tv)
    expected = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    np.testing.assert_allclose(weights, expected, rtol=1e-5, atol=1e-6)


def test_errors_and_save_reload(tmp_path):
    with pytest.raises(ValueError, match="same size, got 4 and 3"):
        DotProductAttention()([QUERY, VALUE[..., :3]])
    with pytest.raises(ValueError, match=r"takes \[query, value\]"):
        DotProductAttention()(QUERY)
    with pytest.raises(ValueError, match="units must be >= 1"):
        AdditiveAttention(0)
    query, value = keras.Input((None, 4)), keras.Input((None, 4))
    model = keras.Model([query, value], AdditiveAttention(5, name="attention")([query, value]))
    path = tmp_path / "attention.keras"
    model.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path).predict([QUERY, VALUE], verbose=0),
                               model.predict([QUERY, VALUE], verbose=0), rtol=1e-6)
