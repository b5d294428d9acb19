"""Real TensorFlow training on a few hundred events: seeds, best epoch, learning rate."""

from __future__ import annotations

import json
import os
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
    "learning.callbacks", "learning.checkpoints", "learning.epochs", "learning.model",
    "learning.training",
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


@pytest.mark.parametrize(
    ("classification", "n_train", "chunk"),
    [("binary", 203, 65_536), ("multiclass", 203, 32), ("multiclass", 50, 45)],
)
def test_a_compiled_epoch_is_kerass_own_steps_over_the_seeded_batches(
    classification, n_train, chunk, monkeypatch
):
    """Two compiled epochs give the weights, loss and accuracy of Keras' own
    ``train_on_batch`` and ``evaluate`` over the same batches (each epoch's seeded order,
    the last batch partial; or fewer events than a batch), with L2, the learning-rate
    decay and weights, the validation in one chunk, in chunks with a rest, and in whole
    chunks; dropout is off here because its masks are drawn in another order."""
    import keras

    from cmsnn.learning import epochs as compiled_epochs
    from cmsnn.learning.callbacks import epoch_order
    from cmsnn.learning.epochs import CompiledEpochs
    from cmsnn.learning.model import build_model, learning_rate_schedule
    from cmsnn.learning.training import _arrays

    monkeypatch.setattr(compiled_epochs, "VALIDATION_CHUNK", chunk)
    settings = SETTINGS | {"dropout": 0.0}
    train, validation = events(n_train, 1), events(90, 2)  # 203 = 3 batches of 64 + 11
    n_classes = 3
    x, y, w = _arrays(train, FEATURES, classification, n_classes)
    x_val, y_val, w_val = _arrays(validation, FEATURES, classification, n_classes)
    keras.utils.set_random_seed(3)
    compiled = build_model(3, n_classes, classification, settings)
    by_batch = keras.models.clone_model(compiled)
    by_batch.set_weights(compiled.get_weights())
    by_batch.compile(optimizer=keras.optimizers.Adam(learning_rate_schedule(settings)),
                     loss=compiled.loss, weighted_metrics=["accuracy"])  # fmt: skip
    epochs = CompiledEpochs(compiled, classification, 64, (x, y, w), (x_val, y_val, w_val))
    for epoch in range(2):
        order = epoch_order(len(x), seed=5, epoch=epoch, shuffle=True)
        logs = epochs.train(order)
        losses, accuracies, sizes, weights = [], [], [], []
        for start in range(0, len(x), 64):
            batch = order[start : start + 64]
            result = by_batch.train_on_batch(x[batch], y[batch], sample_weight=w[batch],
                                             return_dict=True)  # fmt: skip
            losses.append(float(result["loss"])), accuracies.append(float(result["accuracy"]))
            sizes.append(len(batch)), weights.append(w[batch].sum())
        assert sizes == ([64, 64, 64, 11] if n_train == 203 else [50])
        # train_on_batch reports each batch's; fit the size- (weight-) weighted means
        assert logs["loss"] == pytest.approx(np.average(losses, weights=sizes), rel=1e-5)
        assert logs["accuracy"] == pytest.approx(np.average(accuracies, weights=weights), rel=1e-5)
        for mine, theirs in zip(compiled.get_weights(), by_batch.get_weights(), strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6)
    evaluated = by_batch.evaluate(x_val, y_val, sample_weight=w_val, batch_size=len(x_val),
                                  return_dict=True, verbose=0)  # fmt: skip
    validated = epochs.validate()
    assert validated["val_loss"] == pytest.approx(evaluated["loss"], rel=1e-5)
    assert validated["val_accuracy"] == pytest.approx(evaluated["accuracy"], rel=1e-5)


def test_the_jax_backend_runs_the_same_compiled_epochs_and_is_reproducible():
    """The JAX engine (``jax.jit`` over ``lax.scan``) passes the same comparison with
    Keras' own steps, and one seed gives the same model bit for bit (a process of its
    own: Keras' backend is fixed at import)."""
    root = Path(__file__).resolve().parents[1]
    environment = {**os.environ, "KERAS_BACKEND": "jax"}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                    "tests/test_training.py", "-k", "compiled_epoch_is_kerass_own_steps"],
                   check=True, timeout=600, cwd=root, env=environment)  # fmt: skip
    code = """
import keras, numpy as np
from tests.test_training import FEATURES, SETTINGS, events
from cmsnn.learning.training import train_model
assert keras.backend.backend() == "jax"
train, validation = events(400, 1), events(200, 2)
runs = [train_model(train, validation, FEATURES, SETTINGS, "multiclass", 3, seed=7) for _ in "ab"]
assert runs[0][1].equals(runs[1][1])
for a, b in zip(runs[0][0].get_weights(), runs[1][0].get_weights(), strict=True):
    np.testing.assert_array_equal(a, b)
"""
    environment["PYTHONPATH"] = f"{root}{os.pathsep}{root / 'tests'}"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=600, cwd=root,
                   env=environment)  # fmt: skip


def test_epochs_without_xla_are_reproducible_and_agree_with_xla():
    """``training.jit_compile: false`` (the epochs as a TensorFlow graph under its op
    determinism, in a process of its own) gives the same model for a seed, and without
    dropout the validation losses of the XLA-compiled epochs (the default) to float
    rounding."""
    code = """
import json, sys
import numpy as np
from tests.test_training import FEATURES, SETTINGS, events
from cmsnn.learning.training import configure_backend, train_model
configure_backend(1, jit_compile=False)
settings = SETTINGS | {"jit_compile": False}
train, validation = events(400, 1), events(200, 2)
runs = [train_model(train, validation, FEATURES, settings, "multiclass", 3, seed=7) for _ in "ab"]
assert runs[0][1].equals(runs[1][1])
for a, b in zip(runs[0][0].get_weights(), runs[1][0].get_weights(), strict=True):
    np.testing.assert_array_equal(a, b)
_, history, _ = train_model(train, validation, FEATURES, settings | {"dropout": 0.0},
                            "multiclass", 3, seed=7)
print(json.dumps(history["val_loss"].tolist()))
"""
    root = Path(__file__).resolve().parents[1]
    environment = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'tests'}"}
    without_xla = subprocess.run([sys.executable, "-c", code], check=True, timeout=600, cwd=root,
                                 env=environment, capture_output=True, text=True)  # fmt: skip
    train, validation = events(400, 1), events(200, 2)
    # without dropout: XLA draws the dropout masks with another generator
    settings = SETTINGS | {"dropout": 0.0}
    _, history, _ = train_model(train, validation, FEATURES, settings, "multiclass", 3, seed=7)
    losses = json.loads(without_xla.stdout.splitlines()[-1])
    np.testing.assert_allclose(losses, history["val_loss"], rtol=1e-4)


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
    # with early stopping the time left is a ceiling, and the line says so
    keeper.patience, stream = 10, io.StringIO()
    progress = ProgressReport("p/seed-1", 100, 30, keeper, stream=stream, clock=lambda: now[0])
    progress.on_epoch_begin(0)
    now[0] += 4.0
    progress.on_epoch_end(0, {"val_loss": 0.5})
    assert stream.getvalue().rstrip().endswith("4 s so far, at most about 6 min 36 s left")


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
