"""rnnkit.batching: bucket widths, shapes, order, seeded shuffles, real-token weights; and the
accuracy that ``fit`` logs for a tagger trained on bucketed batches skips padding."""

import keras
import numpy as np
import pytest

from rnnkit import models
from rnnkit.batching import BucketedBatches, predict_bucketed
from rnnkit.tasks.pos import TokenAccuracy

LENGTHS = np.array([3, 9, 2, 12, 5, 16, 1, 7, 4, 10])


def padded_tokens(lengths, width=16, seed=0):
    rng = np.random.default_rng(seed)
    tokens = np.zeros((len(lengths), width), dtype=np.int32)
    for row, length in enumerate(lengths):
        tokens[row, :length] = rng.integers(1, 20, size=length)
    return tokens


def test_buckets_widths_and_shapes():
    tokens = padded_tokens(LENGTHS)
    batches = BucketedBatches({"words": tokens}, LENGTHS, tokens, batch_size=2, widths=(4, 8, 16), shuffle=False)
    seen = []
    for index in range(len(batches)):
        members, width = batches.batches[index]
        x, y, weights = batches[index]
        assert x.shape == (len(members), width) == y.shape == weights.shape
        assert len(members) <= 2
        # the smallest width that holds every member
        assert (LENGTHS[members] <= width).all()
        for member in members:
            expected_width = min(w for w in (4, 8, 16) if w >= LENGTHS[member])
            assert width == expected_width
        np.testing.assert_array_equal(weights.sum(axis=1), LENGTHS[members])
        np.testing.assert_array_equal(x, tokens[members, :width])
        seen += list(members)
    assert sorted(seen) == list(range(len(LENGTHS)))  # every example exactly once
    computed = sum(len(m) * w for m, w in batches.batches)
    assert batches.padded_fraction == pytest.approx(1 - LENGTHS.sum() / computed)


def test_per_example_targets_and_prediction_keep_the_old_form():
    tokens = padded_tokens(LENGTHS)
    labels = np.arange(len(LENGTHS))
    batches = BucketedBatches({"words": tokens}, LENGTHS, labels, batch_size=3, widths=(8, 16), shuffle=False)
    x, y = batches[0]  # per-example targets: no weights
    np.testing.assert_array_equal(y, labels[batches.batches[0][0]])
    assert len(BucketedBatches({"words": tokens}, LENGTHS, None, widths=(16,))[0]) == 1
    off = BucketedBatches({"words": tokens}, LENGTHS, tokens, widths=(16,), step_weights=False)
    assert len(off[0]) == 2


def test_predict_bucketed_restores_the_original_order():
    tokens = padded_tokens(LENGTHS)
    words = keras.Input((None,), dtype="int32", name="words")
    identity = keras.Model(words, keras.layers.Lambda(lambda t: keras.ops.cast(t, "float32")[..., None])(words))
    batches = BucketedBatches({"words": tokens}, LENGTHS, None, batch_size=3, widths=(4, 8, 16), shuffle=True,
                              seed=3)
    outputs = predict_bucketed(identity, batches)
    assert len(outputs) == len(LENGTHS)
    for row, output in enumerate(outputs):
        assert output.shape == (LENGTHS[row], 1)  # cut to the example's own length
        np.testing.assert_array_equal(output[:, 0], tokens[row, : LENGTHS[row]])


def plan(batches):
    return [(tuple(members), width) for members, width in batches.batches]


def test_seeded_shuffle():
    tokens = padded_tokens(LENGTHS)
    make = lambda seed: BucketedBatches({"words": tokens}, LENGTHS, tokens, batch_size=2, widths=(4, 8, 16),  # noqa: E731
                                        shuffle=True, seed=seed)
    first, again, other = make(0), make(0), make(1)
    assert plan(first) == plan(again)  # same seed, same batches
    assert plan(first) != plan(other)  # another seed, another order
    np.testing.assert_array_equal(first[0][0], again[0][0])
    before = plan(first)
    first.on_epoch_end()
    assert plan(first) != before  # a new order every epoch ...
    again.on_epoch_end()
    assert plan(first) == plan(again)  # ... the same for the same seed
    fixed = BucketedBatches({"words": tokens}, LENGTHS, tokens, batch_size=2, widths=(4, 8, 16), shuffle=False)
    start = plan(fixed)
    fixed.on_epoch_end()
    assert plan(fixed) == start


