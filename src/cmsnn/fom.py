"""The figure of merit: Asimov discovery significance with a background uncertainty,
scanned over a lower cut on the network's signal output.

With ``s`` and ``b`` the expected signal and background yields above the cut and
``σ = f·b`` the absolute background uncertainty for a relative uncertainty ``f``, the
median discovery significance (Cowan et al., "Asimov" with an uncertain background, the
tutorial's FOM) is

    Z² = 2·[(s+b)·ln((s+b)(b+σ²) / (b²+(s+b)σ²)) − (b²/σ²)·ln(1 + σ²s / (b(b+σ²)))].

Typed as it stands this loses every digit when ``s ≪ b`` (two nearly equal terms are
subtracted) and is 0/0 at ``f = 0``. With ``u = s/b``, ``β = f²b`` and
``t = βu/(1+β)`` it is rewritten exactly as

    Z²/2 = b·[g(u) − (1 + u + 1/β)·h(t)],   g(u) = (1+u)·ln(1+u) − u,
                                             h(t) = ln(1+t) − t/(1+t),

where ``g`` and ``h`` are evaluated by their Taylor series for small arguments. The
remaining difference loses at most log10(1+β) digits (relative error ≈ 1e-16·(1+β):
1e-10 for f = 0.2 and b = 10⁶ expected events), and ``f = 0`` is simply ``β = 0``:
``Z² = 2b·g(u)``, the familiar ``2[(s+b)ln(1+s/b) − s]``.

Conventions: ``Z = 0`` when ``s ≤ 0``; ``Z = 0`` when ``b ≤ 0``: a cut that leaves no
simulated background has no background estimate, and such a cut must never be chosen
as the best one (the tutorial's code gave 0 there too, through a NaN comparison). The
scan extends this with ``min_background_events``: the FOM is also 0 where fewer
simulated background events than that pass the cut.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

#: Below this argument ``g`` and ``h`` use their Taylor series.
_SERIES_LIMIT = 0.05
_SERIES_TERMS = 18


def asimov_significance(signal_yield, background_yield, relative_background_uncertainty):
    """Median discovery significance ``Z`` for yields ``s``, ``b`` and relative
    background uncertainty ``f`` (arrays broadcast); see the module docstring."""
    s, b, f = np.broadcast_arrays(
        np.asarray(signal_yield, dtype=np.float64),
        np.asarray(background_yield, dtype=np.float64),
        np.asarray(relative_background_uncertainty, dtype=np.float64),
    )
    if np.any(f < 0):
        raise ValueError("the relative background uncertainty must not be negative")
    valid = (s > 0) & (b > 0)
    s_ok, b_ok, f_ok = np.where(valid, s, 0.0), np.where(valid, b, 1.0), np.where(valid, f, 0.0)
    u = s_ok / b_ok
    beta = f_ok**2 * b_ok
    t = beta * u / (1.0 + beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        uncertainty_term = np.where(beta > 0, (1.0 + u + 1.0 / beta) * _h(t), 0.0)
    half_z_squared = b_ok * (_g(u) - uncertainty_term)
    z = np.sqrt(2.0 * np.maximum(half_z_squared, 0.0))
    z = np.where(valid, z, 0.0)
    return z if z.ndim else float(z)


def yield_weights(weights, luminosity: float, split_fraction: float) -> np.ndarray:
    """Expected events per simulated event: ``weight × luminosity / split fraction``.

    ``weight`` is in pb (cross section / generated events), ``luminosity`` in pb⁻¹; the
    split fraction undoes the share of events a split holds, so each split estimates the
    full yield.
    """
    return np.asarray(weights, dtype=np.float64) * luminosity / split_fraction


def cut_values(cut_min: float, cut_max: float, steps: int) -> np.ndarray:
    """The scanned lower cuts: ``cut_min + i·(cut_max − cut_min)/steps``, i = 0…steps−1."""
    if not cut_max > cut_min or steps < 1:
        raise ValueError(
            f"the FOM scan needs cut_min < cut_max and steps ≥ 1, got {cut_min}, {cut_max}, {steps}"
        )
    # Rounded so that 0.7 + 57·0.0015 reads 0.7855, not 0.7854999999999999.
    return np.round(cut_min + np.arange(steps) * ((cut_max - cut_min) / steps), 12)


def yield_above(scores: np.ndarray, yields: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Sum of ``yields`` of the events with ``score > cut``, for every cut."""
    order = np.argsort(scores, kind="stable")
    sorted_scores = np.asarray(scores)[order]
    # tail[i] = sum of the yields from sorted position i to the end
    tail = np.concatenate([np.cumsum(np.asarray(yields)[order][::-1])[::-1], [0.0]])
    return tail[np.searchsorted(sorted_scores, cuts, side="right")]


