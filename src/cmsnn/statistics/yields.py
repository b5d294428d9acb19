"""Expected yields: each simulated event's weight times the luminosity, divided by the
measured share of its process in the split, and the signal and background that the
network selects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cmsnn.vocabulary import MASS_POINT


def yield_weights(weights, luminosity: float, split_fraction) -> np.ndarray:
    """Expected events per simulated event: ``weight × luminosity / split fraction``.

    ``weight`` is in pb (cross section / generated events), ``luminosity`` in pb⁻¹; the
    split fraction (one number, or one per event: the share of its process's events the
    split holds, :func:`event_split_fractions`) undoes the share of events a split holds,
    so each split estimates the full yield.

    Args:
        weights: the events' weights, in pb.
        luminosity: in pb⁻¹.
        split_fraction: the split's share of the events' process (one or per event).

    Returns:
        Each event's expected events at ``luminosity``.

    >>> yield_weights([0.5, 1.0], 1000.0, 0.5)  # half the events: each stands for two
    array([1000., 2000.])
    """
    return np.asarray(weights, dtype=np.float64) * luminosity / split_fraction


def event_split_fractions(events: pd.DataFrame, split_fraction) -> float | np.ndarray:
    """The split fraction of every event of ``events``: ``split_fraction`` itself when it is
    one number, or, given ``{process: share}`` (measured by the split step, ``shares.csv``),
    the share of each event's process.

    Raises:
        ValueError: a process of ``events`` has no share.
    """
    if not isinstance(split_fraction, Mapping):
        return float(split_fraction)
    fractions = events["process"].map(split_fraction)
    missing = fractions.isna().to_numpy()
    if missing.any():
        raise ValueError(
            f"the split's shares (shares.csv) list no share for the processes "
            f"{sorted(set(events['process'][missing]))}: the predictions do not come from "
            "these splits; rerun the split step and what follows it"
        )
    return fractions.to_numpy(dtype=np.float64)


def predicted_as_signal(
    predictions: pd.DataFrame, classification: str, signal_class: str
) -> pd.DataFrame:
    """The events the FOM counts: all of them in binary mode; in multi-class mode those
    whose highest score is the signal's, as the tutorial."""
    if classification == "multiclass":
        return predictions[predictions["predicted_class"] == signal_class]
    return predictions


def signal_and_background(
    events: pd.DataFrame, signal_class: str, signal_processes: Sequence[str] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the FOM's signal and background events.

    Signal: the signal class, restricted to ``signal_processes`` when given (the other
    signal processes then count as neither signal nor background). Background: every
    other class.
    """
    is_signal_class = (events["class"] == signal_class).to_numpy()
    is_signal = is_signal_class
    if signal_processes:
        is_signal = is_signal_class & events["process"].isin(signal_processes).to_numpy()
    return is_signal, ~is_signal_class


def signal_process_names(predictions: pd.DataFrame, signal_class: str) -> list[str]:
    """The processes of the signal class, in the order the events list them (the
    configured order of the input files)."""
    return list(pd.unique(predictions.loc[predictions["class"] == signal_class, "process"]))


def background_yields_by_class(
    predictions: pd.DataFrame,
    cut: float,
    split_fraction: float | Mapping[str, float],
    luminosity: float,
    classification: str,
    class_names: Sequence[str],
) -> dict[str, float]:
    """Yield above ``cut`` of every background class (``class_names[1:]``), in that order;
    NaN for every class when there is no cut (``cut`` NaN)."""
    if not np.isfinite(cut):
        return {name: float("nan") for name in class_names[1:]}
    signal_class = class_names[0]
    events = predicted_as_signal(predictions, classification, signal_class)
    above = events[events[f"score_{signal_class}"].to_numpy() > cut]
    yields = yield_weights(
        above["weight"], luminosity, event_split_fractions(above, split_fraction)
    )
    per_class = pd.Series(yields).groupby(above["class"].to_numpy()).sum()
    return {name: float(per_class.get(name, 0.0)) for name in class_names[1:]}


def at_mass_point(
    predictions: pd.DataFrame, at_points: pd.DataFrame | None, point: str, signal_class: str
) -> pd.DataFrame:
    """A parametrised network's prediction table as asked at signal ``point``: the
    signal class's events (each at its own point) and every other event at ``point``'s
    masses; the table itself for an unparametrised network (``at_points`` None)."""
    if at_points is None:
        return predictions
    others = at_points[at_points[MASS_POINT] == point].drop(columns=MASS_POINT)
    if others.empty:
        raise ValueError(f"the prediction table at the mass points has no events at {point}")
    signal = predictions[predictions["class"] == signal_class]
    return pd.concat([signal, others[signal.columns]], ignore_index=True)
