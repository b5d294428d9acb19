"""Training one model: one grid point, one seed.

The weights of the epoch with the lowest weighted validation loss are kept (the
tutorial's ``ModelCheckpoint(save_best_only=True)``), and the per-epoch history is
written as CSV. The same seed gives the same model: Keras' seeds are set, the
backend's operations are made deterministic, and the events are shuffled every epoch
by a permutation drawn from the seed and the epoch number alone.

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

import hashlib
import json
import logging
import os
import platform
import shutil
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from cmsnn.backend import batch_job_environment, unused_gpu_warning
from cmsnn.files import read_json, read_parquet, write_csv, write_json, write_with
from cmsnn.logs import console
from cmsnn.model import build_model, limit_threads
from cmsnn.weighting import negative_weight_report, net_weight_warnings, training_targets

log = logging.getLogger(__name__)

HISTORY_COLUMNS = ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "learning_rate")


class KeepBestWeights(keras.callbacks.Callback):
    """Record the history, remember the weights at the lowest ``val_loss`` and restore
    them when training ends; optionally stop after ``patience`` epochs without gain."""

    def __init__(self, patience: int = 0, epochs: int = 0):
        super().__init__()
        self.patience = patience
        self.epochs = epochs
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
        log.info(
            "epoch %d/%d: %s",
            epoch + 1,
            self.epochs,
            ", ".join(
                f"{key} {value:.6g}" for key, value in self.history[-1].items() if key != "epoch"
            ),
        )
        if logs["val_loss"] < self.best_val_loss:
            self.best_val_loss = float(logs["val_loss"])
            self.best_epoch = epoch + 1
            self.best_weights = self.model.get_weights()
        elif self.patience and epoch + 1 - self.best_epoch >= self.patience:
            self.model.stop_training = True

    def restore_best(self, model) -> None:
        """Give ``model`` the weights of the best epoch (called once training is over,
        also when a resumed training had no epoch left to run)."""
        if self.best_weights is not None:
            model.set_weights(self.best_weights)

    def state(self) -> dict:
        return {
            "history": self.history,
            "best_epoch": self.best_epoch,
            "best_val_loss": self.best_val_loss,
        }

    def load_state(self, state: Mapping, best_weights) -> None:
        self.history = list(state["history"])
        self.best_epoch = state["best_epoch"]
        self.best_val_loss = state["best_val_loss"]
        self.best_weights = best_weights


class StopRequest:
    """Remembers a SIGTERM (or SIGINT) so that training stops after the current epoch,
    once it is saved, instead of dying in the middle of it."""

    def __init__(self):
        self.signal = None
        self._previous = {}

    def __enter__(self):
        for number in (signal.SIGTERM, signal.SIGINT):
            self._previous[number] = signal.signal(number, self._remember)
        return self

    def __exit__(self, *exc):
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _remember(self, number, frame):
        log.warning(
            "received %s: stopping after this epoch, once it is saved", signal.Signals(number).name
        )
        self.signal = number

    @property
    def name(self) -> str | None:
        return None if self.signal is None else signal.Signals(self.signal).name


class ProgressReport(keras.callbacks.Callback):
    """One line for a person watching (:func:`cmsnn.logs.console`), after the first
    epoch and then at most every ``seconds``, and after the last: the model, the epoch,
    the validation loss and the best so far, the time spent and an estimate of the time
    left (the mean epoch time so far × the epochs left; early stopping can end sooner).
    Nothing per batch; the job's log keeps every epoch (:class:`KeepBestWeights`)."""

    def __init__(self, name: str, epochs: int, seconds: float, keeper, stream=None, clock=None):
        super().__init__()
        self.name, self.epochs, self.seconds, self.keeper = name, epochs, seconds, keeper
        self.stream = stream
        self.clock = clock or time.monotonic
        self.started = self.last_line = self.first_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.started is None:
            self.started, self.first_epoch = self.clock(), epoch

    def on_epoch_end(self, epoch, logs=None):
        now = self.clock()
        done = epoch + 1
        due = self.last_line is None or now - self.last_line >= self.seconds
        # the last line: the last epoch, or an early stop or a SIGTERM ending this one
        last = done == self.epochs or bool(getattr(self.model, "stop_training", False))
        if not (due or last):
            return
        self.last_line = now
        elapsed = now - self.started
        left = elapsed / (done - self.first_epoch) * (self.epochs - done)
        line = (
            f"training {self.name}: epoch {done}/{self.epochs}, val_loss "
            f"{(logs or {}).get('val_loss', float('nan')):.4g} (best "
            f"{self.keeper.best_val_loss:.4g} at epoch {self.keeper.best_epoch}), "
            f"{_duration(elapsed)} so far"
            + (f", about {_duration(left)} left" if not last else ", done")
        )
        print(line, file=self.stream or console(), flush=True)


