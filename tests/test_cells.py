import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from rnnkit import cells

BATCH, TIME, FEATURES = 3, 7, 5
LENGTHS = np.array([7, 4, 2])


def keras_stack(kind: str, *, layers: int, bidirectional: bool, seed: int, **options):
    """A functional Keras model (inputs, mask) -> sequences, with random weights and biases."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((TIME, FEATURES), name="inputs")
    mask = keras.Input((TIME,), dtype="bool", name="mask")
    x, recurrent = inputs, []
    for units in (4, 3)[:layers]:
        layer = getattr(keras.layers, kind)(units, return_sequences=True, **options)
        if bidirectional:
            layer = keras.layers.Bidirectional(layer)
        x = layer(x, mask=mask)
        recurrent.append(layer)
    rng = np.random.default_rng(seed)
    for layer in recurrent:
        for weight in layer.weights:  # non-zero biases too, so bias handling is tested
            weight.assign(rng.normal(scale=0.5, size=weight.shape).astype("float32"))
    return keras.Model([inputs, mask], x), recurrent


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU", "GRU-cho"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
def test_from_scratch_equals_keras(kind, bidirectional, layers, masked):
    options = {"reset_after": False} if kind == "GRU-cho" else {}
    model, recurrent = keras_stack(kind.removesuffix("-cho"), layers=layers, bidirectional=bidirectional, seed=layers,
                                   **options)
    x = np.random.default_rng(0).normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    mask = np.arange(TIME)[None, :] < (LENGTHS if masked else np.full(BATCH, TIME))[:, None]
    expected = np.asarray(model([x, mask]))
    ours = np.asarray(cells.run_layers([cells.from_keras(layer) for layer in recurrent], jnp.asarray(x), mask=mask))
    assert ours.shape == expected.shape == (BATCH, TIME, (3 if layers == 2 else 4) * (2 if bidirectional else 1))
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


def test_go_backwards_layer_matches_keras():
    keras.utils.set_random_seed(0)
    layer = keras.layers.GRU(4, return_sequences=True, go_backwards=True)
    x = np.random.default_rng(1).normal(size=(2, 6, 3)).astype("float32")
    expected = np.asarray(layer(x))
    spec = cells.from_keras(layer)
    assert spec.go_backwards
    # Keras returns go_backwards outputs in reversed time order
    np.testing.assert_allclose(cells.run_layer(spec, jnp.asarray(x))[:, ::-1], expected, rtol=1e-5, atol=1e-6)


def test_mask_carries_state_and_repeats_output():
    params = cells.init_params("lstm", 2, 3, seed=0)
    x = jax.random.normal(jax.random.key(0), (1, 5, 2))
    mask = jnp.array([[True, True, False, False, False]])
    outputs, (h, c) = cells.scan_rnn("lstm", params, x, mask=mask)
    short, (h_short, c_short) = cells.scan_rnn("lstm", params, x[:, :2])
    np.testing.assert_allclose(h, h_short, rtol=1e-6)
    np.testing.assert_allclose(c, c_short, rtol=1e-6)
    np.testing.assert_allclose(outputs[:, 2:], jnp.repeat(short[:, -1:], 3, axis=1), rtol=1e-6)
    zeros, _ = cells.scan_rnn("lstm", params, x, mask=mask, zero_output_for_mask=True)
    assert float(jnp.abs(zeros[:, 2:]).max()) == 0.0


def test_init_params_spectral_radius_and_forget_bias():
    params = cells.init_params("simple_rnn", 3, 8, seed=0, spectral_radius=1.5)
    assert float(jnp.max(jnp.abs(jnp.linalg.eigvals(params["U"])))) == pytest.approx(1.5, rel=1e-4)
    lstm = cells.init_params("lstm", 3, 8, seed=0)
    assert lstm["W"].shape == (3, 32) and lstm["U"].shape == (8, 32)
    np.testing.assert_array_equal(lstm["b"][8:16], 1.0)
    assert cells.init_params("gru", 3, 8, seed=0)["b"].shape == (2, 24)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="cell must be one of"):
        cells.init_params("rnn", 3, 4, seed=0)
    with pytest.raises(ValueError, match="expected a keras SimpleRNN, LSTM or GRU layer, got Dense"):
        cells.from_keras(keras.layers.Dense(2))


@pytest.mark.parametrize("reset_after", [True, False])
def test_both_gru_forms_equal_keras(reset_after):
    keras.utils.set_random_seed(3)
    layer = keras.layers.GRU(4, return_sequences=True, reset_after=reset_after,
                             bias_initializer=keras.initializers.RandomNormal(stddev=0.5))
    x = np.random.default_rng(2).normal(size=(2, 6, 3)).astype("float32")
    expected = np.asarray(layer(x))
    spec = cells.from_keras(layer)
    assert spec.cell == ("gru" if reset_after else "gru_cho")
    assert spec.params["b"].shape == ((2, 12) if reset_after else (12,))
    np.testing.assert_allclose(cells.run_layer(spec, jnp.asarray(x)), expected, rtol=1e-5, atol=1e-6)


def test_cho_gru_differs_from_reset_after_on_the_same_weights():
    """Same W, U and input bias (recurrent bias 0): the two forms differ only in where r is applied."""
    params = cells.init_params("gru", 3, 5, seed=0)
    params["U"] = 2.0 * params["U"]
    cho = {"W": params["W"], "U": params["U"], "b": params["b"][0]}
    x = jax.random.normal(jax.random.key(1), (4, 3))
    h = jax.random.normal(jax.random.key(2), (4, 5))
    (after,) = cells.gru_step(params, (h,), x)
    (before,) = cells.gru_cho_step(cho, (h,), x)
    assert float(jnp.abs(after - before).max()) > 1e-2
    # with the reset gate fully open (r = 1) the two forms coincide
    open_gate = {k: v for k, v in params.items()}
    open_gate["b"] = params["b"].at[0, 5:10].set(50.0)
    (after,) = cells.gru_step(open_gate, (h,), x)
    (before,) = cells.gru_cho_step({"W": params["W"], "U": params["U"], "b": open_gate["b"][0]}, (h,), x)
    np.testing.assert_allclose(after, before, atol=1e-6)


@pytest.mark.parametrize("kind,cell,extra", [("SimpleRNN", "simple_rnn", {}), ("LSTM", "lstm", {}),
                                              ("GRU", "gru", {}), ("GRU", "gru_cho", {"reset_after": False})])
@pytest.mark.parametrize("features,units", [(1, 1), (5, 16), (7, 3)])
def test_parameter_count_formula_equals_keras(kind, cell, extra, features, units):
    layer = getattr(keras.layers, kind)(units, **extra)
    layer.build((None, 4, features))
    assert cells.parameter_count(cell, features, units) == layer.count_params()


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_from_keras_refuses_a_non_default_recurrent_activation(kind):
    layer = getattr(keras.layers, kind)(4, recurrent_activation="hard_sigmoid")
    layer.build((None, 3, 2))
    with pytest.raises(ValueError, match="only the default sigmoid recurrent_activation is supported, got 'hard_sigmoid'"):
        cells.from_keras(layer)
    default = getattr(keras.layers, kind)(4)
    default.build((None, 3, 2))
    assert cells.from_keras(default).params["W"].shape == (2, 4 * (4 if kind == "LSTM" else 3))
