"""rnnkit.training: seeding, early stopping, reproducibility, data-parallel fit."""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rnnkit import experiments, models, training


def _data(seed=0, count=64):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, 10, 3)).astype("float32")
    y = x[:, :, 0].sum(axis=1, keepdims=True).astype("float32")
    return x, y


def _fit(seed, **kwargs):
    x, y = _data()
    return training.train(
        lambda: models.build_many_to_one(10, 3, 1, cell="gru", units=8), x, y, seed=seed, loss="mse",
        validation_data=_data(1, 32), epochs=3, batch_size=16, **kwargs,
    )


def test_same_seed_same_result_different_seed_different():
    first, second, other = _fit(0), _fit(0), _fit(1)
    assert first.history["loss"] == second.history["loss"]
    assert first.history["loss"] != other.history["loss"]
    assert (first.epochs_run, first.best_epoch, first.seed) == (3, 3, 0)  # no early stopping: all epochs
    assert len(first.epoch_seconds) == 3 and first.steady_epoch_seconds > 0


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    optimizer: str = "adam"


def _grid_run(config, seed, data):
    result = _fit(seed, optimizer=config.optimizer)
    return {"val_loss": result.history["val_loss"][-1], "epochs": result.epochs_run}


def test_grid_rerun_with_same_seed_is_identical(tmp_path):
    configs = [OptimizerConfig("adam"), OptimizerConfig("rmsprop")]
    kwargs = dict(data=_data(), progress=False, inline=True)
    first = experiments.run_grid(_grid_run, configs, [0], cache_dir=tmp_path / "a", **kwargs)
    second = experiments.run_grid(_grid_run, configs, [0], cache_dir=tmp_path / "b", **kwargs)
    assert not second["cached"].any()
    assert first["val_loss"].tolist() == second["val_loss"].tolist()
    assert first["val_loss"].iloc[0] != first["val_loss"].iloc[1]


def test_train_on_a_py_dataset_with_early_stopping_on_val_accuracy():
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6, 2)).astype("float32")
    y = (x[:, :, 0].sum(axis=1) > 0).astype("float32")

    class Batches(keras.utils.PyDataset):
        def __init__(self, x, y):
            super().__init__()
            self.x, self.y = x, y

        def __len__(self):
            return len(self.x) // 16

        def __getitem__(self, index):
            return self.x[index * 16:(index + 1) * 16], self.y[index * 16:(index + 1) * 16]

    def build():
        inputs = keras.Input((6, 2))
        state = keras.layers.GRU(4)(inputs)
        return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(state))

    result = training.train(build, Batches(x, y), seed=0, loss="binary_crossentropy", metrics=["accuracy"],
                            validation_data=Batches(x[:32], y[:32]), epochs=6, patience=2, monitor="val_accuracy",
                            learning_rate=0.05)
    accuracies = result.history["val_accuracy"]
    assert result.epochs_run == len(accuracies) <= 6
    assert result.best_epoch == int(np.argmax(accuracies)) + 1  # the first epoch with the highest accuracy
    restored = result.model.evaluate(Batches(x[:32], y[:32]), verbose=0, return_dict=True)["accuracy"]
    assert restored == pytest.approx(max(accuracies))


def test_early_stopping_restores_best_epoch():
    result = _fit(0, learning_rate=0.5, patience=1)  # a huge step size: validation loss jumps about
    losses = result.history["val_loss"]
    assert result.epochs_run == len(losses) <= 3
    assert result.best_epoch == int(np.argmin(losses)) + 1
    x_val, y_val = _data(1, 32)
    restored = float(np.mean((result.model.predict(x_val, verbose=0) - y_val) ** 2))
    assert restored == pytest.approx(min(losses), rel=1e-4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        training.make_optimizer("adagrad")
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        training.make_optimizer("adam", 0)
    x, y = _data()
    with pytest.raises(ValueError, match="needs validation_data"):
        training.train(lambda: None, x, y, seed=0, loss="mse", patience=2)


def test_epoch_logger_prints_without_timings(capsys):
    logger = training.EpochLogger(every=2)
    for epoch in range(4):
        logger.on_epoch_end(epoch, {"loss": 0.123456, "val_loss": 1.0})
    assert capsys.readouterr().out.splitlines() == [
        "epoch 1: loss 0.1235 - val_loss 1.0000",
        "epoch 2: loss 0.1235 - val_loss 1.0000",
        "epoch 4: loss 0.1235 - val_loss 1.0000",
    ]


DATA_PARALLEL_SCRIPT = textwrap.dedent("""
    import json, os, sys
    import jax, keras, numpy as np
    from rnnkit import models, training
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 12, 3)).astype("float32")
    y = x[:, :, 0].sum(axis=1, keepdims=True).astype("float32")
    def fit(distribution):
        result = training.train(lambda: models.build_many_to_one(12, 3, 1, cell="lstm", units=8), x, y,
                                seed=0, loss="mse", epochs=3, batch_size=32, shuffle=False,
                                distribution=distribution)
        return result.history["loss"]
    devices = jax.devices("cpu")
    print(json.dumps({"devices": len(devices), "single": fit(None),
                      "parallel": fit(keras.distribution.DataParallel(devices=devices))}))
""")


def test_data_parallel_fit_on_two_cpu_devices_matches_single_device():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "KERAS_BACKEND": "jax",
           "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", DATA_PARALLEL_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    losses = json.loads(done.stdout.strip().splitlines()[-1])
    assert losses["devices"] == 2
    # Same seed, same batches: the data-parallel gradient is the mean over both halves of each
    # batch, so the losses agree up to float32 summation order.
    np.testing.assert_allclose(losses["parallel"], losses["single"], rtol=1e-4)


def test_compilation_cache_is_written_and_results_unchanged(tmp_path):
    script = textwrap.dedent(f"""
        import json
        from rnnkit import training
        training.enable_compilation_cache({str(tmp_path / "cache")!r})
        from tests.test_training import _fit
        print(json.dumps(_fit(0).history["loss"]))
    """)
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300,
                           cwd=os.path.dirname(os.path.dirname(__file__))) for _ in range(2)]
    for done in runs:
        assert done.returncode == 0, done.stderr[-2000:]
    assert any((tmp_path / "cache").iterdir())  # compiled programs were stored
    first, second = (json.loads(done.stdout.strip().splitlines()[-1]) for done in runs)
    assert first == second == _fit(0).history["loss"]
