"""Normalisation of the input variables, fitted on the training split only.

- ``minmax``: each variable mapped linearly onto [-1, 1] (the tutorial's choice);
- ``standard``: z-score, ``(x - mean) / std``;
- ``quantile``: each variable mapped through its training quantiles onto a standard
  normal (linear between the quantiles' normal scores, so that the exported ONNX model
  computes it exactly). Heavy tails (transverse momenta, HT, MET) and outliers no longer set the
  scale, so the bulk of the events lands where the activations respond
  (``benchmarks/scaling_convergence.py`` compares the three).

A fitted scaler is a plain JSON document (never a pickle), so it can be read, diffed and
applied to new events by any later step.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cmsnn.dataframes import read_parquet, write_parquet
from cmsnn.files import write_json
from cmsnn.preprocessing.mass_points import (
    attach_masses,
    equalise_points,
    fit_mass_scaling,
    process_masses,
    scale_masses,
)
from cmsnn.preprocessing.weighting import (
    apply_negative_weight_policy,
    balance_class_weights,
    negative_weight_report,
    net_weight_warnings,
)
from cmsnn.vocabulary import MASS_INPUTS, SCALING_METHODS, SPLITS, NetworkTask

log = logging.getLogger(__name__)

#: Most quantiles stored per variable for the ``quantile`` method.
MAX_QUANTILES = 1000
#: Probabilities are kept this far from 0 and 1 so that the normal quantile stays finite.
QUANTILE_CLIP = 1e-7


def fit_scaler(features: pd.DataFrame, method: str) -> dict:
    """Fit ``method`` on the training features; returns a JSON-ready description."""
    values = features.to_numpy(dtype=np.float64)
    if method == "minmax":
        parameters = {"minimum": values.min(axis=0), "maximum": values.max(axis=0)}
    elif method == "standard":
        parameters = {"mean": values.mean(axis=0), "std": values.std(axis=0)}
    elif method == "quantile":
        n_quantiles = max(2, min(MAX_QUANTILES, len(values)))
        probabilities = np.linspace(0.0, 1.0, n_quantiles)
        parameters = {
            "probabilities": probabilities,
            "quantiles": np.quantile(values, probabilities, axis=0).T,
        }
    else:
        raise ValueError(f"scaling must be one of {SCALING_METHODS}, got {method!r}")
    return {
        "method": method,
        "features": list(features.columns),
        **{key: np.asarray(value).tolist() for key, value in parameters.items()},
    }


def apply_scaler(scaler: Mapping, features: pd.DataFrame) -> np.ndarray:
    """Scale ``features`` (columns in the scaler's order) with a fitted scaler; float32."""
    missing = [name for name in scaler["features"] if name not in features.columns]
    if missing:
        raise ValueError(f"the events lack the scaled variables {missing}")
    method = scaler["method"]
    if method not in SCALING_METHODS:
        raise ValueError(f"scaling must be one of {SCALING_METHODS}, got {method!r}")
    knots = quantile_knots(scaler) if method == "quantile" else None
    # column by column, in float64, into a float32 table: memory for one more column only
    scaled = np.empty((len(features), len(scaler["features"])), dtype=np.float32)
    for column, name in enumerate(scaler["features"]):
        values = features[name].to_numpy(dtype=np.float64)
        if method == "minmax":
            low, high = scaler["minimum"][column], scaler["maximum"][column]
            scaled[:, column] = (2.0 * values - high - low) / (high - low if high > low else 1.0)
        elif method == "standard":
            mean, std = scaler["mean"][column], scaler["std"][column]
            scaled[:, column] = (values - mean) / (std if std > 0 else 1.0)
        else:
            scaled[:, column] = np.interp(values, *knots[column])
    return scaled


def scale_and_balance_files(
    *,
    events: Mapping[str, str],
    prepared: Mapping[str, str],
    scaler: str,
    task: NetworkTask,
    scaling: str,
    balancing: str,
    negative_weights: str = "keep",
    signal_masses: Mapping[str, Sequence[float]] | None = None,
    held_out: Sequence[str] = (),
    trained_points: Sequence[str] | None = None,
) -> None:
    """Entry point of rule ``scale_and_balance``: ``events`` (``{split: Parquet}``) in;
    ``prepared`` (``{split: Parquet}``) and the ``scaler`` (JSON) out.

    It fits the scaler on the training split, scale every split, and add
    the balanced ``training_weight`` to the training and validation splits (each
    balanced on its own sums, as the tutorial balances them alike; the test split keeps
    only its physics weights). The negative-weight policy acts on the training weights
    only; the ``weight`` column keeps its sign for yields.

    For a parametrised network (``task.parametrised``) the signal events get their
    point's masses (``signal_masses``, else from the process names), z-scored with the
    training split's signal (the scaler's ``mass_inputs``), and each signal point the
    same share of the signal's training weight before the balancing
    (:mod:`cmsnn.preprocessing.mass_points`). The signal events of the ``held_out``
    points are left out of the training and validation splits (and so out of the
    scaling): the network never sees them, and is asked there all the same (the
    predictions read the split files). With ``trained_points`` (a dedicated network of
    one mass point), the signal events of every other process are left out likewise."""
    sources, outputs, scaler_output = events, prepared, scaler
    features, classification, class_names = task.features, task.classification, task.class_names
    # one split in memory at a time (the training split first, for the scaler)
    events = _without(read_parquet(sources["train"]), held_out, trained_points)
    scaler = fit_scaler(events[list(features)], scaling)
    if task.parametrised:
        events = _with_masses(events, signal_masses or {})
        scaler["mass_inputs"] = fit_mass_scaling(events)
        scaler["mass_inputs"]["points"] = _training_points(events)
        scaler["mass_inputs"]["held_out"] = sorted(held_out)
    for split in SPLITS:
        if split != "train":
            events = read_parquet(sources[split])
            events = events if split == "test" else _without(events, held_out, trained_points)
            if task.parametrised:
                events = _with_masses(events, signal_masses or {})
        if split != "test":
            _log_negative_weights(events, class_names, negative_weights, split)
            weights = apply_negative_weight_policy(events["weight"], negative_weights)
            if task.parametrised:
                signal = (events["class_index"] == 0).to_numpy()
                weights = equalise_points(weights, events["process"], signal)
            try:
                training_weight = balance_class_weights(
                    weights, events["class_index"], balancing, classification, class_names
                )
            except ValueError as error:
                raise ValueError(f"{split} split ({sources[split]}): {error}") from None
        events[list(features)] = apply_scaler(scaler, events)
        if task.parametrised:
            masses = events[list(MASS_INPUTS)].to_numpy()
            events[list(MASS_INPUTS)] = scale_masses(scaler["mass_inputs"], masses)
        if split != "test":
            events["training_weight"] = training_weight
        write_parquet(events, outputs[split])
        del events
    write_json(scaler, scaler_output)


def _without(
    events: pd.DataFrame, held_out: Sequence[str], trained_points: Sequence[str] | None = None
) -> pd.DataFrame:
    """The events without the held-out points' signal events (and, with
    ``trained_points``, without the signal events of any other process)."""
    if not held_out and trained_points is None:
        return events
    left = events["process"].isin(list(held_out))
    if trained_points is not None:
        left |= ~events["process"].isin(list(trained_points))
    left_out = (events["class_index"] == 0) & left
    return events[~left_out.to_numpy()].reset_index(drop=True)


def _training_points(events: pd.DataFrame) -> dict[str, list[float]]:
    """``{process: [mass_1, mass_2]}`` of the training split's signal points (GeV)."""
    signal = events[events["class_index"] == 0]
    table = signal.groupby("process", sort=True)[list(MASS_INPUTS)].first()
    return {process: [float(m) for m in row] for process, row in table.iterrows()}


def _with_masses(events: pd.DataFrame, given: Mapping) -> pd.DataFrame:
    signal = events.loc[events["class_index"] == 0, "process"].unique()
    return attach_masses(events, process_masses(sorted(signal), given))


def _log_negative_weights(events, class_names, policy: str, split: str) -> None:
    report = negative_weight_report(events["weight"], events["class_index"], class_names)
    for name, numbers in report.items():
        if numbers["negative_events"]:
            log.info(
                "%s split, class %s: %d negative-weight events, summed weight %.6g "
                "(policy %s); net weight %.6g of absolute %.6g",
                split,
                name,
                numbers["negative_events"],
                numbers["negative_weight"],
                policy,
                numbers["net_weight"],
                numbers["absolute_weight"],
            )
    for warning in net_weight_warnings(report, f"{split} split"):
        log.warning("%s", warning)


def quantile_knots(scaler: Mapping) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(values, scores)]`` per variable of a fitted ``quantile`` scaler: the knots of
    its piecewise-linear map onto a standard normal.

    Each distinct training quantile is a knot; its score is the normal quantile of the
    middle of the probabilities at which it repeats (so an integer variable such as Njet
    lands at the middle of its step of the CDF), kept ``QUANTILE_CLIP`` from 0 and 1.
    Between knots the score is interpolated linearly and beyond them held constant: a
    map that ONNX expresses exactly (:mod:`cmsnn.learning.export`)."""
    # SciPy is imported here, not with the module: every Snakemake start imports this
    # module (for SCALING_METHODS), and SciPy alone costs half a second there.
    from scipy.special import ndtri

    probabilities = np.asarray(scaler["probabilities"], dtype=np.float64)
    knots = []
    # Knots are float32 numbers, as the events' variables are: a knot between two
    # neighbouring float32 values would make a segment no float32 input falls into,
    # whose slope float32 arithmetic (ONNX) cannot reproduce.
    for quantiles in np.asarray(scaler["quantiles"], dtype=np.float32).astype(np.float64):
        values, first, counts = np.unique(quantiles, return_index=True, return_counts=True)
        middle = 0.5 * (probabilities[first] + probabilities[first + counts - 1])
        knots.append((values, ndtri(np.clip(middle, QUANTILE_CLIP, 1.0 - QUANTILE_CLIP))))
    return knots
