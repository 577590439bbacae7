"""rnnkit.tasks.pos on a hand-made corpus: config checks, vocabulary rules, the embedding matrix,
run() (validation only, history) and evaluate()."""

import dataclasses

import numpy as np
import pytest

from rnnkit.data import Vocabulary
from rnnkit.tasks import pos

TRAIN = [[("The", "DET"), ("dog", "NOUN"), ("runs", "VERB"), (".", "PUNCT")],
         [("A", "DET"), ("cat", "NOUN"), ("sleeps", "VERB")], [("The", "DET"), ("cat", "NOUN"), ("runs", "VERB")]]
DEV = [[("A", "DET"), ("dog", "NOUN"), ("sleeps", "VERB")], [("The", "DET"), ("zebra", "NOUN"), ("runs", "VERB")]]
GLOVE = ["the", "dog", "zebra", "quokka"]


def tiny_data():
    rng = np.random.default_rng(0)
    chars = Vocabulary.build([list(form) for s in TRAIN for form, _ in s])
    return pos.Data(sentences={"train": TRAIN, "dev": DEV, "test": DEV}, chars=chars, glove_words=GLOVE,
                    glove_vectors=rng.normal(size=(len(GLOVE), 50)).astype(np.float32))


def test_config_is_frozen_and_checked():
    config = pos.Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.units = 3
    with pytest.raises(ValueError, match="vocabulary must be one of"):
        pos.Config(vocabulary="all")
    with pytest.raises(ValueError, match="glove=True fixes embedding_dim to 50"):
        pos.Config(embedding_dim=100)
    assert pos.Config(widths=[8, 16]).widths == (8, 16)  # hashable, so run_grid can key on it
    assert "learning_rate" in dataclasses.asdict(config)


def test_vocabulary_rules_and_embeddings():
    data = tiny_data()
    both = pos.encode(pos.Config(), data)
    assert {"zebra", "quokka", "cat"} <= set(both.words.tokens)  # GloVe words join the training words
    train_only = pos.word_vocabulary(pos.Config(vocabulary="train"), data)
    assert "zebra" not in train_only and "cat" in train_only
    frequent = pos.word_vocabulary(pos.Config(vocabulary="train", min_freq=2), data)
    assert set(frequent.tokens[2:]) == {"the", "runs", "cat"}
    assert pos.word_vocabulary(pos.Config(vocabulary="none"), data).tokens == ["<pad>", "<unk>"]
    np.testing.assert_array_equal(both.embeddings[both.words["zebra"]], data.glove_vectors[2])
    assert (both.embeddings[0] == 0).all()
    assert both.glove_coverage == pytest.approx(4 / (len(both.words) - 2))
    assert pos.encode(pos.Config(), data) is both  # memoised per Data object
    with pytest.raises(ValueError, match="split must be one of"):
        pos.evaluate(None, data, "tst", config=pos.Config())


def test_run_scores_validation_only_and_returns_history():
    data = tiny_data()
    config = pos.Config(units=4, epochs=2, patience=None, widths=(4,), char_filters=4, chars=True)
    metrics = pos.run(config, 0, data)
    assert set(metrics) == {"val_accuracy", "val_unknown_accuracy", "best_epoch", "epochs_run", "s_per_epoch", "history"}
    assert set(metrics["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(metrics["history"]["val_accuracy"]) == 2
    assert metrics["history"]["val_accuracy"][-1] == metrics["val_accuracy"]
    result = pos.fit_and_score(config, 0, data, splits=("dev", "test"))
    # the micro accuracy fit() logs on validation is the one evaluate() computes from predictions
    assert result["history"]["val_accuracy"][-1] == pytest.approx(result["scores"]["dev"]["accuracy"], abs=1e-7)
    # the same seed trains the same model: run's unknown-word score is evaluate()'s, on the one unknown word
    assert metrics["val_unknown_accuracy"] == result["scores"]["dev"]["unknown_accuracy"] in (0.0, 1.0)
    scores = result["scores"]["test"]
    np.testing.assert_array_equal(scores["unknown"], [False, False, False, False, True, False])  # "zebra"
    np.testing.assert_array_equal(scores["sentence"], [0, 0, 0, 1, 1, 1])
    assert scores["accuracy"] == pytest.approx(scores["correct"].mean())
    model = pos.restore_model(config, data, result["weights"])
    again = pos.evaluate(model, data, "test", config=config)
    np.testing.assert_array_equal(again["predicted"], scores["predicted"])


def test_baseline_scores():
    scores = pos.baseline_scores(tiny_data(), "validation")
    # "A dog sleeps": DET NOUN VERB right; "The zebra runs": zebra unknown -> most frequent tag (DET, NOUN
    # and VERB tie at 3 in training; alphabetical: DET), "runs" -> VERB (2 of 2)
    np.testing.assert_array_equal(scores["correct"], [True, True, True, True, False, True])
    assert scores["accuracy"] == pytest.approx(5 / 6) and scores["unknown_accuracy"] == 0.0


def test_concurrent_final_models_match_the_serial_ones():
    data = tiny_data()
    configs = [pos.Config(units=4, epochs=2, patience=None, widths=(4,)),
               pos.Config(units=4, epochs=2, patience=None, widths=(4,), chars=True, char_filters=4)]
    serial = pos.fit_and_score_concurrently(configs, 0, data, splits=("dev",), n_jobs=1)
    parallel = pos.fit_and_score_concurrently(configs, 0, data, splits=("dev",), n_jobs=2)
    for one, other in zip(serial, parallel, strict=True):
        np.testing.assert_allclose(one["history"]["loss"], other["history"]["loss"], rtol=1e-5)
        np.testing.assert_array_equal(one["scores"]["dev"]["predicted"], other["scores"]["dev"]["predicted"])
