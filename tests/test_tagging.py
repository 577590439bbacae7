"""rnnkit.tagging: encoding, the most-frequent-tag baseline, the Tagger helper."""

import keras
import numpy as np
import pytest

from rnnkit import models, tagging
from rnnkit.data import Vocabulary

SENTENCES = [[("The", "DET"), ("dog", "NOUN"), ("runs", "VERB")], [("Runs", "NOUN"), ("!", "PUNCT")],
             [("the", "DET"), ("runs", "NOUN")]]
TAGS = ("DET", "NOUN", "PUNCT", "VERB")


def vocabularies():
    words = Vocabulary.build([[form.lower() for form, _ in s] for s in SENTENCES])
    chars = Vocabulary.build([list(form) for s in SENTENCES for form, _ in s])
    return words, chars


def test_encode_sentences_values_and_padding():
    words, chars = vocabularies()
    encoded = tagging.encode_sentences(SENTENCES, words, chars, TAGS, max_chars=3)
    assert encoded.words.shape == (3, 3) and encoded.chars.shape == (3, 3, 3) and encoded.tags.shape == (3, 3)
    np.testing.assert_array_equal(encoded.lengths, [3, 2, 2])
    assert words.decode(encoded.words[0]) == ["the", "dog", "runs"]
    assert encoded.words[1, 0] == encoded.words[0, 2]  # "Runs" and "runs" share a word id (lower-cased)
    assert encoded.chars[1, 0, 0] != encoded.chars[0, 2, 0]  # ... but not their first character
    assert chars.decode(encoded.chars[0, 2]) == ["r", "u", "n"]  # cut to max_chars
    np.testing.assert_array_equal(encoded.tags[0], [0, 1, 3])
    assert encoded.words[1, 2] == 0 and (encoded.chars[1, 2] == 0).all()  # padding
    assert set(encoded.inputs(with_chars=False)) == {"words"}


def test_encode_rejects_unknown_tags_with_position():
    words, chars = vocabularies()
    with pytest.raises(ValueError, match=r"sentence 0, word 1 \('cat'\): tag 'ANIMAL' is not one of"):
        tagging.encode_sentences([[("a", "DET"), ("cat", "ANIMAL")]], words, chars, TAGS)


def test_most_frequent_tag():
    baseline = tagging.MostFrequentTag(SENTENCES)
    # "runs": VERB once, NOUN twice (case-folded); unknown words: most frequent tag overall (NOUN 3x)
    assert baseline.predict(["RUNS", "the", "zebra"]) == ["NOUN", "DET", "NOUN"]


def test_split_words_follows_ewt():
    assert tagging.split_words("Don't panic, Mr. Smith-Jones!") == ["Do", "n't", "panic", ",", "Mr.", "Smith", "-",
                                                                     "Jones", "!"]
    assert tagging.split_words("I can't, it's 3.5 U.S. dollars... :)") == ["I", "ca", "n't", ",", "it", "'s", "3.5",
                                                                            "U.S.", "dollars", "...", ":)"]
    assert tagging.split_words("We cannot go, gonna stay") == ["We", "can", "not", "go", ",", "gon", "na", "stay"]


def test_tagger_tags_every_word():
    words, chars = vocabularies()
    keras.utils.set_random_seed(0)
    model = models.build_tagger(len(words), len(TAGS), units=4, embedding_dim=3, char_vocab_size=len(chars),
                                char_filters=2)
    tagger = tagging.Tagger(model, words, chars, TAGS, with_chars=True, max_chars=3)
    tagged = tagger.tag("The dog runs!")
    assert [word for word, _ in tagged] == ["The", "dog", "runs", "!"]
    assert all(tag in TAGS for _, tag in tagged)
    probabilities = model.predict({"words": np.array([words.encode(["the", "dog", "runs", "!"])]),
                                   "chars": tagging.encode_sentences([[(w, "DET") for w, _ in tagged]], words, chars,
                                                                     TAGS, max_chars=3).chars}, verbose=0)
    assert [tag for _, tag in tagged] == [TAGS[i] for i in probabilities[0].argmax(-1)]
    assert tagger.tag("") == []
