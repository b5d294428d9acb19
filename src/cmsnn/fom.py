"""The figure of merit: Asimov discovery significance with a background uncertainty,
scanned over a lower cut on the network's signal output.

With ``s`` and ``b`` the expected signal and background yields above the cut and
``σ`` the absolute uncertainty of the background yield, the median discovery
significance (Cowan, Cranmer, Gross, Vitells, arXiv:1007.1727, eq. 97 with an uncertain
background; the tutorial's FOM) is

    Z² = 2·[(s+b)·ln((s+b)(b+σ²) / (b²+(s+b)σ²)) − (b²/σ²)·ln(1 + σ²s / (b(b+σ²)))].

The background uncertainty has two parts, added in quadrature:

    σ² = (f·b)² + Σ w²,

a relative systematic uncertainty ``f`` and, with ``include_mc_statistics``, the
statistical uncertainty of the simulated background above the cut (``w`` the events'
yield weights: expected events per simulated event). The second term matters at the
tight cuts the scan prefers: a background estimated from a dozen weighted events is
uncertain by 30–40 %, more than a typical ``f``, and a FOM without it rewards cuts
that merely leave few simulated events behind.

Typed as it stands the formula loses every digit when ``s ≪ b`` (two nearly equal terms
are subtracted) and is 0/0 at ``σ = 0``. With ``u = s/b``, ``β = σ²/b`` (``= f²b`` for the
systematic part alone) and ``t = βu/(1+β)`` it is rewritten exactly as

    Z²/2 = b·[g(u) − (1 + u + 1/β)·h(t)],   g(u) = (1+u)·ln(1+u) − u,
                                             h(t) = ln(1+t) − t/(1+t),

where ``g`` and ``h`` are evaluated by their Taylor series for small arguments. The
remaining difference loses at most log10(1+β) digits (relative error ≈ 1e-16·(1+β):
1e-10 for f = 0.2 and b = 10⁶ expected events), and ``σ = 0`` is simply ``β = 0``:
``Z² = 2b·g(u)``, the familiar ``2[(s+b)ln(1+s/b) − s]``.

Conventions: ``Z = 0`` when ``s ≤ 0``; ``Z = 0`` when ``b ≤ 0``: a cut that leaves no
simulated background has no background estimate, and such a cut must never be chosen
as the best one. ``min_background_events`` extends this to the choice of the cut: a cut
is chosen (on the validation split) or called the test maximum only where the Kish
effective number of simulated background events above it, ``(Σw)²/Σw²``, reaches that
number. The FOM itself is never altered by it, so the test FOM at the chosen cut is
always the test FOM there.

The FOM's own statistical uncertainty comes from a Poisson bootstrap of the simulated
events: every replica gives each event a Poisson(1) multiplicity (the resampling of
an unknown-size sample that HEP analyses use, since it needs no event count and keeps
events independent), and the standard deviation of the replicas' FOMs is its
standard error, at every cut.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cmsnn.configuration import AUTO, OUTPUT_RANGE, check_scan_order
from cmsnn.effective_events import enough_background, kish_effective_events

#: Below this argument ``g`` and ``h`` use their Taylor series.
_SERIES_LIMIT = 0.05
_SERIES_TERMS = 18

#: The automatic scan starts at this weighted quantile of the validation signal's output
#: (the cut keeping half of the signal) and ends at its highest output: the optimum of a
#: search with a background uncertainty lies at tight cuts, and a lower edge any looser
#: is reported as a warning when the chosen cut sits on it.
AUTO_LOWER_QUANTILE = 0.5


def asimov_significance(signal_yield, background_yield, relative_background_uncertainty):
    """Median discovery significance ``Z`` for yields ``s``, ``b`` and relative
    background uncertainty ``f`` (``σ = f·b``; arrays broadcast); see the module docstring."""
    s, b, f = _float_arrays(signal_yield, background_yield, relative_background_uncertainty)
    if np.any(f < 0):
        raise ValueError("the relative background uncertainty must not be negative")
    return _asimov(s, b, f**2 * np.maximum(b, 0.0))


def asimov_significance_with_uncertainty(signal_yield, background_yield, background_uncertainty):
    """Median discovery significance ``Z`` for yields ``s``, ``b`` and an absolute
    background uncertainty ``σ`` (arrays broadcast); see the module docstring."""
    s, b, sigma = _float_arrays(signal_yield, background_yield, background_uncertainty)
    if np.any(sigma < 0):
        raise ValueError("the background uncertainty must not be negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where(b > 0, sigma**2 / np.where(b > 0, b, 1.0), 0.0)
    return _asimov(s, b, beta)


def background_uncertainty(
    background_yield, background_sum_w2, relative_uncertainty: float, include_mc_statistics: bool
):
    """Absolute background uncertainty ``σ = √((f·b)² + Σw²)``: the relative systematic
    ``f`` and, if asked, the simulated sample's statistical uncertainty (``Σw²`` of the
    yield weights above the cut)."""
    b = np.asarray(background_yield, dtype=np.float64)
    variance = (relative_uncertainty * b) ** 2
    if include_mc_statistics:
        variance = variance + np.asarray(background_sum_w2, dtype=np.float64)
    return np.sqrt(variance)


def figure_of_merit(signal_yield, background_yield, background_sum_w2, options: Mapping):
    """The scan's FOM from the yields above a cut and the background's ``Σw²``:
    ``Z`` with ``σ`` from :func:`background_uncertainty`."""
    sigma = background_uncertainty(
        background_yield,
        background_sum_w2,
        options["relative_background_uncertainty"],
        options["include_mc_statistics"],
    )
    return asimov_significance_with_uncertainty(signal_yield, background_yield, sigma)


def yield_weights(weights, luminosity: float, split_fraction) -> np.ndarray:
    """Expected events per simulated event: ``weight × luminosity / split fraction``.

    ``weight`` is in pb (cross section / generated events), ``luminosity`` in pb⁻¹; the
    split fraction (one number, or one per event: the share of its process's events the
    split holds, :func:`event_split_fractions`) undoes the share of events a split holds,
    so each split estimates the full yield.
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