def predicted_as_signal(predictions: pd.DataFrame, mode: str, signal_class: str) -> pd.DataFrame:
    """The events the FOM counts: all of them in binary mode; in multi-class mode those
    whose highest score is the signal's, as the tutorial."""
    if mode == "multiclass":
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


def check_signal_processes(
    predictions: pd.DataFrame, signal_class: str, signal_processes: Sequence[str]
) -> None:
    """Every name in ``signal_processes`` must be a process of the signal class."""
    available = set(predictions.loc[predictions["class"] == signal_class, "process"])
    unknown = sorted(set(signal_processes) - available)
    if unknown:
        raise ValueError(
            f"fom.signal_processes names {unknown}, which are not processes of the "
            f"{signal_class} class; choose among {sorted(available)}"
        )


def scan_split(
    predictions: pd.DataFrame,
    cuts: np.ndarray,
    split_fraction: float,
    options: Mapping,
    mode: str,
    signal_class: str,
) -> pd.DataFrame:
    """FOM, yields, simulated event counts and efficiencies versus the cut, one split.

    ``options`` holds ``luminosity``, ``relative_background_uncertainty``,
    ``signal_processes`` and ``min_background_events``: where fewer simulated background
    events than that pass a cut, the background estimate is too poor and the FOM is 0.
    Efficiencies are relative to all signal (background) events of the split, before any
    requirement on the network output.
    """
    signal_processes = options["signal_processes"]
    all_signal, all_background = signal_and_background(predictions, signal_class, signal_processes)
    all_yields = yield_weights(predictions["weight"], options["luminosity"], split_fraction)
    events = predicted_as_signal(predictions, mode, signal_class)
    is_signal, is_background = signal_and_background(events, signal_class, signal_processes)
    yields = yield_weights(events["weight"], options["luminosity"], split_fraction)
    scores = events[f"score_{signal_class}"].to_numpy()
    ones = np.ones(len(events))
    signal = yield_above(scores[is_signal], yields[is_signal], cuts)
    background = yield_above(scores[is_background], yields[is_background], cuts)
    n_background = yield_above(scores[is_background], ones[is_background], cuts)
    fom = asimov_significance(signal, background, options["relative_background_uncertainty"])
    fom = np.where(n_background >= options["min_background_events"], fom, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        signal_efficiency = signal / all_yields[all_signal].sum()
        background_efficiency = background / all_yields[all_background].sum()
    return pd.DataFrame(
        {
            "cut": cuts,
            "fom": fom,
            "signal_yield": signal,
            "background_yield": background,
            "signal_events": yield_above(scores[is_signal], ones[is_signal], cuts).astype(int),
            "background_events": n_background.astype(int),
            "signal_efficiency": signal_efficiency,
            "background_efficiency": background_efficiency,
        }
    )


def background_yields_by_class(
    predictions: pd.DataFrame,
    cut: float,
    split_fraction: float,
    luminosity: float,
    mode: str,
    class_names: Sequence[str],
) -> dict[str, float]:
    """Yield above ``cut`` of every background class (``class_names[1:]``), in that order."""
    signal_class = class_names[0]
    events = predicted_as_signal(predictions, mode, signal_class)
    above = events[events[f"score_{signal_class}"].to_numpy() > cut]
    yields = yield_weights(above["weight"], luminosity, split_fraction)
    per_class = pd.Series(yields).groupby(above["class"].to_numpy()).sum()
    return {name: float(per_class.get(name, 0.0)) for name in class_names[1:]}


def best_cut_summary(scans: Mapping[str, pd.DataFrame]) -> dict:
    """The cut maximising the validation FOM, the test FOM there, and the test maximum."""
    validation, test = scans["validation"], scans["test"]
    best = int(np.argmax(validation["fom"].to_numpy()))
    best_test = int(np.argmax(test["fom"].to_numpy()))
    return {
        "best_cut": float(validation["cut"].iloc[best]),
        "fom_validation_max": float(validation["fom"].iloc[best]),
        "fom_test_at_best_cut": float(test["fom"].iloc[best]),
        "fom_test_max": float(test["fom"].iloc[best_test]),
        "cut_test_max": float(test["cut"].iloc[best_test]),
        "signal_yield_test_at_best_cut": float(test["signal_yield"].iloc[best]),
        "background_yield_test_at_best_cut": float(test["background_yield"].iloc[best]),
        "background_events_test_at_best_cut": int(test["background_events"].iloc[best]),
    }


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