def _duration(seconds: float) -> str:
    """``'42 s'``, ``'3 min 05 s'`` or ``'2 h 04 min'``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class EpochShuffle(keras.callbacks.Callback):
    """The order of the training events in the epoch being trained (see
    :func:`epoch_order`); :func:`training_batches` asks it at every epoch's start."""

    def __init__(self, n_events: int, seed: int, shuffle: bool):
        super().__init__()
        self.n_events, self.seed, self.shuffle = n_events, seed, shuffle
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def order(self) -> np.ndarray:
        order = epoch_order(self.n_events, self.seed, self.epoch, self.shuffle)
        return order.astype(np.int64, copy=False)  # (already int64 where numpy's int is)


class SaveOnEpochEnd(keras.callbacks.Callback):
    """Save a checkpoint after an epoch, at most every ``seconds`` and always when a
    stop was requested (SIGTERM), and then stop training (``stopped_after`` says when)."""

    def __init__(self, folder, keeper: KeepBestWeights, fingerprint, seconds, stop: StopRequest):
        super().__init__()
        self.folder, self.keeper, self.fingerprint = folder, keeper, fingerprint
        self.seconds, self.stop = seconds, stop
        self.last_saved = time.perf_counter()
        self.stopped_after = None

    def on_epoch_end(self, epoch, logs=None):
        if self.model.stop_training:  # stopped early: training is complete
            return
        due = time.perf_counter() - self.last_saved >= self.seconds
        if self.folder is not None and (due or self.stop.signal is not None):
            save_checkpoint(self.folder, self.model, self.keeper, epoch + 1, self.fingerprint)
            self.last_saved = time.perf_counter()
        if self.stop.signal is not None:
            self.stopped_after = epoch + 1
            self.model.stop_training = True


class TrainingInterrupted(RuntimeError):
    """Training stopped on a signal after saving a checkpoint; rerun the job to resume."""


