import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnkit import cells, gradients


def problem(seed: int, *, T=12, d=3, n=5, m=2):
    keys = jax.random.split(jax.random.key(seed), 6)
    params = {
        "W": jax.random.normal(keys[0], (d, n)),
        "U": 0.6 * jax.random.normal(keys[1], (n, n)),
        "b": jax.random.normal(keys[2], (n,)),
    }
    return params, jax.random.normal(keys[3], (n, m)), jax.random.normal(keys[4], (T, d)), jax.random.normal(keys[5], (T, m))


@pytest.mark.parametrize("method", [gradients.bptt_gradients, gradients.rtrl_gradients], ids=["bptt", "rtrl"])
@pytest.mark.parametrize("seed", [0, 1])
def test_hand_written_gradients_equal_jax_grad(method, seed):
    with jax.enable_x64(True):
        params, V, x, y = problem(seed)
        assert x.dtype == jnp.float64
        expected = jax.grad(gradients.sequence_loss)(params, V, x, y)
        ours = method(params, V, x, y)
        for name in ("W", "U", "b"):
            assert ours[name].shape == expected[name].shape
            np.testing.assert_allclose(ours[name], expected[name], rtol=1e-5, atol=1e-10)


def test_bptt_and_rtrl_agree_in_float32():
    params, V, x, y = problem(3, T=30, n=8)
    bptt, rtrl = gradients.bptt_gradients(params, V, x, y), gradients.rtrl_gradients(params, V, x, y)
    for name in ("W", "U", "b"):
        np.testing.assert_allclose(bptt[name], rtrl[name], rtol=1e-4, atol=1e-5)


def test_state_gradient_norms_vanish_and_explode():
    x = 0.1 * jax.random.normal(jax.random.key(0), (4, 40, 3))
    small = cells.init_params("simple_rnn", 3, 16, seed=0, spectral_radius=0.5)
    norms = gradients.state_gradient_norms("simple_rnn", small, x)
    assert norms.shape == (40,)
    assert norms[-1] == pytest.approx(1.0, rel=1e-5)  # dl_T/dh_T = v, a unit vector
    assert norms[0] < 1e-6 * norms[-1]  # radius 0.5: vanished after 40 steps
    residual = gradients.state_gradient_norms("residual_rnn", small, x)
    assert residual[0] > 0.5  # the identity path keeps the gradient alive


def test_gradient_cost_reports_and_rejects():
    cost = gradients.gradient_cost("rtrl", 10, 4, features=3, repeats=1)
    assert set(cost) == {"method", "T", "n", "d", "seconds", "temp_bytes"}
    assert cost["T"] == 10 and cost["n"] == 4 and cost["d"] == 3 and cost["seconds"] > 0
    # RTRL keeps P_t, the (n, nd + n^2 + n) = (4, 32) sensitivity matrix: at least its 128 float32 numbers
    assert cost["temp_bytes"] >= 4 * 4 * (4 * 3 + 4 * 4 + 4)
    bptt_short = gradients.gradient_cost("bptt", 20, 8, repeats=1)["temp_bytes"]
    bptt_long = gradients.gradient_cost("bptt", 80, 8, repeats=1)["temp_bytes"]
    assert bptt_long > 2 * bptt_short  # BPTT keeps every state: memory grows with T
    with pytest.raises(ValueError, match="method must be 'bptt' or 'rtrl'"):
        gradients.gradient_cost("forward", 10, 4)


def test_state_gradient_norms_rejects_unknown_cell():
    params = cells.init_params("simple_rnn", 3, 4, seed=0)
    with pytest.raises(ValueError, match="cell must be one of"):
        gradients.state_gradient_norms("rnn", params, jnp.zeros((1, 5, 3)))


def test_step_jacobians_chain_to_jax_jacobian_and_obey_the_bound():
    with jax.enable_x64(True):
        params, _, x, _ = problem(0, T=12, n=5)
        k = 4
        hs = gradients.simple_rnn_states(params, x)
        product = jnp.eye(5)
        for J in gradients.step_jacobians(params, x[k:], hs[k - 1]):
            product = J @ product
        expected = jax.jacobian(lambda h: gradients.simple_rnn_states(params, x[k:], h)[-1])(hs[k - 1])
        np.testing.assert_allclose(product, expected, rtol=1e-10, atol=1e-12)
        bound = float(jnp.linalg.norm(params["U"], 2)) ** (12 - k)
        assert 0 < float(jnp.linalg.norm(expected, 2)) <= bound


def test_truncated_bptt_equals_full_gradient_only_for_a_long_window():
    with jax.enable_x64(True):
        params, V, x, y = problem(1, T=12)
        full = jax.grad(gradients.sequence_loss)(params, V, x, y)
        whole = jax.grad(gradients.truncated_sequence_loss)(params, V, x, y, window=12)
        short = jax.grad(gradients.truncated_sequence_loss)(params, V, x, y, window=3)
        for name in ("W", "U", "b"):
            np.testing.assert_allclose(whole[name], full[name], rtol=1e-12, atol=1e-12)
        assert float(jnp.abs(short["U"] - full["U"]).max()) > 1e-3
        # the loss itself is not changed by truncation
        assert float(gradients.truncated_sequence_loss(params, V, x, y, window=3)) == pytest.approx(
            float(gradients.sequence_loss(params, V, x, y)))
        with pytest.raises(ValueError, match="window must be >= 1"):
            gradients.truncated_sequence_loss(params, V, x, y, window=0)


def test_rtrl_sensitivities_equal_forward_mode_jacobians():
    with jax.enable_x64(True):
        params, _, x, _ = problem(2, T=6, d=2, n=3)
        P = gradients.rtrl_sensitivities(params, x)
        expected = jax.jacfwd(lambda p: gradients.simple_rnn_states(p, x))(params)  # (T, n, *param shape)
        for name in ("W", "U", "b"):
            assert P[name].shape == expected[name].shape
            np.testing.assert_allclose(P[name], expected[name], rtol=1e-10, atol=1e-12)
