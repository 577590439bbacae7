"""GloVe word vectors (Pennington, Socher & Manning, 2014) in their text format.

Each line is ``word v1 v2 ... vD``; ``.txt`` and ``.gz`` files are read. The shipped file is the
50-dimensional 6B subset covering EWT and IMDB; any GloVe-format file works.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnkit.data.files import DataFormatError, dataset_path, open_text
from rnnkit.data.text import Vocabulary

__all__ = ["GLOVE_FILE", "GloveEmbedding", "glove_embedding", "nearest_neighbours", "read_glove"]

GLOVE_FILE = "glove/glove.6B.50d.subset.txt.gz"


def read_glove(
    path: str | os.PathLike | None = None, *, dim: int | None = None, words: set[str] | None = None
) -> dict[str, np.ndarray]:
    """Vectors from a GloVe text file: ``{word: (dim,) float32}``.

    Args:
        path: the file; default the shipped 50d subset (checksum-verified).
        dim: expected dimension; a file whose vectors differ raises ``DataFormatError``.
        words: keep only these words (saves memory on big files).
    """
    path = Path(path) if path is not None else dataset_path(GLOVE_FILE)
    vectors: dict[str, np.ndarray] = {}
    with open_text(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            parts = line.rstrip().split(" ")
            if len(parts) < 2:
                if not line.strip():
                    continue
                raise DataFormatError(f"{path}, line {lineno}: expected 'word v1 .. vD', got {line[:60]!r}")
            found_dim = len(parts) - 1
            if dim is None:
                dim = found_dim
            elif found_dim != dim:
                raise DataFormatError(
                    f"{path}, line {lineno}: vector has {found_dim} values, expected dim={dim}"
                )
            word = parts[0]
            if words is not None and word not in words:
                continue
            try:
                vectors[word] = np.asarray(parts[1:], dtype=np.float32)
            except ValueError:
                raise DataFormatError(f"{path}, line {lineno}: non-numeric value in the vector of {word!r}") from None
    if not vectors and words is None:
        raise DataFormatError(f"{path}: no vectors found")
    return vectors


@dataclass
class GloveEmbedding:
    """An embedding matrix aligned with a vocabulary.

    ``matrix: (len(vocabulary), dim) float32``; row 0 (padding) is zeros; rows of words without a
    vector are drawn from N(0, std of the found vectors). ``found: (len(vocabulary),) bool``.
    """

    matrix: np.ndarray
    found: np.ndarray
    type_coverage: float  # share of vocabulary words (specials excluded) with a vector
    token_coverage: float  # the same weighted by the vocabulary's counts

    def __repr__(self) -> str:
        return (
            f"GloveEmbedding(shape={self.matrix.shape}, type_coverage={self.type_coverage:.3f}, "
            f"token_coverage={self.token_coverage:.3f})"
        )


def glove_embedding(
    vocabulary: Vocabulary,
    path: str | os.PathLike | None = None,
    *,
    dim: int | None = 50,
    lowercase: bool = True,
    seed: int = 0,
) -> GloveEmbedding:
    """Build an embedding matrix for ``vocabulary`` from a GloVe file (default: the shipped 50d)."""
    keys = {(token.lower() if lowercase else token) for token in vocabulary.tokens[2:]}
    vectors = read_glove(path, dim=dim, words=keys)
    dim = dim or (len(next(iter(vectors.values()))) if vectors else None)
    if dim is None:
        raise DataFormatError(f"{path}: none of the vocabulary's words has a vector, cannot infer dim")
    rng = np.random.default_rng(seed)
    std = float(np.std(np.stack(list(vectors.values())))) if vectors else 0.1
    matrix = rng.normal(0.0, std, size=(len(vocabulary), dim)).astype(np.float32)
    matrix[0] = 0.0
    found = np.zeros(len(vocabulary), dtype=bool)
    for i, token in enumerate(vocabulary.tokens[2:], start=2):
        vector = vectors.get(token.lower() if lowercase else token)
        if vector is not None:
            matrix[i] = vector
            found[i] = True
    words = vocabulary.tokens[2:]
    counts = np.array([vocabulary.counts.get(token, 0) for token in words], dtype=np.float64)
    type_coverage = float(found[2:].mean()) if words else 0.0
    token_coverage = float((counts * found[2:]).sum() / counts.sum()) if counts.sum() else type_coverage
    return GloveEmbedding(matrix=matrix, found=found, type_coverage=type_coverage, token_coverage=token_coverage)


def nearest_neighbours(word: str, vectors: dict[str, np.ndarray], *, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` words with the highest cosine similarity to ``word`` (itself excluded)."""
    if word not in vectors:
        raise KeyError(f"{word!r} has no GloVe vector")
    names = list(vectors)
    matrix = np.stack([vectors[name] for name in names])
    matrix = matrix / np.linalg.norm(matrix, axis=1, keepdims=True).clip(1e-8)
    scores = matrix @ matrix[names.index(word)]
    order = [i for i in np.argsort(-scores) if names[i] != word][:k]
    return [(names[i], float(scores[i])) for i in order]
