import jax
import keras
import numpy as np
import pytest

from rnnkit import attention


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(2, 3, 4)).astype("float32"), rng.normal(size=(2, 5, 4)).astype("float32"))


def test_dot_product_attention_equals_keras():
    query, values = inputs()
    layer = keras.layers.Attention()
    expected, expected_weights = layer([query, values], return_attention_scores=True)
    context, weights = attention.attend(attention.dot_product_scores(query, values), values)
    np.testing.assert_allclose(context, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(weights).sum(-1), 1.0, rtol=1e-6)


def test_additive_attention_equals_keras():
    query, values = inputs(1)
    keras.utils.set_random_seed(0)
    layer = keras.layers.AdditiveAttention()
    expected, expected_weights = layer([query, values], return_attention_scores=True)
    v = np.asarray(layer.scale)
    context, weights = attention.attend(attention.additive_scores(query, values, v), values)
    np.testing.assert_allclose(context, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-5, atol=1e-6)


def test_dot_and_additive_scores_differ():
    query, values = inputs(2)
    dot = attention.dot_product_scores(query, values)
    additive = attention.additive_scores(query, values)
    assert dot.shape == additive.shape == (2, 3, 5)
    assert float(jax.numpy.abs(dot - additive).max()) > 0.1
    assert attention.dot_product_scores(query, values, scale=2.0) == pytest.approx(2 * np.asarray(dot))