def configure_backend(threads: int, jit_compile: bool = False) -> str:
    """Use ``threads`` CPU threads and deterministic operations on Keras' backend.

    Without ``jit_compile`` TensorFlow's own op determinism is enabled; Keras will not
    compile with XLA under it, so with ``jit_compile`` XLA's kernels give the
    determinism instead (those of the CPU are; on a GPU, XLA's deterministic-ops flag
    is set). Returns a description of the device the model will train on (a GPU when
    the job was given one, otherwise the CPU).
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
        log.info("training step compiled with XLA: %s", "yes" if jit_compile else "no")
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
    verbose: int = 0,
    checkpoint_dir=None,
    checkpoint_seconds: float = 30.0,
    progress_seconds: float | None = None,
    name: str = "model",
) -> tuple[keras.Model, pd.DataFrame, dict]:
    """Train one network; returns the model (best epoch's weights), history and facts.

    ``seed`` fixes the initial weights, the dropout masks and the shuffling; every epoch
    is logged (``epoch 3/40: loss …``); ``verbose`` is Keras' own printing (0: none).
    With ``checkpoint_dir`` the state after an epoch is saved there (at most every
    ``checkpoint_seconds``, and always on a SIGTERM) and a saved state of the same
    training is resumed; the folder is removed when training completes. With
    ``progress_seconds``, a line on the console at most that often names the model
    ``name`` and says how far it is (:class:`ProgressReport`).
    """
    keras.utils.set_random_seed(seed)
    x_train, y_train, w_train = _arrays(train, features, classification, n_classes)
    x_val, y_val, w_val = _arrays(validation, features, classification, n_classes)
    keeper = KeepBestWeights(settings["early_stopping_patience"], settings["epochs"])
    fingerprint = _fingerprint(
        settings, seed, classification, n_classes, x_train, y_train, w_train, x_val
    )
    model, first_epoch = _resume(checkpoint_dir, fingerprint, keeper)
    if model is None:
        # a whole epoch per compiled call: no Python between its batches
        batches_per_epoch = -(-len(x_train) // settings["batch_size"])
        model = build_model(len(features), n_classes, classification, settings, batches_per_epoch)
    model.summary(print_fn=log.info)
    if settings.get("jit_compile") and not model.jit_compile:
        log.warning(
            "Keras declined to compile with XLA (TensorFlow's op determinism is on in this "
            "process: configure_backend(threads, jit_compile=True) leaves it off)"
        )
    shuffler = EpochShuffle(len(x_train), seed, settings["shuffle"])
    stop = StopRequest()
    saver = SaveOnEpochEnd(checkpoint_dir, keeper, fingerprint, checkpoint_seconds, stop)
    callbacks = [shuffler, keeper, saver]
    if progress_seconds is not None:
        callbacks.append(ProgressReport(name, settings["epochs"], progress_seconds, keeper))
    started = time.perf_counter()
    with stop:
        if first_epoch < settings["epochs"]:
            # One fit for every epoch: its setup (data pipelines, callbacks, the
            # validation iterator) costs as much as a short epoch.
            model.fit(
                training_batches(x_train, y_train, w_train, settings["batch_size"], shuffler),
                validation_data=(x_val, y_val, w_val),
                validation_batch_size=settings["batch_size"],
                initial_epoch=first_epoch,
                epochs=settings["epochs"],
                shuffle=False,  # the order is the shuffler's
                callbacks=callbacks,
                verbose=verbose,
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


def epoch_order(n_events: int, seed: int, epoch: int, shuffle: bool) -> np.ndarray:
    """The order of the training events in ``epoch``: a permutation drawn from the seed
    and the epoch alone (so a resumed training shuffles as an uninterrupted one)."""
    if not shuffle:
        return np.arange(n_events)
    return np.random.default_rng([seed, epoch]).permutation(n_events)


def training_batches(x, y, weights, batch_size: int, shuffler: EpochShuffle):
    """The training events as ``fit`` batches them (``batch_size`` events, the last
    batch partial), in the order ``shuffler`` gives for each epoch: one pipeline for
    every epoch, as Keras builds for arrays, but with the project's own shuffling."""
    import tensorflow as tf

    n_events = len(x)
    n_full = n_events // batch_size

    def epoch_batches(_):
        order = tf.numpy_function(shuffler.order, [], tf.int64, stateful=True)
        order.set_shape([n_events])
        full = tf.reshape(order[: n_full * batch_size], [n_full, batch_size])
        batches = tf.data.Dataset.from_tensor_slices(full)
        if n_events % batch_size:
            batches = batches.concatenate(
                tf.data.Dataset.from_tensors(order[n_full * batch_size :])
            )
        return batches

    def gather(indices, arrays):
        return tuple(tf.gather(array, indices, axis=0) for array in arrays)

    # Keras iterates anew every epoch, after on_epoch_begin: the order is drawn then.
    indices = tf.data.Dataset.range(1).flat_map(epoch_batches)
    arrays = tf.data.Dataset.from_tensors((x, y, weights)).repeat()
    dataset = tf.data.Dataset.zip((indices, arrays))
    dataset = dataset.map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    n_batches = n_full + bool(n_events % batch_size)
    return dataset.apply(tf.data.experimental.assert_cardinality(n_batches))


#: Files of a checkpoint: one folder per saved epoch, and the state naming it.
_CHECKPOINT_MODEL = "model.keras"
_CHECKPOINT_BEST = "best_weights.npz"
_CHECKPOINT_STATE = "state.json"
#: The dropout layers' random-number states, which the saved model does not hold.
_CHECKPOINT_SEEDS = "seed_states.npz"


def _seed_generators(model) -> list:
    """The random-number generators of the model's layers (dropout), in layer order."""
    return [layer.seed_generator for layer in model.layers if hasattr(layer, "seed_generator")]


def save_checkpoint(folder, model, keeper: KeepBestWeights, epochs_done: int, fingerprint: str):
    """The state after ``epochs_done`` epochs: the model and the best weights in a new
    folder of that epoch, then the state file naming it, written atomically; only then
    are older epochs' folders removed, so a kill at any moment leaves a usable state."""
    folder = Path(folder)
    epoch_folder = folder / f"epoch-{epochs_done:06d}"
    epoch_folder.mkdir(parents=True, exist_ok=True)
    write_with(epoch_folder / _CHECKPOINT_MODEL, model.save)
    best = keeper.best_weights or []
    write_with(epoch_folder / _CHECKPOINT_BEST, lambda path: np.savez(path, *best))
    seeds = [keras.ops.convert_to_numpy(generator.state) for generator in _seed_generators(model)]
    write_with(epoch_folder / _CHECKPOINT_SEEDS, lambda path: np.savez(path, *seeds))
    state = {
        "epochs_done": epochs_done,
        "folder": epoch_folder.name,
        "fingerprint": fingerprint,
        **keeper.state(),
    }
    write_json(state, folder / _CHECKPOINT_STATE)
    for old in folder.glob("epoch-*"):
        if old != epoch_folder:
            shutil.rmtree(old, ignore_errors=True)


def _resume(folder, fingerprint: str, keeper: KeepBestWeights):
    """``(model, first epoch)`` from a checkpoint of this very training, else
    ``(None, 0)``; a checkpoint of another training is discarded."""
    state_path = Path(folder) / _CHECKPOINT_STATE if folder is not None else None
    if state_path is None or not state_path.is_file():
        return None, 0
    state = read_json(state_path)
    if state.get("fingerprint") != fingerprint:
        log.warning("discarding the checkpoint in %s: it belongs to another training", folder)
        shutil.rmtree(folder, ignore_errors=True)
        return None, 0
    epoch_folder = Path(folder) / state["folder"]
    model = keras.saving.load_model(epoch_folder / _CHECKPOINT_MODEL)
    with np.load(epoch_folder / _CHECKPOINT_BEST) as saved:
        best_weights = [saved[f"arr_{index}"] for index in range(len(saved.files))] or None
    with np.load(epoch_folder / _CHECKPOINT_SEEDS) as saved:
        for index, generator in enumerate(_seed_generators(model)):
            generator.state.assign(saved[f"arr_{index}"])
    keeper.load_state(state, best_weights)
    log.info("resuming from the checkpoint in %s after epoch %d", folder, state["epochs_done"])
    return model, state["epochs_done"]


def _fingerprint(settings, seed, classification, n_classes, *arrays) -> str:
    """What makes a checkpoint this training's: its settings and its data."""
    digest = hashlib.sha256(
        json.dumps(
            [dict(settings), seed, classification, n_classes], sort_keys=True, default=str
        ).encode()
    )
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def train_files(
    train_path,
    validation_path,
    model_output,
    history_output,
    facts_output,
    features: Sequence[str],
    settings: Mapping,
    classification: str,
    class_names: Sequence[str],
    seed: int,
    threads: int,
    checkpoint_seconds: float = 30.0,
    progress_seconds: float = 30.0,
    name: str = "model",
) -> None:
    """Rule entry point: prepared Parquet in; model, history CSV and facts JSON out;
    a checkpoint every ``checkpoint_seconds`` (0: every epoch) for resuming, and a line
    on the console at most every ``progress_seconds`` naming the model ``name``."""
    device = configure_backend(threads, settings.get("jit_compile", False))
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
        features,
        settings,
        classification,
        len(class_names),
        seed,
        checkpoint_dir=Path(model_output).parent / "checkpoint",
        checkpoint_seconds=checkpoint_seconds,
        progress_seconds=progress_seconds,
        name=name,
    )
    log.info("kept epoch %d (validation loss %.6g)", facts["best_epoch"], facts["best_val_loss"])
    if facts["epochs_run"] > 1 and facts["best_epoch"] == facts["epochs_run"]:
        # the summary says it too (cmsnn.summary.training_warnings)
        log.warning(
            "the kept epoch is the last one trained (%d): the model has not converged, its "
            "validation loss was still falling; raise training.epochs",
            facts["best_epoch"],
        )
    write_with(model_output, model.save)
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


def _arrays(events: pd.DataFrame, features, classification: str, n_classes: int):
    x = events[list(features)].to_numpy(dtype=np.float32)
    targets = training_targets(events["class_index"].to_numpy(), classification)
    if classification == "binary":
        y = targets.astype(np.float32)
    else:
        y = keras.utils.to_categorical(targets, num_classes=n_classes).astype(np.float32)
    return x, y, events["training_weight"].to_numpy(dtype=np.float32)
