"""rnnkit.tasks.sentiment: configuration, split, pipeline, model, run and the TF-IDF baseline."""

import dataclasses
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from rnnkit import data as datasets
from rnnkit import experiments
from rnnkit.tasks import sentiment


def synthetic_reviews(n_train=120, n_test=40, seed=0) -> pd.DataFrame:
    """Reviews whose label shows in one word ("great"/"awful") among neutral filler."""
    rng = np.random.default_rng(seed)
    filler = [f"w{i}" for i in range(30)]
    rows = []
    for split, count in (("train", n_train), ("test", n_test)):
        for i in range(count):
            label = i % 2
            words = list(rng.choice(filler, size=rng.integers(3, 25)))
            words.insert(int(rng.integers(0, len(words) + 1)), "great" if label else "awful")
            rows.append((" ".join(words) + f" r{split}{i}", label, split))
    return pd.DataFrame(rows, columns=["text", "label", "split"])


@pytest.fixture(scope="module")
def frame():
    return synthetic_reviews()


@pytest.fixture(scope="module")
def data(frame):
    splits = sentiment.split_reviews(validation_reviews=40, seed=0, reviews=frame)
    return sentiment.load_data(splits=splits, glove=False)


def test_config_is_frozen_validated_and_replaced():
    config = sentiment.Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.units = 8
    gru = dataclasses.replace(config, cell="gru", bidirectional=True)
    assert gru.label == "bi-gru-64x1 mean random" and config.cell == "lstm"
    assert dataclasses.replace(config, maxlen=200, bucket_width=50).widths == (50, 100, 150, 200)
    assert dataclasses.replace(config, maxlen=230, bucket_width=100).widths == (100, 200, 230)
    for change, message in [({"cell": "rnn"}, "cell must be one of"), ({"truncating": "middle"}, "truncating"),
                            ({"embeddings": "word2vec"}, "embeddings must be one of"), ({"maxlen": 0}, "maxlen"),
                            ({"dropout": 1.0}, "dropout"), ({"train_reviews": 0}, "train_reviews"),
                            ({"optimizer": "adagrad"}, "optimizer")]:
        with pytest.raises(ValueError, match=message):
            dataclasses.replace(config, **change)


def test_validation_is_carved_from_train_without_overlap(frame):
    splits = sentiment.split_reviews(validation_reviews=40, seed=0, reviews=frame)
    assert {name: len(part) for name, part in splits.items()} == {"train": 80, "validation": 40, "test": 40}
    train_texts = Counter(frame.loc[frame["split"] == "train", "text"])
    assert Counter(splits["train"]["text"]) + Counter(splits["validation"]["text"]) == train_texts
    assert not set(splits["train"]["text"]) & set(splits["validation"]["text"])
    assert splits["test"]["text"].tolist() == frame.loc[frame["split"] == "test", "text"].tolist()
    # seeded: the same seed gives the same split, another seed another one, whatever the row order
    shuffled = frame.sample(frac=1.0, random_state=3)
    again = sentiment.split_reviews(validation_reviews=40, seed=0, reviews=shuffled)
    assert again["validation"]["text"].tolist() == splits["validation"]["text"].tolist()
    other = sentiment.split_reviews(validation_reviews=40, seed=1, reviews=frame)
    assert other["validation"]["text"].tolist() != splits["validation"]["text"].tolist()
    with pytest.raises(ValueError, match="validation_reviews must be in"):
        sentiment.split_reviews(validation_reviews=120, reviews=frame)


def test_load_data_counts_the_vocabulary_on_train_only(frame, data):
    splits = sentiment.split_reviews(validation_reviews=40, seed=0, reviews=frame)
    assert {name: len(data.labels[name]) for name in sentiment.SPLITS} == {"train": 80, "validation": 40, "test": 40}
    for name in sentiment.SPLITS:
        assert data.offsets[name].shape == (len(data.labels[name]) + 1,)
        assert data.ids[name].dtype == np.int32 and data.ids[name].shape == (data.offsets[name][-1],)
        tokens = [datasets.tokenize(text) for text in splits[name]["text"]]
        assert data.lengths(name).tolist() == [len(review) for review in tokens]
        np.testing.assert_array_equal(data.labels[name], splits[name]["label"].to_numpy(np.float32))
    # every review ends with a unique word (r<split><i>): a validation review's is unknown to the vocabulary
    assert all(review[-1] == 1 for review in data.reviews("validation"))
    assert all(review[-1] > 1 for review in data.reviews("train"))
    first = datasets.tokenize(splits["train"]["text"][0])
    assert data.vocabulary.decode(data.reviews("train")[0]) == first


def test_load_data_limit_keeps_both_classes_of_the_label_sorted_test_file(frame):
    splits = sentiment.split_reviews(validation_reviews=40, seed=0, reviews=frame)
    ordered = {**splits, "test": splits["test"].sort_values("label", kind="stable").reset_index(drop=True)}
    small = sentiment.load_data(splits=ordered, limit=10, glove=False)
    assert [len(small.labels[name]) for name in sentiment.SPLITS] == [10, 10, 10]
    assert 0 < small.labels["test"].mean() < 1


