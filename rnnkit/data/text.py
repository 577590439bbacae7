"""Text to integer sequences with NumPy only: tokenizer, deterministic vocabulary, padding.

Keras' ``TextVectorization`` needs TensorFlow, which this course does not install.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["PAD", "UNK", "Vocabulary", "pad_sequences", "tokenize"]

PAD, UNK = "<pad>", "<unk>"
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*|[!?]")


def tokenize(text: str) -> list[str]:
    """Lower-case, drop ``<br />`` tags, split into words (apostrophes kept inside) and ``!``/``?``.

    >>> tokenize("Great film!<br /><br />Isn't it?")
    ['great', 'film', '!', "isn't", 'it', '?']
    """
    return _TOKEN.findall(_BREAK.sub(" ", text).lower())


class Vocabulary:
    """Token <-> id mapping: ``<pad>`` = 0, ``<unk>`` = 1, then tokens by (-count, token).

    The order depends only on the counts, never on the order documents were seen, so the same
    corpus always gives the same ids.
    """

    def __init__(self, tokens: Sequence[str], counts: dict[str, int] | None = None):
        if len(tokens) < 2 or tokens[0] != PAD or tokens[1] != UNK:
            raise ValueError(f"a vocabulary starts with {PAD!r}, {UNK!r}; got {list(tokens[:2])}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("vocabulary tokens must be unique")
        self.tokens: list[str] = list(tokens)
        self.counts: dict[str, int] = dict(counts or {})
        self._index = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def build(
        cls, documents: Iterable[Iterable[str]], *, max_size: int | None = None, min_freq: int = 1
    ) -> Vocabulary:
        """Count tokens over ``documents`` (each an iterable of tokens).

        Args:
            max_size: total size including the two specials (``None``: no limit).
            min_freq: drop tokens seen fewer times.
        """
        if max_size is not None and max_size < 2:
            raise ValueError(f"max_size must be >= 2 (room for {PAD!r} and {UNK!r}), got {max_size}")
        if min_freq < 1:
            raise ValueError(f"min_freq must be >= 1, got {min_freq}")
        counts = Counter()
        for document in documents:
            counts.update(document)
        for special in (PAD, UNK):
            counts.pop(special, None)
        ranked = sorted((item for item in counts.items() if item[1] >= min_freq), key=lambda kv: (-kv[1], kv[0]))
        if max_size is not None:
            ranked = ranked[: max_size - 2]
        return cls([PAD, UNK, *(token for token, _ in ranked)], counts=dict(ranked))

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    def __getitem__(self, token: str) -> int:
        return self._index.get(token, 1)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Token ids; unknown tokens map to 1 (``<unk>``)."""
        index = self._index
        return [index.get(token, 1) for token in tokens]

    def decode(self, ids: Iterable[int], *, skip_pad: bool = True) -> list[str]:
        """Tokens for ids (padding dropped unless ``skip_pad=False``)."""
        return [self.tokens[i] for i in ids if not (skip_pad and i == 0)]

    def __repr__(self) -> str:
        preview = ", ".join(self.tokens[2:7])
        return f"Vocabulary(size={len(self)}, first=[{preview}, ...])"


def pad_sequences(
    sequences: Sequence[Sequence[int]],
    maxlen: int | None = None,
    *,
    padding: str = "pre",
    truncating: str = "pre",
    value: int = 0,
) -> np.ndarray:
    """Pad/truncate integer sequences to ``(len(sequences), maxlen) int32``.

    The same arguments, defaults and result as ``keras.utils.pad_sequences`` (for integer ids),
    without importing Keras: ``rnnkit.data`` stays a NumPy-only package.

    Args:
        maxlen: width of the result (``None``: the longest sequence).
        padding: ``"pre"`` (Keras' default) puts the padding before the tokens; ``"post"`` after
            them, which is what masks and ``last state`` pooling in this course expect.
        truncating: ``"pre"`` (Keras' default) keeps the last ``maxlen`` tokens, ``"post"`` the first.
    """
    for name, side in (("padding", padding), ("truncating", truncating)):
        if side not in ("pre", "post"):
            raise ValueError(f"{name} must be 'pre' or 'post', got {side!r}")
    if maxlen is None:
        maxlen = max((len(sequence) for sequence in sequences), default=0)
    elif maxlen < 1:
        raise ValueError(f"maxlen must be >= 1, got {maxlen}")
    out = np.full((len(sequences), maxlen), value, dtype=np.int32)
    for row, sequence in enumerate(sequences):
        kept = sequence[:maxlen] if truncating == "post" else sequence[-maxlen:]
        if len(kept) == 0 or maxlen == 0:
            continue
        if padding == "post":
            out[row, : len(kept)] = kept
        else:
            out[row, maxlen - len(kept) :] = kept
    return out
