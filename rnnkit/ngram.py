"""Character n-gram language models in NumPy: the unigram distribution and interpolated Kneser-Ney.

Texts are integer id arrays ``ids: (n,) int`` with ids in ``[0, vocab_size)``. A k-gram
``w_1 .. w_k`` is stored as one integer code ``sum_j w_j · V^(k-j)`` (``V = vocab_size``), so
counting is ``np.unique`` and look-up is ``np.searchsorted`` — no Python loop over positions.

Interpolated Kneser-Ney (Chen & Goodman 1999, eq. 11-12) with one absolute discount ``D_k`` per
order. For the highest order ``n`` with raw counts ``c``:

    P(w | h) = max(c(hw) - D, 0) / c(h·)  +  D · N1+(h·) / c(h·) · P_lower(w | h')

where ``h'`` drops the oldest character of ``h``, ``c(h·) = Σ_w c(hw)`` and ``N1+(h·)`` is the
number of distinct characters seen after ``h``. Lower orders use the same formula with the
*continuation count* ``N1+(·hw)`` (how many distinct characters precede ``hw``) in place of
``c(hw)``; below the unigram sits the uniform distribution ``1/V``, so every character keeps a
probability above zero. A context never seen in
training (``c(h·) = 0``) backs off entirely to the lower order. Each level sums to one over the
vocabulary, so the whole model does (tested).
"""

from __future__ import annotations

import numpy as np

__all__ = ["KneserNey", "unigram_nll"]


def _codes(ids: np.ndarray, k: int, vocab_size: int) -> np.ndarray:
    """Codes of every k-gram of ``ids``: ``(len(ids) - k + 1,) int64``."""
    codes = np.zeros(len(ids) - k + 1, dtype=np.int64)
    for j in range(k):
        codes = codes * vocab_size + ids[j: len(ids) - k + 1 + j]
    return codes


def _check_ids(ids, vocab_size: int) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D integer array, got dtype {ids.dtype} and shape {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"ids must lie in [0, {vocab_size}), got [{ids.min()}, {ids.max()}]")
    return ids.astype(np.int64)


def unigram_nll(train_ids: np.ndarray, ids: np.ndarray, vocab_size: int, *, alpha: float = 1.0) -> np.ndarray:
    """Per-character negative log-likelihood (nats) of ``ids`` under the add-``alpha`` unigram
    distribution of ``train_ids``: ``P(w) = (c(w) + α) / (N + α·V)``. Returns ``(len(ids),)``."""
    train_ids, ids = _check_ids(train_ids, vocab_size), _check_ids(ids, vocab_size)
    counts = np.bincount(train_ids, minlength=vocab_size) + alpha
    return -np.log(counts / counts.sum())[ids]


class _Level:
    """One order k: counts of k-grams (codes sorted), their context totals and distinct followers."""

    def __init__(self, gram_codes: np.ndarray, gram_counts: np.ndarray, vocab_size: int):
        self.codes, self.counts = gram_codes, gram_counts.astype(np.float64)
        contexts = gram_codes // vocab_size
        self.context_codes, first = np.unique(contexts, return_index=True)
        self.context_totals = np.add.reduceat(self.counts, first) if len(first) else np.zeros(0)
        self.context_types = np.diff(np.r_[first, len(contexts)]).astype(np.float64)
        n1, n2 = (gram_counts == 1).sum(), (gram_counts == 2).sum()
        # D = n1 / (n1 + 2 n2) (Ney et al. 1994) lies in (0, 1] when some count is 1; without
        # one it would be 0 and unseen characters would get probability 0, so take 0.5 then.
        self.discount = float(n1 / (n1 + 2 * n2)) if n1 else 0.5

    @staticmethod
    def _lookup(table: np.ndarray, values: np.ndarray, keys: np.ndarray) -> np.ndarray:
        index = np.minimum(np.searchsorted(table, keys), max(len(table) - 1, 0))
        found = table[index] == keys if len(table) else np.zeros(len(keys), bool)
        return np.where(found, values[index] if len(table) else 0.0, 0.0)

    def gram_count(self, codes):
        return self._lookup(self.codes, self.counts, codes)

    def context(self, context_codes):
        return (self._lookup(self.context_codes, self.context_totals, context_codes),
                self._lookup(self.context_codes, self.context_types, context_codes))


