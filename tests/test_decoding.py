"""rnnkit.decoding on a step function whose answers we can compute by hand: a bigram table."""

import itertools

import numpy as np
import pytest

from rnnkit import decoding

VOCAB = 4


def bigram_step(table: np.ndarray):
    """Next-token log-probs depend on the previous token only; state counts steps (to test reordering)."""
    log_table = np.log(table)

    def step(tokens, state):
        (count,) = state
        return log_table[tokens], [count + 1]

    return step


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    raw = rng.random((VOCAB, VOCAB)) ** 3 + 0.01
    return raw / raw.sum(axis=1, keepdims=True)


def brute_force(table, start, steps):
    """Every sequence with its log-probability, best first."""
    scored = []
    for sequence in itertools.product(range(VOCAB), repeat=steps):
        previous, total = start, 0.0
        for token in sequence:
            total += np.log(table[previous, token])
            previous = token
        scored.append((total, sequence))
    return sorted(scored, reverse=True)


def test_greedy_follows_the_argmax_chain(table):
    tokens, log_prob = decoding.greedy(bigram_step(table), [np.zeros(2)], start=np.array([0, 3]), steps=5)
    for row, start in enumerate((0, 3)):
        previous, expected = start, 0.0
        for t in range(5):
            best = int(table[previous].argmax())
            assert tokens[row, t] == best
            expected += np.log(table[previous, best])
            previous = best
        assert log_prob[row] == pytest.approx(expected)


def test_beam_width_one_equals_greedy(table):
    step = bigram_step(table)
    tokens, log_prob = decoding.greedy(step, [np.zeros(3)], start=np.array([0, 1, 2]), steps=6)
    beams = decoding.beam_search(step, [np.zeros(3)], start=np.array([0, 1, 2]), steps=6, beam_width=1)
    for row in range(3):
        (best, score), = beams[row]
        np.testing.assert_array_equal(best, tokens[row])
        assert score == pytest.approx(log_prob[row])


def test_wide_beam_finds_the_exact_best_sequences_in_score_order(table):
    steps = 4
    exact = brute_force(table, 2, steps)
    # a beam as wide as all prefixes of length steps-1 is exhaustive
    beams = decoding.beam_search(bigram_step(table), [np.zeros(1)], start=2, steps=steps, beam_width=VOCAB ** 3)[0]
    scores = [score for _, score in beams]
    assert scores == sorted(scores, reverse=True)
    for (score, sequence), (tokens, beam_score) in zip(exact[:5], beams[:5], strict=True):
        assert tuple(tokens) == sequence
        assert beam_score == pytest.approx(score)


def test_beam_search_can_beat_greedy():
    # from 0: greedy takes 1 (0.6) then is stuck with 0.5; 2 (0.4) leads to 0.99
    table = np.array([[0.01, 0.6, 0.39, 0.0],
                      [0.25, 0.25, 0.25, 0.25],
                      [0.0, 0.0, 0.01, 0.99],
                      [0.25, 0.25, 0.25, 0.25]]) + 1e-9
    table /= table.sum(axis=1, keepdims=True)
    step = bigram_step(table)
    greedy_tokens, greedy_score = decoding.greedy(step, [np.zeros(1)], start=0, steps=2)
    (best, best_score), _ = decoding.beam_search(step, [np.zeros(1)], start=0, steps=2, beam_width=2)[0]
    assert list(greedy_tokens[0]) == [1, 0]
    assert list(best) == [2, 3]
    assert best_score > greedy_score[0]


def test_state_rows_follow_their_beams():
    # the step checks that each row's state remembers its own last token
    def step(tokens, state):
        (last,) = state
        np.testing.assert_array_equal(last, tokens)
        log_probs = np.log(np.full((len(tokens), VOCAB), 1.0 / VOCAB))
        log_probs[:, 1] += 0.1
        return log_probs, [tokens.copy()]

    decoding.beam_search(step, [np.array([0, 3])], start=np.array([0, 3]), steps=1, beam_width=3)
    with pytest.raises(AssertionError):  # the check inside the step really fires
        step(np.array([1]), [np.array([2])])


def test_sampling_is_reproducible_and_near_zero_temperature_is_greedy(table):
    step = bigram_step(table)
    first = decoding.sample(step, [np.zeros(4)], start=0, steps=20, seed=7)
    again = decoding.sample(step, [np.zeros(4)], start=0, steps=20, seed=7)
    other = decoding.sample(step, [np.zeros(4)], start=0, steps=20, seed=8)
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], other[0])
    cold = decoding.sample(step, [np.zeros(4)], start=0, steps=20, seed=7, temperature=1e-4)
    greedy_tokens, greedy_score = decoding.greedy(step, [np.zeros(4)], start=0, steps=20)
    np.testing.assert_array_equal(cold[0], greedy_tokens)
    np.testing.assert_allclose(cold[1], greedy_score)


def test_sample_log_prob_is_the_model_likelihood(table):
    tokens, log_prob = decoding.sample(bigram_step(table), [np.zeros(2)], start=1, steps=8, seed=3, temperature=2.0)
    for row in range(2):
        previous, expected = 1, 0.0
        for token in tokens[row]:
            expected += np.log(table[previous, token])
            previous = token
        assert log_prob[row] == pytest.approx(expected)


def test_top_k_one_is_greedy_and_top_k_limits_choices(table):
    step = bigram_step(table)
    tokens, _ = decoding.sample(step, [np.zeros(50)], start=0, steps=1, seed=0, top_k=1, temperature=5.0)
    assert set(tokens[:, 0]) == {int(table[0].argmax())}
    tokens, _ = decoding.sample(step, [np.zeros(500)], start=0, steps=1, seed=0, top_k=2)
    assert set(tokens[:, 0]) == set(np.argsort(table[0])[-2:])


def test_end_token_stops_a_row_and_its_score():
    table = np.array([[0.1, 0.1, 0.7, 0.1]] * VOCAB)  # token 2 is likely everywhere; 2 is the end
    tokens, log_prob = decoding.greedy(bigram_step(table), [np.zeros(1)], start=0, steps=5, end_token=2)
    assert list(tokens[0]) == [2, 2, 2, 2, 2]
    assert log_prob[0] == pytest.approx(np.log(0.7))
    beams = decoding.beam_search(bigram_step(table), [np.zeros(1)], start=0, steps=5, beam_width=2, end_token=2)[0]
    assert list(beams[0][0]) == [2, 2, 2, 2, 2]
    assert beams[0][1] == pytest.approx(np.log(0.7))


@pytest.mark.parametrize("kwargs, message", [
    ({"beam_width": 0}, "beam_width"), ({"beam_width": 2, "steps": 0}, "steps")])
def test_bad_arguments(table, kwargs, message):
    arguments = {"start": 0, "steps": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        decoding.beam_search(bigram_step(table), [np.zeros(1)], **arguments)
    with pytest.raises(ValueError, match="temperature"):
        decoding.sample(bigram_step(table), [np.zeros(1)], start=0, steps=2, seed=0, temperature=0)
