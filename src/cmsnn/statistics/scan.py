"""The FOM scanned over a lower cut on the network's signal output, with its standard
error at every cut.

The FOM's own statistical uncertainty comes from a Poisson bootstrap of the simulated
events: every replica gives each event a Poisson(1) multiplicity (the resampling of an
unknown-size sample that HEP analyses use, since it needs no event count and keeps
events independent), and the standard deviation of the replicas' FOMs is its standard
error, at every cut.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cmsnn.config.checks import check_scan_order
from cmsnn.statistics.effective_events import kish_effective_events
from cmsnn.statistics.significance import (
    asimov_significance_with_uncertainty,
    background_uncertainty,
    figure_of_merit,
)
from cmsnn.statistics.yields import (
    event_split_fractions,
    predicted_as_signal,
    signal_and_background,
    yield_weights,
)
from cmsnn.vocabulary import AUTO, OUTPUT_RANGE

#: The automatic scan starts at this weighted quantile of the validation signal's output
#: (the cut keeping half of the signal) and ends at its highest output: the optimum of a
#: search with a background uncertainty lies at tight cuts, and a lower edge any looser
#: is reported as a warning when the chosen cut sits on it.
AUTO_LOWER_QUANTILE = 0.5


def cut_values(cut_min: float, cut_max: float, steps: int) -> np.ndarray:
    """The scanned lower cuts: ``cut_min + i·(cut_max − cut_min)/steps``, i = 0…steps−1.

    >>> cut_values(0.7, 1.0, 4)
    array([0.7  , 0.775, 0.85 , 0.925])
    """
    check_scan_order(cut_min, cut_max, steps)
    # Rounded so that 0.7 + 57·0.0015 reads 0.7855, not 0.7854999999999999.
    return np.round(cut_min + np.arange(steps) * ((cut_max - cut_min) / steps), 12)


def scan_range(
    validation: pd.DataFrame, options: Mapping, classification: str, signal_class: str
) -> tuple[float, float, list[str]]:
    """``(cut_min, cut_max, warnings)`` of the scan: explicit values as configured;
    ``auto`` from the counted validation signal (FOM signal processes, predicted as
    signal in multi-class mode): from its weighted median output to its highest one.
    Where that leaves nothing to scan, the auto end falls back to the output's range and
    a warning says why."""
    cut_min, cut_max = options["cut_min"], options["cut_max"]
    if AUTO not in (cut_min, cut_max):
        return float(cut_min), float(cut_max), []
    events = predicted_as_signal(validation, classification, signal_class)
    is_signal, _ = signal_and_background(events, signal_class, options["signal_processes"])
    scores = events[f"score_{signal_class}"].to_numpy(dtype=np.float64)[is_signal]
    weights = np.abs(events["weight"].to_numpy(dtype=np.float64)[is_signal])
    warnings = []
    if weights.sum() > 0:
        auto_min = weighted_quantile(scores, weights, AUTO_LOWER_QUANTILE)
        auto_max = float(scores.max())
    else:
        auto_min, auto_max = OUTPUT_RANGE
        warnings.append(
            "no validation signal event is counted (none predicted as signal): "
            f"the automatic scan range falls back to {list(OUTPUT_RANGE)}"
        )
    low = auto_min if cut_min == AUTO else float(cut_min)
    high = auto_max if cut_max == AUTO else float(cut_max)
    if not high > low:
        warnings.append(
            f"the automatic scan range [{low:.6g}, {high:.6g}] is empty (the validation "
            "signal's outputs lie outside the explicit end): its automatic end falls back to "
            f"the output's range {list(OUTPUT_RANGE)}"
        )
        low = OUTPUT_RANGE[0] if cut_min == AUTO else low
        high = OUTPUT_RANGE[1] if cut_max == AUTO else high
    return low, high, warnings


def weighted_quantile(values: np.ndarray, weights: np.ndarray, quantile: float) -> float:
    """The smallest value at which the cumulative (non-negative) weight reaches
    ``quantile`` of the total.

    >>> weighted_quantile(np.array([4.0, 1.0, 3.0, 2.0]), np.array([1.0, 1.0, 1.0, 5.0]), 0.5)
    2.0
    """
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64)[order])
    position = np.searchsorted(cumulative, quantile * cumulative[-1], side="left")
    return float(np.asarray(values)[order][min(position, len(order) - 1)])


class EventsAboveCuts:
    """Sums over the events whose score is strictly above each cut, for any per-event
    quantity (yields, their squares, counts, bootstrap replicas): one sort, reused."""

    def __init__(self, scores, cuts):
        scores = np.asarray(scores, dtype=np.float64)
        self.order = np.argsort(scores, kind="stable")
        self.positions = np.searchsorted(scores[self.order], cuts, side="right")

    def __len__(self) -> int:
        return len(self.order)

    def sum(self, values) -> np.ndarray:
        return self.sum_sorted(np.asarray(values, dtype=np.float64)[self.order])

    def sum_sorted(self, values_in_score_order) -> np.ndarray:
        """As :meth:`sum`, for values already in increasing-score order."""
        return self.sum_above_lowest_cut(values_in_score_order[self.lowest :])

    @property
    def lowest(self) -> int:
        """Sorted position of the first event above the lowest cut: no event before it
        enters any sum."""
        return int(self.positions.min()) if len(self.positions) else len(self.order)

    def sum_above_lowest_cut(self, values) -> np.ndarray:
        """As :meth:`sum_sorted`, given only the values from position :attr:`lowest` on."""
        tail = np.concatenate([np.cumsum(values[::-1])[::-1], [0.0]])
        return tail[self.positions - self.lowest]


def yield_above(scores: np.ndarray, yields: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Sum of ``yields`` of the events with ``score > cut``, for every cut."""
    return EventsAboveCuts(scores, cuts).sum(yields)