def test_rejects_a_width_shorter_than_the_longest_example():
    tokens = padded_tokens(LENGTHS)
    with pytest.raises(ValueError, match=r"largest width 8 is shorter than the longest example \(16 steps\)"):
        BucketedBatches({"words": tokens}, LENGTHS, tokens, widths=(4, 8))


def _fit_logs(words, lengths, labels, *, widths, metric):
    """One epoch at learning rate 0 (the weights never change): what fit() logs."""
    keras.utils.set_random_seed(0)
    model = models.build_tagger(20, 3, units=4, embedding_dim=4)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy",
                  weighted_metrics=[metric])
    batches = BucketedBatches({"words": words}, lengths, labels, batch_size=2, widths=widths, shuffle=False)
    history = model.fit(batches, epochs=1, verbose=0).history
    return model, {name: values[0] for name, values in history.items()}


def wrong_at_padding(model, words, lengths):
    """Labels equal to the model's own prediction at real tokens (one of them wrong), wrong at every pad."""
    probabilities = model.predict(words, verbose=0)
    predicted = probabilities.argmax(-1)
    real = np.arange(words.shape[1])[None, :] < lengths[:, None]
    labels = np.where(real, predicted, (predicted + 1) % 3)
    labels[0, 0] = (predicted[0, 0] + 1) % 3
    return probabilities, labels, real


def test_fit_logs_the_masked_accuracy_and_loss():
    """The padded labels are wrong on purpose; fit() must neither count nor score them."""
    words = np.array([[4, 5, 6, 0], [7, 8, 0, 0]], dtype="int32")
    lengths = np.array([3, 2])
    model, _ = _fit_logs(words, lengths, np.zeros_like(words), widths=(4,), metric=TokenAccuracy())
    probabilities, labels, real = wrong_at_padding(model, words, lengths)
    _, logs = _fit_logs(words, lengths, labels, widths=(4,), metric=TokenAccuracy())
    assert logs["accuracy"] == pytest.approx(4 / 5)  # by hand: 4 of 5 real tokens right
    picked = np.take_along_axis(probabilities, labels[..., None], -1)[..., 0]
    assert logs["loss"] == pytest.approx(float(-np.log(picked[real]).mean()), rel=1e-5)  # the masked mean
    assert logs["loss"] != pytest.approx(float(-np.log(picked).mean()), rel=1e-4)
    _, keras_weighted = _fit_logs(words, lengths, labels, widths=(4,),
                                  metric=keras.metrics.SparseCategoricalAccuracy(name="accuracy"))
    assert keras_weighted["accuracy"] == pytest.approx(4 / 5)  # one width: Keras' weighted metric agrees
    # The control: a plain (unweighted) metric counts the 3 padded positions as errors in fit().
    keras.utils.set_random_seed(0)
    plain = models.build_tagger(20, 3, units=4, embedding_dim=4)
    plain.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])
    logged = plain.fit(words, labels, epochs=1, batch_size=2, verbose=0).history
    assert logged["sparse_categorical_accuracy"][0] == pytest.approx(4 / 8)  # the bug: pads counted


def test_fit_accuracy_is_micro_across_bucket_widths():
    """Two buckets of different widths: every real token counts once (Keras' per-sentence mean would not)."""
    lengths = np.array([2, 2, 7, 8])
    words = padded_tokens(lengths, width=8, seed=1)
    model, _ = _fit_logs(words, lengths, np.zeros_like(words), widths=(2, 8), metric=TokenAccuracy())
    probabilities, labels, real = wrong_at_padding(model, words, lengths)
    labels[2, :3] = (probabilities[2, :3].argmax(-1) + 1) % 3  # 3 more errors in the long bucket
    expected = float((probabilities.argmax(-1) == labels)[real].mean())
    _, logs = _fit_logs(words, lengths, labels, widths=(2, 8), metric=TokenAccuracy())
    assert logs["accuracy"] == pytest.approx(expected)
    _, keras_logs = _fit_logs(words, lengths, labels, widths=(2, 8),
                              metric=keras.metrics.SparseCategoricalAccuracy(name="accuracy"))
    assert keras_logs["accuracy"] != pytest.approx(expected, abs=1e-3)
