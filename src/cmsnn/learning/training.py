"""Training one model: one grid point, one seed.

The weights of the epoch with the lowest weighted validation loss are kept (the
tutorial's ``ModelCheckpoint(save_best_only=True)``), and the per-epoch history is
written as CSV. Each epoch is one compiled call (:mod:`cmsnn.learning.epochs`); between
epochs run Keras callbacks, as in ``fit``. The same seed gives the same model: Keras'
seeds are set, the backend's operations are deterministic, and the events are shuffled
every epoch by a permutation drawn from the seed and the epoch number alone.

Training can be resumed: at the end of an epoch, at most every 30 s (so that saving
costs little even for short epochs), the model (with the optimizer's state, hence the
learning-rate schedule's position), the dropout layers' random state, the best weights
so far and the history are saved atomically in a ``checkpoint`` folder; a rerun of the
job continues from there and ends with the same model as an uninterrupted run, bit for
bit on the CPU (the shuffling depends only on the seed and the epoch).
A SIGTERM (a batch system's warning before the kill) finishes the current epoch,
saves it and stops the job.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from cmsnn.dataframes import read_parquet, write_csv
from cmsnn.files import read_json, write_json, write_with
from cmsnn.learning.backend import batch_job_environment, unused_gpu_warning
from cmsnn.learning.callbacks import (
    HISTORY_COLUMNS,
    KeepBestWeights,
    ProgressReport,
    StopRequest,
    TrainingInterrupted,
    epoch_order,
)
from cmsnn.learning.checkpoints import SaveOnEpochEnd, resume_checkpoint, training_fingerprint
from cmsnn.learning.epochs import CompiledEpochs
from cmsnn.learning.export import export_checked_onnx
from cmsnn.learning.facts import unconverged_warning
from cmsnn.learning.model import build_model, limit_threads
from cmsnn.logs import console
from cmsnn.preprocessing.mass_points import (
    TRAINING_DRAWS,
    VALIDATION_DRAWS,
    MassPoints,
    scale_masses,
)
from cmsnn.preprocessing.weighting import (
    negative_weight_report,
    net_weight_warnings,
    training_targets,
)
from cmsnn.vocabulary import NetworkTask

log = logging.getLogger(__name__)


def configure_backend(threads: int, jit_compile: bool = True) -> str:
    """Use ``threads`` CPU threads and deterministic operations on Keras' backend.

    With ``jit_compile`` (the epochs compiled with XLA) XLA's kernels give the
    determinism (those of the CPU are; on a GPU, XLA's deterministic-ops flag is set);
    without, TensorFlow's own op determinism is enabled. Returns a description of the
    device the model will train on (a GPU when the job was given one, else the CPU).
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        limit_threads(threads)
        if jit_compile:
            os.environ["XLA_FLAGS"] = " ".join(
                [os.environ.get("XLA_FLAGS", ""), "--xla_gpu_deterministic_ops=true"]
            ).strip()
        else:
            tf.config.experimental.enable_op_determinism()
        log.info("training epochs compiled with XLA: %s", "yes" if jit_compile else "no")
        log.info(
            "TensorFlow threads: intra-op %d, inter-op %d",
            tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads(),
        )
        gpus = tf.config.list_physical_devices("GPU")
        for gpu in gpus:  # take GPU memory as needed, so jobs can share a GPU
            tf.config.experimental.set_memory_growth(gpu, True)
        devices = [gpu.name for gpu in gpus]
    elif backend == "jax":
        import jax

        devices = [str(device) for device in jax.devices() if device.platform == "gpu"]
    else:
        raise RuntimeError(f"Keras runs on {backend!r}; the training step supports tensorflow, jax")
    if devices:
        return f"GPU ({backend}): " + ", ".join(devices)
    return f"CPU ({backend}): {platform.processor() or platform.machine()}, {threads} thread(s)"


def backend_versions() -> dict[str, str]:
    """Keras' version and its backend's."""
    backend = keras.backend.backend()
    module = __import__(backend)
    return {"keras": keras.__version__, backend: module.__version__}


def train_model(
    train: pd.DataFrame,
    validation: pd.DataFrame,
    features: Sequence[str],
    settings: Mapping,
    classification: str,
    n_classes: int,
    seed: int,
    checkpoint_dir=None,
    checkpoint_seconds: float = 30.0,
    progress_seconds: float | None = None,
    name: str = "model",
    parametrised: bool = False,
) -> tuple[keras.Model, pd.DataFrame, dict]:
    """Train one network; returns the model (best epoch's weights), history and facts.

    ``seed`` fixes the initial weights, the dropout masks and the shuffling; every epoch
    is logged (``epoch 3/40: loss …``).
    With ``checkpoint_dir`` the state after an epoch is saved there (at most every
    ``checkpoint_seconds``, and always on a SIGTERM) and a saved state of the same
    training is resumed; the folder is removed when training completes. With
    ``progress_seconds``, a line on the console at most that often names the model
    ``name`` and says how far it is (:class:`ProgressReport`).
    ``parametrised``: the last inputs are the signal point's masses
    (:data:`cmsnn.vocabulary.MASS_INPUTS`, scaled, empty for background events), and the
    background gets masses drawn from the signal points: anew every epoch in the
    training split, once in the validation split (:mod:`cmsnn.preprocessing.mass_points`).
    """
    keras.utils.set_random_seed(seed)
    x_train, y_train, w_train = _arrays(train, features, classification, n_classes)
    x_val, y_val, w_val = _arrays(validation, features, classification, n_classes)
    inputs_of = None
    if parametrised:
        inputs_of, x_val = _mass_draws(train, validation, x_train, x_val, seed)
    keeper = KeepBestWeights(settings["early_stopping_patience"], settings["epochs"])
    fingerprint = training_fingerprint(
        settings, seed, classification, n_classes, x_train, y_train, w_train, x_val
    )
    model, first_epoch = resume_checkpoint(checkpoint_dir, fingerprint, keeper)
    if model is None:
        model = build_model(len(features), n_classes, classification, settings)
    model.summary(print_fn=log.info)
    epochs = CompiledEpochs(
        model,
        classification,
        settings["batch_size"],
        (x_train if inputs_of is None else inputs_of(first_epoch), y_train, w_train),
        (x_val, y_val, w_val),
        jit_compile=settings.get("jit_compile", True),
    )
    stop = StopRequest()
    saver = SaveOnEpochEnd(checkpoint_dir, keeper, fingerprint, checkpoint_seconds, stop)
    callbacks = [keeper, saver]
    if progress_seconds is not None:
        callbacks.append(ProgressReport(name, settings["epochs"], progress_seconds, keeper))
    started = time.perf_counter()
    with stop:
        run_epochs(
            epochs,
            keras.callbacks.CallbackList(callbacks, model=model),
            range(first_epoch, settings["epochs"]),
            lambda epoch: epoch_order(len(x_train), seed, epoch, settings["shuffle"]),
            inputs_of,
        )
    if saver.stopped_after is not None:
        raise TrainingInterrupted(
            f"stopped by {stop.name} after epoch {saver.stopped_after}; "
            f"the state is saved in {checkpoint_dir}: rerun the job to resume"
        )
    if keeper.best_weights is None:
        raise FloatingPointError(
            "the validation loss was never finite (NaN or infinite from the first epoch); "
            "lower training.learning_rate, check the inputs' scaling, or the weights"
        )
    keeper.restore_best(model)
    if checkpoint_dir is not None:
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
    facts = {
        "best_epoch": keeper.best_epoch,
        "best_val_loss": keeper.best_val_loss,
        "epochs_run": len(keeper.history),
        "resumed_from_epoch": first_epoch,
        "training_seconds": round(time.perf_counter() - started, 2),
        "n_train_events": len(train),
        "n_validation_events": len(validation),
    }
    return model, pd.DataFrame(keeper.history, columns=HISTORY_COLUMNS), facts


def run_epochs(epochs: CompiledEpochs, callbacks, numbers: range, order_of, inputs_of=None) -> None:
    """Train the epochs ``numbers`` (0-based), each over the events in ``order_of(epoch)``
    (with the inputs ``inputs_of(epoch)`` where given), calling the Keras ``callbacks``
    around each as ``fit`` would, with the training's and the validation's loss and
    accuracy; stops where a callback sets ``stop_training``."""
    model = callbacks.model
    model.stop_training = False
    callbacks.on_train_begin()
    for epoch in numbers:
        callbacks.on_epoch_begin(epoch)
        logs = epochs.train(order_of(epoch), None if inputs_of is None else inputs_of(epoch))
        logs |= epochs.validate()
        callbacks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callbacks.on_train_end()


def train_model_files(
    *,
    train,
    validation,
    scaler,
    validation_events,
    model,
    onnx,
    network,
    check,
    history,
    facts,
    task: NetworkTask,
    settings: Mapping,
    seed: int,
    threads: int,
    checkpoint_seconds: float = 30.0,
    progress_seconds: float = 30.0,
    name: str = "model",
) -> None:
    """Entry point of rule ``train_model``: one network of one grid point and seed.

    Args:
        train, validation: the prepared (scaled, balanced) Parquet files.
        scaler: the scaling of the network's inputs (JSON), folded into the export.
        validation_events: the validation split's events before scaling (Parquet), on
            which the exported model is checked against the Keras network.
        model, history, facts: the outputs: the Keras model, the per-epoch history CSV
            and the training's facts (JSON: settings, kept epoch, warnings, versions).
        onnx, network, check: the exported model of the raw variables (ONNX, for the
            analysis and the predictions), the bare network of scaled variables (ONNX,
            for the permutation importance) and the record of their checks (JSON).
        task: what the network is asked (classification, classes, input variables).
        settings: the grid point's training settings.
        seed: the seed; the same seed gives the same model, bit for bit on the CPU.
        threads: the job's threads.
        checkpoint_seconds: how often a checkpoint is saved for resuming (0: every
            epoch); a ``checkpoint`` folder beside ``model``.
        progress_seconds: how often a line on the console names the model ``name``.
    """
    classification, class_names, features = task.classification, task.class_names, task.features
    train_path, validation_path = train, validation
    model_output, history_output, facts_output = model, history, facts
    device = configure_backend(threads, settings.get("jit_compile", True))
    batch_job = batch_job_environment()
    log.info("training on %s", device)
    log.info("batch job: %s", batch_job or "none (local run)")
    unused_gpu = unused_gpu_warning(device)
    if unused_gpu:  # on the console as it happens, in the summary's warnings
        print(f"WARNING: training {name}: {unused_gpu}", file=console(), flush=True)
    train, validation = read_parquet(train_path), read_parquet(validation_path)
    negative_weights, warnings = {}, [unused_gpu] if unused_gpu else []
    for split, events in (("train", train), ("validation", validation)):
        report = negative_weight_report(events["weight"], events["class_index"], class_names)
        negative_weights[split] = report
        warnings += net_weight_warnings(report, f"{split} split")
    for warning in warnings:  # the summary says it too (cmsnn.summary.training_warnings)
        log.warning("%s", warning)
    model, history, facts = train_model(
        train,
        validation,
        task.inputs,
        settings,
        classification,
        len(class_names),
        seed,
        checkpoint_dir=Path(model_output).parent / "checkpoint",
        checkpoint_seconds=checkpoint_seconds,
        progress_seconds=progress_seconds,
        name=name,
        parametrised=task.parametrised,
    )
    log.info("kept epoch %d (validation loss %.6g)", facts["best_epoch"], facts["best_val_loss"])
    if unconverged := unconverged_warning(facts):  # the summary says it too
        log.warning(unconverged)
    write_with(model_output, model.save)
    # Exported here, where Keras is loaded anyway: predictions and importance then run it
    # with ONNX Runtime, and no other job of the model starts TensorFlow.
    raw_validation = pq.read_table(validation_events, columns=list(features)).to_pandas()
    raw_events = raw_validation.to_numpy(dtype=np.float32)
    scaled_events = validation[list(features)].to_numpy(dtype=np.float32)
    if task.parametrised:  # the check asks the network at several of its points
        raw_events, scaled_events = _at_mass_points(raw_events, scaled_events, scaler)
    export_checked_onnx(
        model,
        scaler,
        model_output,
        raw_events,
        scaled_events,
        {"onnx": onnx, "network": network, "check": check},
        task.score_columns,
        threads,
    )
    write_csv(history, history_output)
    write_json(
        {
            "seed": seed,
            "classification": classification,
            "classes": list(class_names),
            "settings": dict(settings),
            **facts,
            "negative_weights": negative_weights,
            "warnings": warnings,
            "device": device,
            "batch_job": batch_job,
            "versions": backend_versions(),
        },
        facts_output,
    )


#: The mass points a parametrised network's export is checked at: the lightest, the
#: heaviest and one between (of the trained points, by their first mass).
CHECKED_MASS_POINTS = 3


def _at_mass_points(raw_events: np.ndarray, scaled_events: np.ndarray, scaler_file):
    """The check's events repeated at :data:`CHECKED_MASS_POINTS` trained points: raw
    masses (GeV) after the raw variables, scaled ones after the scaled variables."""
    masses = read_json(scaler_file)["mass_inputs"]
    points = np.array(sorted(masses["points"].values()), dtype=np.float64)
    chosen = points[np.unique(np.linspace(0, len(points) - 1, CHECKED_MASS_POINTS).round())
                    .astype(int)]  # fmt: skip
    scaled_points = scale_masses(masses, chosen)

    def at(events, point_masses):
        return np.vstack([np.hstack([events, np.tile(point, (len(events), 1))])
                          for point in point_masses]).astype(np.float32)  # fmt: skip

    return at(raw_events, chosen), at(scaled_events, scaled_points)


def _mass_draws(train, validation, x_train, x_val, seed: int):
    """A parametrised training's inputs of each epoch (a function of the epoch) and its
    validation inputs: the background events' masses drawn from the training's signal
    points (anew every epoch; once for the validation), the signal's their own."""
    signal = (train["class_index"] == 0).to_numpy()
    points = MassPoints.of_training(train, signal)
    background = ~signal
    n_background = int(background.sum())

    def inputs_of(epoch: int) -> np.ndarray:
        drawn = points.draw(n_background, seed, TRAINING_DRAWS, epoch)
        return points.with_masses(x_train, background, drawn)

    validation_background = (validation["class_index"] != 0).to_numpy()
    drawn = points.draw(int(validation_background.sum()), seed, VALIDATION_DRAWS)
    return inputs_of, points.with_masses(x_val, validation_background, drawn)


def _arrays(events: pd.DataFrame, features, classification: str, n_classes: int):
    x = events[list(features)].to_numpy(dtype=np.float32)
    targets = training_targets(events["class_index"].to_numpy(), classification)
    if classification == "binary":
        y = targets.astype(np.float32)
    else:
        y = keras.utils.to_categorical(targets, num_classes=n_classes).astype(np.float32)
    return x, y, events["training_weight"].to_numpy(dtype=np.float32)
