"""Checkpoints of a training: the model with its optimizer state, the dropout layers'
random state, the best weights so far and the history, saved atomically, and resumed
only by the same training (its fingerprint: settings, seed and data).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from pathlib import Path

import keras
import numpy as np

from cmsnn.files import read_json, write_json, write_with
from cmsnn.learning.callbacks import KeepBestWeights, StopRequest

log = logging.getLogger(__name__)


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


def resume_checkpoint(folder, fingerprint: str, keeper: KeepBestWeights):
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


def training_fingerprint(settings, seed, classification, n_classes, *arrays) -> str:
    """What makes a checkpoint this training's: its settings and its data."""
    digest = hashlib.sha256(
        json.dumps(
            [dict(settings), seed, classification, n_classes], sort_keys=True, default=str
        ).encode()
    )
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


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
        stop = self.stop.requested()
        if self.folder is not None and (due or stop):
            save_checkpoint(self.folder, self.model, self.keeper, epoch + 1, self.fingerprint)
            self.last_saved = time.perf_counter()
        if stop:
            self.stopped_after = epoch + 1
            self.model.stop_training = True