def test_padded_cuts_pads_and_caps_the_vocabulary(data):
    config = sentiment.Config(maxlen=6, vocab_size=10, train_reviews=5)
    ids, lengths = sentiment.padded(config, data, "train")
    reviews = data.reviews("train")[:5]
    assert ids.shape == (5, 6) and ids.dtype == np.int32
    assert lengths.tolist() == [min(len(review), 6) for review in reviews]
    capped = [np.where(review >= 10, 1, review) for review in reviews]
    for row, review, kept in zip(ids, capped, lengths, strict=True):
        np.testing.assert_array_equal(row[:kept], review[-6:])  # "pre": the end of the review
        assert (row[kept:] == 0).all()  # post-padding
    start, _ = sentiment.padded(dataclasses.replace(config, truncating="post"), data, "train")
    for row, review, kept in zip(start, capped, lengths, strict=True):
        np.testing.assert_array_equal(row[:kept], review[:6])
    assert ids.max() < 10
    with pytest.raises(ValueError, match="exceeds the vocabulary"):
        sentiment.padded(dataclasses.replace(config, vocab_size=10_000), data, "train")
    assert len(sentiment.padded(dataclasses.replace(config, train_reviews=None), data, "train")[0]) == 80
    assert len(sentiment.padded(config, data, "validation")[0]) == 40  # the subset is for training only


def test_build_model_embeddings_and_mask(data):
    config = sentiment.Config(units=4, embedding_dim=8, vocab_size=20, maxlen=8, bucket_width=8)
    with pytest.raises(ValueError, match="load_data\\(glove=True\\)"):
        sentiment.build_model(dataclasses.replace(config, embeddings="glove"), data)
    glove_data = dataclasses.replace(data, glove=np.ones((len(data.vocabulary), 5), np.float32))
    with pytest.raises(ValueError, match="embedding_dim must be 5"):
        sentiment.build_model(dataclasses.replace(config, embeddings="glove"), glove_data)
    model = sentiment.build_model(dataclasses.replace(config, embeddings="glove", embedding_dim=5), glove_data)
    np.testing.assert_array_equal(model.get_layer("embedding").get_weights()[0], np.ones((20, 5)))
    masked = sentiment.build_model(config, data)
    unmasked = sentiment.unmasked_copy(masked, config, data)
    review, padded = np.array([[5, 6, 7]]), np.array([[5, 6, 7, 0, 0, 0, 0]])
    np.testing.assert_allclose(masked.predict(review, verbose=0), masked.predict(padded, verbose=0), atol=1e-6)
    np.testing.assert_allclose(unmasked.predict(review, verbose=0), masked.predict(review, verbose=0), atol=1e-6)
    assert abs(float(unmasked.predict(padded, verbose=0)[0, 0] - unmasked.predict(review, verbose=0)[0, 0])) > 1e-6


def test_run_returns_validation_metrics_and_the_history(data, tmp_path):
    config = sentiment.Config(units=4, embedding_dim=8, vocab_size=30, maxlen=16, bucket_width=8, epochs=2,
                              patience=None, train_reviews=None)
    results = experiments.run_grid(sentiment.run, [config], [0], data=data, cache_dir=tmp_path, progress=False,
                                   inline=True)
    row = results.iloc[0]
    assert not [column for column in results.columns if "test" in column]
    assert set(row["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == row["epochs_run"] == 2 for values in row["history"].values())
    assert row["val_accuracy"] == row["history"]["val_accuracy"][row["best_epoch"] - 1]
    assert row["val_accuracy"] == max(row["history"]["val_accuracy"])  # early stopping monitors it


def test_final_model_evaluates_to_its_validation_accuracy(data):
    config = sentiment.Config(units=4, embedding_dim=8, vocab_size=30, maxlen=16, bucket_width=8, epochs=2,
                              train_reviews=None)
    final = sentiment.train_final(config, 0, data)
    scored = sentiment.evaluate(final.model(data), data, "validation", config=config)
    assert scored["probability"].shape == scored["correct"].shape == (40,)
    assert scored["accuracy"] == pytest.approx(final.history["val_accuracy"][final.best_epoch - 1], abs=1e-6)


def test_tfidf_picks_c_on_validation_and_refuses_an_edge(data):
    with pytest.raises(ValueError, match="at the edge of the grid .* widen it"):
        sentiment.fit_tfidf(data, c_grid=(1e-6, 1e-5, 1e-4))  # all far too strong: the best is an edge
    baseline = sentiment.fit_tfidf(data, c_grid=(1e-6, 1e-5, 1e-4), require_interior=False)
    assert sorted(baseline.validation_accuracy) == [1e-6, 1e-5, 1e-4]
    assert baseline.C == max(baseline.validation_accuracy, key=lambda c: (baseline.validation_accuracy[c], -c))
    wide = sentiment.fit_tfidf(data, c_grid=(1e-6, 1.0, 100.0, 1e4), require_interior=False)
    assert wide.validation_accuracy[wide.C] > 0.8  # the label word tells
    scored = wide.evaluate(data, "test")
    assert scored["accuracy"] > 0.8 and scored["correct"].shape == (40,)
    np.testing.assert_array_equal(scored["correct"], (scored["probability"] > 0.5) == (data.labels["test"] > 0.5))
    with pytest.raises(ValueError, match=">= 3 values"):
        sentiment.fit_tfidf(data, c_grid=(1.0, 2.0))


def test_tfidf_features_are_words_and_word_pairs():
    features = sentiment._unigrams_and_bigrams(np.array([3, 4, 5], np.int32), vocab_size=10)
    assert features == [3, 4, 5, 10 * 4 + 4, 10 * 5 + 5]
