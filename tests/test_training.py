"""Real TensorFlow training on a few hundred events: seeds, best epoch, learning rate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cmsnn.learning.prediction import predict_events
from cmsnn.learning.training import train_model
from snakemake_runs import modules_loaded_with, package_modules

FEATURES = ["x1", "x2", "x3"]
SETTINGS = {
    "layers": [8, 8],
    "activation": "tanh",
    "initializer": "he_normal",
    "dropout": 0.1,
    "l2": 1e-4,
    "learning_rate": 0.01,
    "decay_rate": 0.01,
    "epochs": 5,
    "batch_size": 64,
    "shuffle": True,
    "early_stopping_patience": 0,
}


def events(n, seed, n_classes=3):
    rng = np.random.default_rng(seed)
    class_index = rng.integers(0, n_classes, n)
    x = rng.normal(size=(n, 3)) + class_index[:, None] * np.array([1.0, -0.5, 0.0])
    frame = pd.DataFrame(x.astype(np.float32), columns=FEATURES)
    frame["class_index"] = class_index
    frame["class"] = np.array(["Signal", "B1", "B2"])[class_index]
    frame["process"] = frame["class"] + ".root"
    frame["weight"] = rng.uniform(0.5, 1.5, n)
    frame["training_weight"] = frame["weight"]
    return frame


@pytest.mark.parametrize("classification", ["binary", "multiclass"])
def test_same_seed_same_model_and_another_seed_another(classification):
    train, validation = events(400, 1), events(200, 2)
    first = train_model(train, validation, FEATURES, SETTINGS, classification, 3, seed=7)
    again = train_model(train, validation, FEATURES, SETTINGS, classification, 3, seed=7)
    other = train_model(train, validation, FEATURES, SETTINGS, classification, 3, seed=8)
    pd.testing.assert_frame_equal(first[1], again[1])
    for a, b in zip(first[0].get_weights(), again[0].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not first[1]["loss"].equals(other[1]["loss"])


def test_kept_weights_are_those_of_the_lowest_validation_loss():
    train, validation = events(400, 3), events(200, 4)
    # A high learning rate without decay makes the validation loss go up and down.
    settings = SETTINGS | {"learning_rate": 0.2, "decay_rate": 0.0, "epochs": 8, "dropout": 0.0}
    model, history, facts = train_model(train, validation, FEATURES, settings, "binary", 3, seed=1)
    assert facts["best_epoch"] == int(history["val_loss"].idxmin()) + 1
    x = validation[FEATURES].to_numpy()
    y = (validation["class_index"] == 0).to_numpy(dtype=np.float32)
    evaluated = model.evaluate(
        x, y, sample_weight=validation["training_weight"].to_numpy(), verbose=0
    )
    assert evaluated[0] == pytest.approx(history["val_loss"].min(), rel=1e-4)


def test_learning_rate_follows_inverse_time_decay_per_update():
    train, validation = events(400, 5), events(200, 6)
    _, history, _ = train_model(train, validation, FEATURES, SETTINGS, "multiclass", 3, seed=1)
    updates = np.ceil(400 / 64) * history["epoch"]
    np.testing.assert_allclose(history["learning_rate"], 0.01 / (1 + 0.01 * updates), rtol=1e-6)


def test_early_stopping_patience_stops_training():
    train, validation = events(400, 3), events(200, 4)
    settings = SETTINGS | {"learning_rate": 0.5, "decay_rate": 0.0, "epochs": 40,
                           "early_stopping_patience": 2}  # fmt: skip
    _, history, facts = train_model(train, validation, FEATURES, settings, "binary", 3, seed=1)
    assert facts["epochs_run"] == len(history) < 40
    assert facts["epochs_run"] - facts["best_epoch"] == 2


def test_predictions_have_one_score_per_output_and_the_event_columns():
    train, validation = events(400, 1), events(200, 2)
    model, _, _ = train_model(train, validation, FEATURES, SETTINGS, "multiclass", 3, seed=1)
    predictions = predict_events(model, validation, FEATURES, "multiclass", ["Signal", "B1", "B2"])
    assert list(predictions.columns) == [
        "score_Signal", "score_B1", "score_B2", "predicted_class", "weight", "process", "class"
    ]  # fmt: skip
    np.testing.assert_allclose(predictions.filter(like="score_").sum(axis=1), 1, atol=1e-5)
    binary, _, _ = train_model(train, validation, FEATURES, SETTINGS, "binary", 3, seed=1)
    scores = predict_events(binary, validation, FEATURES, "binary", ["Signal", "B1", "B2"])
    assert [c for c in scores.columns if c.startswith("score_")] == ["score_Signal"]


#: The modules that import TensorFlow/Keras when imported (cmsnn/__init__.py says so).
NETWORK_MODULES = {
    "learning.callbacks", "learning.checkpoints", "learning.model", "learning.training",
}  # fmt: skip


def test_exactly_the_network_modules_import_tensorflow():
    """Every other module of the package, imported together, loads no TensorFlow, Keras
    or JAX (the export imports them only where it builds the Keras model of raw inputs); each
    network module alone does."""
    modules = package_modules()
    light = [f"cmsnn.{module}" for module in modules if module not in NETWORK_MODULES]
    watched = {"tensorflow", "keras", "jax"}
    assert modules_loaded_with(light, watched) == []
    for module in sorted(NETWORK_MODULES):
        assert "keras" in modules_loaded_with([f"cmsnn.{module}"], watched), module


def test_batches_follow_each_epochs_seeded_order_with_a_partial_last_batch():
    from cmsnn.learning.callbacks import EpochShuffle, epoch_order
    from cmsnn.learning.training import training_batches

    x = np.arange(22, dtype=np.float32).reshape(11, 2)
    y, w = np.arange(11, dtype=np.float32), np.linspace(1, 2, 11, dtype=np.float32)
    shuffler = EpochShuffle(11, seed=5, shuffle=True)
    dataset = training_batches(x, y, w, 4, shuffler)
    assert int(dataset.cardinality()) == 3
    for epoch in (0, 1, 7):
        shuffler.on_epoch_begin(epoch)
        order = epoch_order(11, 5, epoch, True)
        batches = [[part.numpy() for part in batch] for batch in dataset]
        assert [len(batch[0]) for batch in batches] == [4, 4, 3]
        np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x[order])
        np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y[order])
        np.testing.assert_array_equal(np.concatenate([b[2] for b in batches]), w[order])
    assert not np.array_equal(epoch_order(11, 5, 0, True), epoch_order(11, 5, 1, True))


def test_xla_compiled_training_is_reproducible_per_seed():
    # A process of its own: Keras declines XLA where TensorFlow's op determinism is on.
    code = """
