"""The signal's mass point as input of a parametrised network (Baldi, Cranmer, Faucett,
Sadowski and Whiteson, arXiv:1601.07913): one network for a whole plane of mass points.

Each signal event carries the masses of its own point (``<model>_<m1>_<m2>`` in its
process name, or given per process in ``training.signal_masses``). A background event has no
mass of its own: in the training it gets a signal point's masses drawn at random, in
proportion to the points' shares of the signal's training weight, again in every epoch
(from the seed and the epoch alone, so a seed still gives the same model and a resumed
training the same draws); in the validation split once, from the seed; and when the
network is evaluated "at a point", every event gets that point's masses. So no
background event ever reaches the network with masses that are not a signal point's,
and the network cannot tell signal from background by the masses alone.

The masses are z-scored with the signal events of the training split (the scaler's
``mass_inputs``), whatever ``preprocessing.scaling`` says: a mass is a label with a
handful of values, which a quantile map would turn into steps and a min-max map would
not extend to a point between the trained ones; a z-score is linear, so a point between
two trained ones lies between them for the network too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cmsnn.vocabulary import MASS_INPUTS, parse_signal_point

#: The random streams of the background's mass draws (beside the seed and the epoch).
TRAINING_DRAWS, VALIDATION_DRAWS = 0x6D617373, 0x76616C69


def process_masses(processes: Sequence[str], given: Mapping[str, Sequence[float]]) -> dict:
    """``{process: (mass_1, mass_2)}`` of the signal processes, in GeV.

    Args:
        processes: the signal processes.
        given: masses set in the config (``training.signal_masses``: ``{process: [m1,
            m2]}``), which win over the name.

    Raises:
        ValueError: a process whose masses are neither given nor in its name.
    """
    masses = {}
    for process in processes:
        if process in given:
            masses[process] = tuple(float(mass) for mass in given[process])
            continue
        point = parse_signal_point(process)
        if point["mass_1"] is None:
            raise ValueError(
                f"training.parametrised: the signal process {process!r} has no masses: "
                "name it <model>_<m1>_<m2> (e.g. T2DegStop_550_520.root) or give its "
                "masses (GeV) in training.signal_masses as {process: [m1, m2]}"
            )
        masses[process] = (point["mass_1"], point["mass_2"])
    return masses


def attach_masses(events: pd.DataFrame, masses: Mapping[str, tuple]) -> pd.DataFrame:
    """``events`` with the :data:`MASS_INPUTS` columns: each signal event's point's
    masses, NaN for the others (which get theirs where the network is run)."""
    table = pd.DataFrame.from_dict(masses, orient="index", columns=list(MASS_INPUTS))
    own = table.reindex(events["process"].to_numpy())
    return events.assign(**{column: own[column].to_numpy() for column in MASS_INPUTS})


def fit_mass_scaling(events: pd.DataFrame) -> dict:
    """The z-score of the masses over the signal events that have them (JSON-ready)."""
    values = events[list(MASS_INPUTS)].dropna().to_numpy(dtype=np.float64)
    if not len(values):
        raise ValueError("training.parametrised: the training split has no signal event")
    std = values.std(axis=0)
    return {
        "columns": list(MASS_INPUTS),
        "mean": values.mean(axis=0).tolist(),
        "std": np.where(std > 0, std, 1.0).tolist(),
    }


def scale_masses(scaling: Mapping, masses: np.ndarray) -> np.ndarray:
    """Masses (events or points × 2, GeV) as the network takes them."""
    return (np.asarray(masses, dtype=np.float64) - scaling["mean"]) / scaling["std"]


def equalise_points(weights: np.ndarray, points: pd.Series, is_signal: np.ndarray) -> np.ndarray:
    """Training weights with every signal point's sum the signal's mean per point, the
    background's untouched: the class balancing that follows then sees the same signal
    total, and each point weighs alike in the training (its cross section would make the
    lightest points dominate: it falls tenfold across the embedded plane)."""
    weights = np.asarray(weights, dtype=np.float64).copy()
    sums = pd.Series(weights[is_signal]).groupby(points[is_signal].to_numpy()).sum()
    if (sums <= 0).any():
        raise ValueError(
            "training.parametrised: the signal point(s) "
            f"{sorted(sums.index[sums <= 0])} have no positive training weight"
        )
    target = sums.mean()
    weights[is_signal] *= (target / sums).reindex(points[is_signal].to_numpy()).to_numpy()
    return weights


@dataclass(frozen=True)
class MassPoints:
    """The training's signal points: ``names``, their scaled ``masses`` (points × 2, as
    the network takes them) and ``shares`` of the signal's training weight, from which a
    background event's masses are drawn."""

    names: tuple[str, ...]
    masses: np.ndarray
    shares: np.ndarray

    @classmethod
    def of_training(cls, events: pd.DataFrame, signal: np.ndarray) -> MassPoints:
        """The points of the training split's signal events (``signal`` a mask), with
        their scaled masses (the prepared columns) and training-weight shares."""
        chosen = events.loc[signal, ["process", *MASS_INPUTS, "training_weight"]]
        grouped = chosen.groupby("process", sort=True)
        sums = grouped["training_weight"].sum()
        if sums.sum() <= 0:
            raise ValueError("training.parametrised: the signal has no training weight")
        return cls(
            names=tuple(sums.index),
            masses=grouped[list(MASS_INPUTS)].first().to_numpy(dtype=np.float32),
            shares=(sums / sums.sum()).to_numpy(dtype=np.float64),
        )

    def draw(self, n_events: int, seed: int, stream: int, epoch: int = 0) -> np.ndarray:
        """Masses (``n_events`` × 2, scaled) drawn from the points by their shares: the
        same for the same seed, stream and epoch."""
        rng = np.random.default_rng([seed, stream, epoch])
        return self.masses[rng.choice(len(self.names), size=n_events, p=self.shares)]

    def with_masses(self, inputs: np.ndarray, background: np.ndarray, masses) -> np.ndarray:
        """``inputs`` (events × variables, the masses last) with the ``background``
        rows' masses replaced by ``masses``."""
        inputs = inputs.copy()
        inputs[background, -len(MASS_INPUTS) :] = masses
        return inputs