class KneserNey:
    """Interpolated Kneser-Ney character model of order ``order`` (``order - 1`` characters of context).

    >>> model = KneserNey(order=5, vocab_size=65).fit(train_ids)
    >>> nll = model.nll(ids, start=1000)   # (len(ids) - 1000,) nats, context taken from ids[:1000]
    """

    def __init__(self, order: int, vocab_size: int):
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        if vocab_size < 2 or vocab_size ** order >= 2 ** 62:
            raise ValueError(f"vocab_size {vocab_size} ** order {order} must fit in int64 codes")
        self.order, self.vocab_size = order, vocab_size
        self.levels: list[_Level] = []

    def fit(self, ids: np.ndarray) -> KneserNey:
        """Count ``ids: (n,) int`` (the training text). Returns ``self``."""
        ids = _check_ids(ids, self.vocab_size)
        if len(ids) < self.order + 1:
            raise ValueError(f"need more than {self.order} training ids, got {len(ids)}")
        V, levels = self.vocab_size, []
        for k in range(1, self.order + 1):
            if k == self.order:  # raw counts
                codes, counts = np.unique(_codes(ids, k, V), return_counts=True)
            else:  # continuation counts: distinct left neighbours of each k-gram
                longer = np.unique(_codes(ids, k + 1, V))
                codes, counts = np.unique(longer % V ** k, return_counts=True)
            levels.append(_Level(codes, counts, V))
        self.levels = levels
        return self

    @property
    def discounts(self) -> list[float]:
        """``D_k`` for k = 1..order: ``n1 / (n1 + 2·n2)`` from each level's count-of-counts."""
        return [level.discount for level in self.levels]

    def prob(self, histories: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """``P(target | history)``; ``histories: (m, order - 1) int`` (oldest first), ``targets: (m,)``."""
        if not self.levels:
            raise RuntimeError("call fit() first")
        histories = np.asarray(histories, dtype=np.int64).reshape(len(targets), self.order - 1)
        targets = np.asarray(targets, dtype=np.int64)
        V = self.vocab_size
        prob = np.full(len(targets), 1.0 / V)
        for k, level in enumerate(self.levels, start=1):  # from the unigram up
            context = np.zeros(len(targets), dtype=np.int64)
            for j in range(self.order - k, self.order - 1):  # the k - 1 most recent characters
                context = context * V + histories[:, j]
            total, types = level.context(context)
            count = level.gram_count(context * V + targets)
            seen = total > 0
            safe = np.where(seen, total, 1.0)
            mixed = (np.maximum(count - level.discount, 0.0) + level.discount * types * prob) / safe
            prob = np.where(seen, mixed, prob)
        return prob

    def nll(self, ids: np.ndarray, *, start: int | None = None) -> np.ndarray:
        """Per-character negative log-likelihood (nats) of ``ids[start:]``, each character predicted
        from the ``order - 1`` before it (the first ``start`` ids are context only; default
        ``order - 1``). Returns ``(len(ids) - start,)``."""
        ids = _check_ids(ids, self.vocab_size)
        start = self.order - 1 if start is None else start
        if start < self.order - 1:
            raise ValueError(f"start must be >= order - 1 = {self.order - 1} (context), got {start}")
        positions = np.arange(start, len(ids))
        histories = np.stack([ids[positions - self.order + 1 + j] for j in range(self.order - 1)], axis=1) \
            if self.order > 1 else np.zeros((len(positions), 0), dtype=np.int64)
        return -np.log(self.prob(histories, ids[positions]))

