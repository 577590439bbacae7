import math

import numpy as np
import pytest

from rnnkit.ngram import KneserNey, unigram_nll

TEXT = np.array([0, 1, 2, 0, 1, 3, 0, 1, 2, 2, 0, 3, 1, 0, 1, 2])  # 16 ids, vocab 5 (id 4 unseen)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_probabilities_sum_to_one_for_seen_and_unseen_contexts(order):
    model = KneserNey(order, 5).fit(TEXT)
    contexts = [TEXT[i:i + order - 1] for i in range(len(TEXT) - order + 1)] + [np.full(order - 1, 4)]
    for context in contexts:
        histories = np.repeat(np.asarray(context)[None, :], 5, axis=0)
        probs = model.prob(histories, np.arange(5))
        assert probs.min() > 0  # every character, even the unseen id 4, keeps some mass
        assert math.isclose(probs.sum(), 1.0, rel_tol=1e-12)


def test_bigram_matches_the_formula_by_hand():
    model = KneserNey(2, 5).fit(TEXT)
    d1, d2 = model.discounts
    # continuation counts N1+(.w): distinct left neighbours of w over the bigrams of TEXT
    bigrams = set(zip(TEXT[:-1], TEXT[1:], strict=True))
    cont = np.array([len({a for a, b in bigrams if b == w}) for w in range(5)], dtype=float)
    p1 = (np.maximum(cont - d1, 0) + d1 * (cont > 0).sum() / 5) / cont.sum()
    # P(1 | 0): c(0 1) = 4 of c(0 .) = 5, two distinct followers of 0 (1 and 3)
    expected = (4 - d2) / 5 + d2 * 2 / 5 * p1[1]
    assert math.isclose(model.prob(np.array([[0]]), np.array([1]))[0], expected, rel_tol=1e-12)
    # unseen context 4: backs off to the continuation unigram
    assert math.isclose(model.prob(np.array([[4]]), np.array([2]))[0], p1[2], rel_tol=1e-12)


def test_discounts_from_count_of_counts():
    model = KneserNey(2, 5).fit(TEXT)
    codes, counts = np.unique(TEXT[:-1] * 5 + TEXT[1:], return_counts=True)
    n1, n2 = (counts == 1).sum(), (counts == 2).sum()
    assert model.discounts[1] == pytest.approx(n1 / (n1 + 2 * n2))


def test_nll_uses_only_the_past_and_matches_prob():
    model = KneserNey(3, 5).fit(TEXT)
    ids = np.array([0, 1, 2, 0, 4, 1])
    nll = model.nll(ids, start=2)
    assert nll.shape == (4,)
    expected = -np.log(model.prob(np.array([[0, 1], [1, 2], [2, 0], [0, 4]]), np.array([2, 0, 4, 1])))
    np.testing.assert_allclose(nll, expected)
    changed = ids.copy()
    changed[-1] = 3  # changing a later character never changes an earlier score
    np.testing.assert_allclose(model.nll(changed, start=2)[:-1], nll[:-1])
    with pytest.raises(ValueError, match="start must be >= order - 1"):
        model.nll(ids, start=1)


def test_higher_order_fits_repetitive_text_better():
    text = np.tile(np.array([0, 1, 2, 3, 1, 2, 0]), 50)
    scores = [KneserNey(n, 4).fit(text).nll(text, start=5).mean() for n in (1, 2, 3)]
    assert scores[0] > scores[1] > scores[2]


def test_unigram_and_bad_input():
    nll = unigram_nll(TEXT, np.array([0, 4]), 5, alpha=1.0)
    counts = np.bincount(TEXT, minlength=5) + 1.0
    np.testing.assert_allclose(nll, -np.log(counts[[0, 4]] / counts.sum()))
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 5\)"):
        KneserNey(2, 5).fit(np.array([0, 1, 7, 2]))
    with pytest.raises(ValueError, match="order must be >= 1"):
        KneserNey(0, 5)
    with pytest.raises(RuntimeError, match="fit"):
        KneserNey(2, 5).prob(np.array([[0]]), np.array([1]))
