"""Part-of-speech tagging helpers: encode sentences for :func:`rnnkit.models.build_tagger`, the
most-frequent-tag baseline, and :class:`Tagger`, which tags a raw sentence with a trained model."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnkit.data.text import Vocabulary, pad_sequences

__all__ = ["EncodedSentences", "MostFrequentTag", "Tagger", "encode_sentences", "split_words"]

_WORD = re.compile(r"\w+(?:[-']\w+)*|n't|'\w+|[^\w\s]")


def split_words(sentence: str) -> list[str]:
    """A simple English word splitter for raw text (UD's own tokenisation is richer):
    ``"Don't panic!"`` -> ``["Don", "'t", "panic", "!"]``."""
    return _WORD.findall(sentence)


@dataclass
class EncodedSentences:
    """Model inputs and targets for a list of sentences.

    ``words: (n, time) int32`` lower-cased word ids (0 = padding); ``chars: (n, time, max_chars)
    int32`` character ids of each original-case word (0 = padding); ``tags: (n, time) int32``;
    ``lengths: (n,)``.
    """

    words: np.ndarray
    chars: np.ndarray
    tags: np.ndarray
    lengths: np.ndarray

    def inputs(self, *, with_chars: bool) -> dict[str, np.ndarray]:
        return {"words": self.words, "chars": self.chars} if with_chars else {"words": self.words}


def encode_sentences(
    sentences: Sequence[Sequence[tuple[str, str]]],
    words: Vocabulary,
    chars: Vocabulary,
    tags: Sequence[str],
    *,
    max_chars: int = 16,
) -> EncodedSentences:
    """Encode ``[[(form, tag), ...], ...]``; words are looked up lower-cased, characters as written.

    Raises ``ValueError`` naming the sentence and word for a tag not in ``tags``.
    """
    if not sentences:
        raise ValueError("no sentences to encode")
    tag_ids = {tag: i for i, tag in enumerate(tags)}
    lengths = np.array([len(sentence) for sentence in sentences])
    if lengths.min() < 1:
        raise ValueError(f"sentence {int(lengths.argmin())} is empty")
    width = int(lengths.max())
    word_ids = pad_sequences([words.encode(form.lower() for form, _ in s) for s in sentences], maxlen=width,
                             padding="post")
    char_ids = np.zeros((len(sentences), width, max_chars), dtype=np.int32)
    tag_array = np.zeros((len(sentences), width), dtype=np.int32)
    for i, sentence in enumerate(sentences):
        for j, (form, tag) in enumerate(sentence):
            if tag not in tag_ids:
                raise ValueError(f"sentence {i}, word {j} ({form!r}): tag {tag!r} is not one of {list(tags)}")
            tag_array[i, j] = tag_ids[tag]
            encoded = chars.encode(form[:max_chars])
            char_ids[i, j, : len(encoded)] = encoded
    return EncodedSentences(words=word_ids, chars=char_ids, tags=tag_array, lengths=lengths)


class MostFrequentTag:
    """Baseline: each word's most frequent training tag (ties: alphabetical); unknown words get
    the most frequent tag overall. Words are matched lower-cased."""

    def __init__(self, sentences: Sequence[Sequence[tuple[str, str]]]):
        counts: dict[str, Counter] = defaultdict(Counter)
        overall: Counter = Counter()
        for sentence in sentences:
            for form, tag in sentence:
                counts[form.lower()][tag] += 1
                overall[tag] += 1
        if not overall:
            raise ValueError("no training words")
        self.default = min(overall, key=lambda tag: (-overall[tag], tag))
        self.table = {word: min(c, key=lambda tag: (-c[tag], tag)) for word, c in counts.items()}

    def predict(self, forms: Sequence[str]) -> list[str]:
        return [self.table.get(form.lower(), self.default) for form in forms]


class Tagger:
    """A trained tagger model plus its vocabularies: ``Tagger(...).tag("The cat sat.")``."""

    def __init__(self, model, words: Vocabulary, chars: Vocabulary, tags: Sequence[str], *,
                 with_chars: bool, max_chars: int = 16):
        self.model, self.words, self.chars, self.tags = model, words, chars, list(tags)
        self.with_chars, self.max_chars = with_chars, max_chars

    def tag_words(self, forms: Sequence[str]) -> list[tuple[str, str]]:
        """Tag already split words."""
        if not forms:
            return []
        encoded = encode_sentences([[(form, self.tags[0]) for form in forms]], self.words, self.chars, self.tags,
                                   max_chars=self.max_chars)
        probabilities = np.asarray(self.model.predict_on_batch(encoded.inputs(with_chars=self.with_chars)))
        return [(form, self.tags[int(i)]) for form, i in zip(forms, probabilities[0].argmax(-1), strict=True)]

    def tag(self, sentence: str) -> list[tuple[str, str]]:
        """Split a raw sentence with :func:`split_words` and tag every word."""
        return self.tag_words(split_words(sentence))