def cut_values(cut_min: float, cut_max: float, steps: int) -> np.ndarray:
    """The scanned lower cuts: ``cut_min + i·(cut_max − cut_min)/steps``, i = 0…steps−1."""
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
    ``quantile`` of the total."""
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


def check_signal_processes(
    predictions: pd.DataFrame, signal_class: str, signal_processes: Sequence[str]
) -> None:
    """Every name in ``signal_processes`` must be a process of the signal class."""
    if not signal_processes:
        return
    available = set(signal_process_names(predictions, signal_class))
    unknown = sorted(set(signal_processes) - available)
    if unknown:
        raise ValueError(
            f"fom.signal_processes names {unknown}, which are not processes of the "
            f"{signal_class} class; choose among {sorted(available)}"
        )


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


#: What :func:`best_cut_summary` reports of the test split at the chosen cut.
_TEST_AT_BEST_CUT = (
    "fom",
    "signal_yield",
    "signal_efficiency",
    "background_yield",
    "background_mc_relative_uncertainty",
    "background_events",
    "background_effective_events",
)


def best_cut_summary(scans: Mapping[str, pd.DataFrame], min_background_events: float = 0) -> dict:
    """The cut maximising the validation FOM among the cuts whose validation background
    has at least ``min_background_events`` effective events; the validation and test
    FOMs there with their bootstrap errors, the test yields and counts there, and the
    test maximum (among cuts passing the same requirement on the test background).

    ``warnings`` lists what makes the choice meaningless or suspect: no allowed cut with
    a validation FOM above 0 (no cut is chosen: the cut's numbers are NaN), a chosen cut
    on an edge of the scanned range, a test FOM of 0 everywhere.
    """
    validation, test = scans["validation"], scans["test"]
    cuts = validation["cut"].to_numpy()
    validation_fom = _allowed(validation, min_background_events)
    test_fom = _allowed(test, min_background_events)
    best = int(np.argmax(validation_fom))
    best_test = int(np.argmax(test_fom))
    warnings = cut_warnings(cuts, validation_fom, best, test["fom"].to_numpy())
    effective = validation["background_effective_events"].to_numpy()
    if not enough_background(effective, min_background_events).any():
        # Say why no cut is allowed at all, with the numbers that would fix it.
        most = int(np.nanargmax(effective)) if np.isfinite(effective).any() else 0
        warnings = [
            f"no scanned cut keeps fom.min_background_events = {min_background_events:g} "
            f"effective background events on the validation split (the most: "
            f"{np.nan_to_num(effective[most]):.3g}, at cut {cuts[most]:.4g}): no cut is chosen; "
            "lower fom.min_background_events or fom.cut_min, or bring more simulated "
            "background"
        ] + warnings[1:]
    numbers = {
        "best_cut": float(cuts[best]),
        "fom_validation_at_best_cut": float(validation_fom[best]),
        "fom_validation_at_best_cut_stat_error": float(validation["fom_stat_error"].iloc[best]),
    }
    for column in _TEST_AT_BEST_CUT:
        numbers[f"{column}_test_at_best_cut"] = float(test[column].iloc[best])
        if column == "fom":
            numbers["fom_test_at_best_cut_stat_error"] = float(test["fom_stat_error"].iloc[best])
    numbers["background_events_test_at_best_cut"] = int(test["background_events"].iloc[best])
    if not validation_fom[best] > 0:
        # No cut is chosen: nothing at "the chosen cut" is a result.
        numbers = dict.fromkeys(numbers, float("nan"))
        numbers["background_events_test_at_best_cut"] = None
    numbers |= {
        "fom_test_max": float(test_fom[best_test]),
        "cut_test_max": float(test["cut"].iloc[best_test])
        if test_fom[best_test] > 0
        else float("nan"),
        "warnings": warnings,
    }
    return numbers


def _allowed(scan: pd.DataFrame, min_background_events: float) -> np.ndarray:
    """The scan's FOM where a cut may be chosen, 0 elsewhere."""
    allowed = enough_background(scan["background_effective_events"], min_background_events)
    return np.where(allowed, scan["fom"].to_numpy(), 0.0)


def cut_warnings(cuts: np.ndarray, validation_fom: np.ndarray, best: int, test_fom) -> list[str]:
    """Why a scan's chosen cut is not a result, or is a suspect one (see
    :func:`best_cut_summary`)."""
    scanned = f"[{cuts[0]:.6g}, {cuts[-1]:.6g}]"
    if not validation_fom[best] > 0:
        return [
            f"the validation FOM is 0 at every allowed cut of the scan {scanned}: no cut is "
            "chosen (no counted signal above the cuts, or too few effective background "
            "events for fom.min_background_events); widen the scan or check the classes"
        ]
    warnings = []
    if len(cuts) > 1 and best == 0:
        warnings.append(
            f"the chosen cut {cuts[0]:.6g} is the lowest scanned: the optimum may lie below "
            "the scan; lower fom.cut_min"
        )
    if len(cuts) > 1 and best == len(cuts) - 1:
        warnings.append(
            f"the chosen cut {cuts[-1]:.6g} is the highest scanned: the optimum may lie above "
            "the scan; raise fom.cut_max"
        )
    if not np.max(test_fom) > 0:
        warnings.append(f"the test FOM is 0 at every scanned cut {scanned}")
    return warnings


def _float_arrays(*values) -> list[np.ndarray]:
    return np.broadcast_arrays(*(np.asarray(value, dtype=np.float64) for value in values))


def _asimov(s: np.ndarray, b: np.ndarray, beta: np.ndarray):
    """Z from ``s``, ``b`` and ``β = σ²/b`` (the module docstring's form)."""
    valid = (s > 0) & (b > 0)
    s_ok, b_ok = np.where(valid, s, 0.0), np.where(valid, b, 1.0)
    beta_ok = np.where(valid, beta, 0.0)
    u = s_ok / b_ok
    t = beta_ok * u / (1.0 + beta_ok)
    with np.errstate(divide="ignore", invalid="ignore"):
        # below the smallest normal float 1/β overflows; the term is ≈ βu²/2 ≈ 0 there
        significant = beta_ok > np.finfo(np.float64).tiny
        uncertainty_term = np.where(significant, (1.0 + u + 1.0 / beta_ok) * _h(t), 0.0)
    half_z_squared = b_ok * (_g(u) - uncertainty_term)
    z = np.sqrt(2.0 * np.maximum(half_z_squared, 0.0))
    z = np.where(valid, z, 0.0)
    return z if z.ndim else float(z)


def _g(u: np.ndarray) -> np.ndarray:
    """(1+u)·ln(1+u) − u = Σ_{n≥2} (−1)ⁿ uⁿ / (n(n−1))."""
    n = np.arange(2, _SERIES_TERMS + 2)
    small = np.abs(u) < _SERIES_LIMIT
    us = np.where(small, u, 0.0)[..., None]
    series = np.sum((-1.0) ** n * us**n / (n * (n - 1)), axis=-1)
    with np.errstate(invalid="ignore"):
        direct = (1.0 + u) * np.log1p(u) - u
    return np.where(small, series, direct)


def _h(t: np.ndarray) -> np.ndarray:
    """ln(1+t) − t/(1+t) = Σ_{m≥2} (−1)ᵐ tᵐ (m−1)/m."""
    m = np.arange(2, _SERIES_TERMS + 2)
    small = np.abs(t) < _SERIES_LIMIT
    ts = np.where(small, t, 0.0)[..., None]
    series = np.sum((-1.0) ** m * ts**m * (m - 1) / m, axis=-1)
    direct = np.log1p(t) - t / (1.0 + t)
    return np.where(small, series, direct)
