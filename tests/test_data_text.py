import numpy as np
import pytest

from rnnkit.data import Vocabulary, pad_sequences, tokenize


def test_tokenize_lowercases_and_drops_breaks():
    assert tokenize("Great FILM!<br /><br />Isn't it? 10/10") == ["great", "film", "!", "isn't", "it", "?", "10", "10"]


def test_vocabulary_is_deterministic_and_specials_first():
    docs = [["b", "a", "c", "a"], ["c", "b", "d"], ["a"]]
    vocab = Vocabulary.build(docs)
    assert vocab.tokens == ["<pad>", "<unk>", "a", "b", "c", "d"]
    assert Vocabulary.build(list(reversed(docs))).tokens == vocab.tokens
    assert vocab.encode(["a", "zzz", "d"]) == [2, 1, 5]
    assert vocab.decode([2, 0, 5]) == ["a", "d"]
    assert Vocabulary.build(docs, max_size=4).tokens == ["<pad>", "<unk>", "a", "b"]
    assert Vocabulary.build(docs, min_freq=2).tokens == ["<pad>", "<unk>", "a", "b", "c"]


def test_vocabulary_rejects_bad_arguments():
    with pytest.raises(ValueError, match="max_size must be >= 2"):
        Vocabulary.build([["a"]], max_size=1)
    with pytest.raises(ValueError, match="starts with"):
        Vocabulary(["a", "b"])


def test_pad_sequences_sides():
    seqs = [[1, 2, 3, 4], [5]]
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=3, padding="post", truncating="post"),
                                  [[1, 2, 3], [5, 0, 0]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=3), [[2, 3, 4], [0, 0, 5]])  # Keras' defaults: pre
    assert pad_sequences(seqs, maxlen=3).dtype == np.int32
    assert pad_sequences(seqs).shape == (2, 4)
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post'"):
        pad_sequences(seqs, maxlen=3, padding="left")


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 1, 5, 12])
def test_pad_sequences_equals_keras(padding, truncating, maxlen):
    import keras

    rng = np.random.default_rng(0)
    seqs = [rng.integers(1, 50, size=n).tolist() for n in (0, 3, 7, 9)]
    expected = keras.utils.pad_sequences(seqs, maxlen=maxlen, padding=padding, truncating=truncating, value=0)
    mine = pad_sequences(seqs, maxlen, padding=padding, truncating=truncating)
    np.testing.assert_array_equal(mine, expected)
    assert mine.dtype == expected.dtype
