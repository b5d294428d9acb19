"""What the training loop does between epochs: keep the best weights, shuffle the events
by a permutation drawn from the seed and the epoch, save a checkpoint, report progress,
and stop cleanly at a SIGTERM.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Mapping

import keras
import numpy as np

from cmsnn.logs import console
from cmsnn.processes import process_alive, snakemake_ancestor

log = logging.getLogger(__name__)


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
    once it is saved, instead of dying in the middle of it; and stops the same way when
    the Snakemake process that started the job is gone (killed: its job must not train
    on unseen, and the same command resumes from the checkpoint)."""

    def __init__(self):
        self.signal = None
        self.orphaned = False
        self._previous = {}
        self._snakemake = snakemake_ancestor()

    def __enter__(self):
        for number in (signal.SIGTERM, signal.SIGINT):
            self._previous[number] = signal.signal(number, self._remember)
        return self

    def requested(self) -> bool:
        """Whether to stop after this epoch: a signal came, or Snakemake is gone."""
        if self.signal is None and not self.orphaned and self._snakemake is not None:
            if not process_alive(*self._snakemake):
                log.warning(
                    "the Snakemake process that started this job (%d) is gone: stopping "
                    "after this epoch, once it is saved; the same command resumes it",
                    self._snakemake[0],
                )
                self.orphaned = True
        return self.signal is not None or self.orphaned

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
        if self.signal is None:
            return "the end of its Snakemake process" if self.orphaned else None
        return signal.Signals(self.signal).name


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
            + (
                f", {_left_words(getattr(self.keeper, 'patience', 0))} {_duration(left)} left"
                if not last
                else ", done"
            )
        )
        print(line, file=self.stream or console(), flush=True)


def _left_words(patience) -> str:
    """With early stopping the epochs left are a ceiling: the training may stop sooner."""
    return "at most about" if patience else "about"


def _duration(seconds: float) -> str:
    """``'42 s'``, ``'3 min 05 s'`` or ``'2 h 04 min'``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class TrainingInterrupted(RuntimeError):
    """Training stopped on a signal after saving a checkpoint; rerun the job to resume."""


HISTORY_COLUMNS = ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "learning_rate")


def epoch_order(n_events: int, seed: int, epoch: int, shuffle: bool) -> np.ndarray:
    """The order of the training events in ``epoch``: a permutation drawn from the seed
    and the epoch alone (so a resumed training shuffles as an uninterrupted one)."""
    if not shuffle:
        return np.arange(n_events)
    return np.random.default_rng([seed, epoch]).permutation(n_events)