import sys
import numpy as np
sys.path.insert(0, "tests")  # (test_training imports the tests' helpers)
from tests.test_training import FEATURES, SETTINGS, events
from cmsnn.learning.training import configure_backend, train_model
configure_backend(1, jit_compile=True)
settings = SETTINGS | {"jit_compile": True}
train, validation = events(400, 1), events(200, 2)
runs = [train_model(train, validation, FEATURES, settings, "multiclass", 3, seed=7) for _ in "ab"]
assert all(model.jit_compile for model, _, _ in runs), "not compiled with XLA"
assert runs[0][1].equals(runs[1][1])
for a, b in zip(runs[0][0].get_weights(), runs[1][0].get_weights(), strict=True):
    np.testing.assert_array_equal(a, b)
"""
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, timeout=600, cwd=root)


def test_a_training_prints_its_progress_for_a_person_watching(capsys):
    """Every epoch with ``progress_seconds`` 0: the model's name, the epoch, the
    validation loss and the best, the time spent and left; the last line says done."""
    train, validation = events(600, 1), events(300, 2)
    settings = {**SETTINGS, "epochs": 3}
    _, history, _ = train_model(
        train, validation, FEATURES, settings, "binary", 3, seed=1, progress_seconds=0,
        name="decay_rate-0.001/seed-1",
    )  # fmt: skip
    lines = capsys.readouterr().err.splitlines()
    lines = [line for line in lines if line.startswith("training decay_rate-0.001/seed-1:")]
    assert [line.split(":")[1].split(",")[0] for line in lines] == [
        " epoch 1/3",
        " epoch 2/3",
        " epoch 3/3",
    ]
    assert f"val_loss {history['val_loss'][1]:.4g}" in lines[1]
    assert "left" in lines[0] and lines[-1].endswith(", done")


def test_progress_lines_come_at_most_every_interval_with_an_estimate_of_the_time_left():
    import io
    from types import SimpleNamespace

    from cmsnn.learning.callbacks import ProgressReport

    now = [0.0]
    stream = io.StringIO()
    keeper = SimpleNamespace(best_val_loss=0.5, best_epoch=1)
    progress = ProgressReport("p/seed-1", 100, 30, keeper, stream=stream, clock=lambda: now[0])
    for epoch in range(100):
        progress.on_epoch_begin(epoch)
        now[0] += 4.0  # four seconds an epoch
        progress.on_epoch_end(epoch, {"val_loss": 0.5})
    lines = stream.getvalue().splitlines()
    # after the first epoch, then every 32 s (8 epochs, the first past 30 s), and the last
    assert [int(line.split("epoch ")[1].split("/")[0]) for line in lines] == [
        1, 9, 17, 25, 33, 41, 49, 57, 65, 73, 81, 89, 97, 100
    ]  # fmt: skip
    assert lines[0].endswith("4 s so far, about 6 min 36 s left")
    assert lines[-1].endswith("6 min 40 s so far, done")


def test_a_gpu_given_but_unused_is_named():
    from cmsnn.learning.backend import allocated_gpus, unused_gpu_warning

    slurm = {"SLURM_GPUS_ON_NODE": "1", "CUDA_VISIBLE_DEVICES": "0", "SLURM_JOB_ID": "7"}
    assert allocated_gpus(slurm) == "CUDA_VISIBLE_DEVICES=0, SLURM_GPUS_ON_NODE=1"
    assert allocated_gpus({"CUDA_VISIBLE_DEVICES": "-1", "SLURM_GPUS_ON_NODE": "0"}) is None
    assert allocated_gpus({}) is None
    warning = unused_gpu_warning("CPU (tensorflow): 2 threads", slurm)
    assert "given a GPU (CUDA_VISIBLE_DEVICES=0" in warning and "'.[all-gpu]'" in warning
    assert unused_gpu_warning("GPU (tensorflow): /physical_device:GPU:0", slurm) is None
    assert unused_gpu_warning("CPU (tensorflow): 2 threads", {}) is None
