"""Training one model: one grid point, one seed.

The weights of the epoch with the lowest weighted validation loss are kept (the
tutorial's ``ModelCheckpoint(save_best_only=True)``), and the per-epoch history is
written as CSV. The same seed gives the same model: Keras' seeds are set and the
backend's operations are made deterministic.
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Mapping, Sequence

import keras
import numpy as np
import pandas as pd

from cmsnn.backend import batch_job_environment
from cmsnn.files import read_parquet, write_csv, write_json, write_with
from cmsnn.model import build_model, limit_threads
from cmsnn.weighting import training_targets

log = logging.getLogger(__name__)

HISTORY_COLUMNS = ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "learning_rate")


class KeepBestWeights(keras.callbacks.Callback):
    """Record the history, remember the weights at the lowest ``val_loss`` and restore
    them when training ends; optionally stop after ``patience`` epochs without gain."""

    def __init__(self, patience: int = 0):
        super().__init__()
        self.patience = patience
        self.history: list[dict] = []
        self.best_epoch = 0
        self.best_val_loss = np.inf
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        learning_rate = keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
        self.history.append(
            {
                "epoch": epoch + 1,
                **{key: float(logs[key]) for key in HISTORY_COLUMNS[1:-1]},
                "learning_rate": float(learning_rate),
            }
        )
        if logs["val_loss"] < self.best_val_loss:
            self.best_val_loss = float(logs["val_loss"])
            self.best_epoch = epoch + 1
            self.best_weights = self.model.get_weights()
        elif self.patience and epoch + 1 - self.best_epoch >= self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def configure_backend(threads: int) -> str:
    """Use ``threads`` CPU threads and deterministic operations on Keras' backend.

    Returns a description of the device the model will train on (a GPU when the job
    was given one, otherwise the CPU).
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        limit_threads(threads)
        tf.config.experimental.enable_op_determinism()
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
    mode: str,
    n_classes: int,
    seed: int,
    verbose: int = 2,
) -> tuple[keras.Model, pd.DataFrame, dict]:
    """Train one network; returns the model (best epoch's weights), history and facts.

    ``seed`` fixes the initial weights, the dropout masks and the shuffling; ``verbose``
    is Keras' (2: one line per epoch, as the rule's log shows).
    """
    keras.utils.set_random_seed(seed)
    x_train, y_train, w_train = _arrays(train, features, mode, n_classes)
    x_val, y_val, w_val = _arrays(validation, features, mode, n_classes)
    model = build_model(len(features), n_classes, mode, settings)
    model.summary(print_fn=log.info)
    keeper = KeepBestWeights(patience=settings["early_stopping_patience"])
    started = time.perf_counter()
    model.fit(
        x_train,
        y_train,
        sample_weight=w_train,
        validation_data=(x_val, y_val, w_val),
        epochs=settings["epochs"],
        batch_size=settings["batch_size"],
        shuffle=settings["shuffle"],
        callbacks=[keeper],
        verbose=verbose,
    )
    if keeper.best_weights is None:
        raise FloatingPointError(
            "the validation loss was never finite (NaN or infinite from the first epoch); "
            "lower training.learning_rate, check the inputs' scaling, or the weights"
        )
    facts = {
        "best_epoch": keeper.best_epoch,
        "best_val_loss": keeper.best_val_loss,
        "epochs_run": len(keeper.history),
        "training_seconds": round(time.perf_counter() - started, 2),
        "n_train_events": len(train),
        "n_validation_events": len(validation),
    }
    return model, pd.DataFrame(keeper.history, columns=HISTORY_COLUMNS), facts


def train_files(
    train_path,
    validation_path,
    model_output,
    history_output,
    facts_output,
    features: Sequence[str],
    settings: Mapping,
    mode: str,
    class_names: Sequence[str],
    seed: int,
    threads: int,
) -> None:
    """Rule entry point: prepared Parquet in; model, history CSV and facts JSON out."""
    device = configure_backend(threads)
    batch_job = batch_job_environment()
    log.info("training on %s", device)
    log.info("batch job: %s", batch_job or "none (local run)")
    model, history, facts = train_model(
        read_parquet(train_path),
        read_parquet(validation_path),
        features,
        settings,
        mode,
        len(class_names),
        seed,
    )
    log.info("kept epoch %d (validation loss %.6g)", facts["best_epoch"], facts["best_val_loss"])
    write_with(model_output, model.save)
    write_csv(history, history_output)
    write_json(
        {
            "seed": seed,
            "mode": mode,
            "classes": list(class_names),
            "settings": dict(settings),
            **facts,
            "device": device,
            "batch_job": batch_job,
            "versions": backend_versions(),
        },
        facts_output,
    )


def _arrays(events: pd.DataFrame, features, mode: str, n_classes: int):
    x = events[list(features)].to_numpy(dtype=np.float32)
    targets = training_targets(events["class_index"].to_numpy(), mode)
    if mode == "binary":
        y = targets.astype(np.float32)
    else:
        y = keras.utils.to_categorical(targets, num_classes=n_classes).astype(np.float32)
    return x, y, events["training_weight"].to_numpy(dtype=np.float32)