def scan_split(
    predictions: pd.DataFrame,
    cuts: np.ndarray,
    split_fraction: float | Mapping[str, float],
    options: Mapping,
    classification: str,
    signal_class: str,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """FOM, its bootstrap standard error, yields, background uncertainties, simulated and
    effective event counts and efficiencies versus the cut, one split.

    ``options`` holds ``luminosity``, ``relative_background_uncertainty``,
    ``include_mc_statistics``, ``signal_processes`` and ``bootstrap_replicas``; ``rng``
    draws the bootstrap (no bootstrap without it: the error is NaN). Efficiencies are
    relative to all signal (background) events of the split, before any requirement on
    the network output.
    """
    signal_processes = options["signal_processes"]
    all_signal, all_background = signal_and_background(predictions, signal_class, signal_processes)
    all_yields = yield_weights(
        predictions["weight"],
        options["luminosity"],
        event_split_fractions(predictions, split_fraction),
    )
    events = predicted_as_signal(predictions, classification, signal_class)
    is_signal, is_background = signal_and_background(events, signal_class, signal_processes)
    yields = yield_weights(
        events["weight"], options["luminosity"], event_split_fractions(events, split_fraction)
    )
    scores = events[f"score_{signal_class}"].to_numpy()
    signal_above = EventsAboveCuts(scores[is_signal], cuts)
    background_above = EventsAboveCuts(scores[is_background], cuts)
    signal_yields, background_yields = yields[is_signal], yields[is_background]
    signal = signal_above.sum(signal_yields)
    background = background_above.sum(background_yields)
    background_sum_w2 = background_above.sum(background_yields**2)
    sigma = background_uncertainty(
        background,
        background_sum_w2,
        options["relative_background_uncertainty"],
        options["include_mc_statistics"],
    )
    fom = asimov_significance_with_uncertainty(signal, background, sigma)
    replicas = options["bootstrap_replicas"] if rng is not None else 0
    fom_error = bootstrap_fom_error(
        signal_above, background_above, signal_yields, background_yields, options, replicas, rng
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        signal_efficiency = signal / all_yields[all_signal].sum()
        background_efficiency = background / all_yields[all_background].sum()
        mc_relative = np.sqrt(background_sum_w2) / background
    return pd.DataFrame(
        {
            "cut": cuts,
            "fom": fom,
            "fom_stat_error": fom_error,
            "signal_yield": signal,
            "background_yield": background,
            "background_uncertainty": sigma,
            "background_mc_relative_uncertainty": np.where(background > 0, mc_relative, np.nan),
            "signal_events": signal_above.sum(np.ones(len(signal_above))).astype(int),
            "background_events": background_above.sum(np.ones(len(background_above))).astype(int),
            "background_effective_events": kish_effective_events(background, background_sum_w2),
            "signal_efficiency": signal_efficiency,
            "background_efficiency": background_efficiency,
        }
    )


def bootstrap_fom_error(
    signal_above: EventsAboveCuts,
    background_above: EventsAboveCuts,
    signal_yields: np.ndarray,
    background_yields: np.ndarray,
    options: Mapping,
    replicas: int,
    rng: np.random.Generator | None,
) -> np.ndarray:
    """Standard error of the FOM at every cut from a Poisson bootstrap of the simulated
    events: each replica weights every event by a Poisson(1) multiplicity and recomputes
    the yields, ``Σw²`` and the FOM; the error is the replicas' standard deviation.
    NaN for fewer than two replicas."""
    n_cuts = len(signal_above.positions)
    if replicas < 2 or rng is None:
        return np.full(n_cuts, np.nan)
    # Multiplicities are independent of the scores, so they are drawn in score order,
    # and only for the events above the lowest cut: the others enter no sum.
    signal_sorted = np.asarray(signal_yields, dtype=np.float64)[signal_above.order]
    signal_sorted = signal_sorted[signal_above.lowest :]
    background_sorted = np.asarray(background_yields, dtype=np.float64)[background_above.order]
    background_sorted = background_sorted[background_above.lowest :]
    foms = np.empty((replicas, n_cuts))
    for replica in range(replicas):
        signal_counts = rng.poisson(1.0, len(signal_sorted))
        background_counts = rng.poisson(1.0, len(background_sorted))
        foms[replica] = figure_of_merit(
            signal_above.sum_above_lowest_cut(signal_counts * signal_sorted),
            background_above.sum_above_lowest_cut(background_counts * background_sorted),
            background_above.sum_above_lowest_cut(background_counts * background_sorted**2),
            options,
        )
    return foms.std(axis=0, ddof=1)
