"""Figures of the figure of merit of a model: its FOM scan with the bootstrap band and
the cuts that may not be chosen, and its seeds' scans side by side; with the entry
point of the ensembles' rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cmsnn.figures.style import (
    DEFAULT_LABEL,
    SPLIT_COLOURS,
    ExperimentLabel,
    draw_experiment_label,
    experiment_label,
    hep_style,
    save,
    seed_marker,
)
from cmsnn.files import read_json
from cmsnn.statistics.effective_events import enough_background


def plot_fom_scan(
    scan: pd.DataFrame,
    evaluation: Mapping,
    class_names: Sequence[str],
    label: ExperimentLabel = DEFAULT_LABEL,
    min_background_events: float = 0.0,
) -> Figure:
    """Top: the FOM against the cut per split, with the bootstrap band of its MC
    statistical uncertainty (validation and test), the chosen cut and the test maximum
    marked. Bottom: validation signal and background efficiencies, test yields at the cut.
    Both shade the cuts that may not be chosen (fewer than ``min_background_events``
    effective validation background events, :func:`cmsnn.effective_events.enough_background`); the
    title says which cut was chosen and why, or why none was. The legends stand to the
    right of the panels, where no curve runs under them."""
    best_cut = evaluation["best_cut"]
    chosen = best_cut is not None and np.isfinite(best_cut)
    allowed = allowed_cuts(scan, min_background_events)
    with hep_style():
        figure = Figure(figsize=(18, 13), layout="constrained")
        fom_axes, efficiency_axes = figure.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]}
        )
        for split, colour in SPLIT_COLOURS.items():
            fom_axes.plot(scan["cut"], scan[f"fom_{split}"], color=colour, label=split)
            error = scan.get(f"fom_stat_error_{split}")
            if split != "train" and error is not None and np.isfinite(error).any():
                fom_axes.fill_between(
                    scan["cut"],
                    scan[f"fom_{split}"] - error,
                    scan[f"fom_{split}"] + error,
                    color=colour,
                    alpha=0.25,
                    linewidth=0,
                    label=f"{split}: ±1σ MC statistics (bootstrap)",
                )
        _shade_not_allowed(
            [fom_axes, efficiency_axes],
            scan["cut"].to_numpy(dtype=float),
            allowed,
            _not_allowed_label(min_background_events),
        )
        if chosen:
            fom_axes.axvline(best_cut, color="black", ls="--", label=_chosen_cut_label(evaluation))
        if np.isfinite(evaluation["cut_test_max"]):
            # chosen among the cuts with enough effective *test* background events
            among = (
                f"\n(cuts with ≥ {min_background_events:g} effective test background events)"
                if min_background_events > 0
                else ""
            )
            fom_axes.axvline(
                evaluation["cut_test_max"],
                color="grey",
                ls=":",
                label=f"Test maximum {evaluation['cut_test_max']:.3f}: "
                f"Z = {evaluation['fom_test_max']:.3f}{among}",
            )
        # above the panel and its experiment label, where the layout keeps room for it
        figure.suptitle(
            fom_choice_text(scan, evaluation, min_background_events, allowed), fontsize=18
        )
        fom_axes.set_ylabel("Asimov significance Z")
        fom_axes.legend(fontsize="x-small", **BESIDE_THE_PANEL)
        yields = _yield_label(evaluation, class_names) if chosen else "No cut chosen"
        _plot_efficiencies(efficiency_axes, scan, best_cut if chosen else None, yields)
        draw_experiment_label(fom_axes, label)
    return figure


#: A legend to the right of its panel, top-aligned (the layout makes room for it).
BESIDE_THE_PANEL = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0}
#: How the FOM scan shades the cuts that may not be chosen.
NOT_ALLOWED_STYLE = {
    "facecolor": (0.5, 0.5, 0.5, 0.12),
    "hatch": "//",
    # the hatch takes the edge colour (matplotlib < 3.11 has no hatchcolor); no outline
    "edgecolor": (0.5, 0.5, 0.5, 0.45),
    "linewidth": 0,
}


def allowed_cuts(scan: pd.DataFrame, min_background_events: float) -> np.ndarray | None:
    """Where the scan's cuts may be chosen (the validation background's Kish effective
    events reach ``min_background_events``; every cut for 0); None for a scan without
    the effective events."""
    column = "background_effective_events_validation"
    if column not in scan:
        return None
    return enough_background(scan[column].to_numpy(dtype=float), min_background_events)


def fom_choice_text(
    scan: pd.DataFrame,
    evaluation: Mapping,
    min_background_events: float,
    allowed: np.ndarray | None = None,
) -> str:
    """Which cut was chosen and why, or why none was, in words that agree with the
    scan drawn: the reasons are checked on it (an evaluation made with another
    ``min_background_events`` gets no reason rather than a wrong one)."""
    enough = f"≥ {min_background_events:g} effective validation background events"
    best_cut = evaluation["best_cut"]
    fom = scan["fom_validation"].to_numpy(dtype=float)
    if best_cut is not None and np.isfinite(best_cut):
        z = evaluation["fom_validation_at_best_cut"]
        if min_background_events > 0:
            return (
                f"Chosen cut {best_cut:.3f}: the highest validation FOM (Z = {z:.3f})\n"
                f"among the cuts with {enough}"
            )
        return f"Chosen cut {best_cut:.3f}: the highest validation FOM of the scan (Z = {z:.3f})"
    if min_background_events > 0 and allowed is not None:
        if not np.any(fom[allowed] > 0):
            reason = f"no cut with {enough}\nhas a validation FOM above 0"
            if np.any(fom[~allowed] > 0):
                reason += " (the shaded cuts are not allowed)"
            return f"No cut chosen: {reason}"
    elif min_background_events <= 0 and not np.any(fom > 0):
        return "No cut chosen: the validation FOM is 0 at every scanned cut"
    return "No cut chosen (see the evaluation's warnings)"


def _not_allowed_label(min_background_events: float) -> str:
    return f"Not allowed: {_too_few_background(min_background_events)}"


def _too_few_background(min_background_events: float) -> str:
    return f"< {min_background_events:g} effective\nvalidation background events"


def _shade_not_allowed(
    panels: Sequence[Axes], cuts: np.ndarray, allowed: np.ndarray | None, label: str
) -> None:
    """Shade every run of cuts that may not be chosen on ``panels``, from half-way to the
    neighbouring allowed cut (to the scan's edge at its ends); the first shaded region
    of the first panel carries ``label`` for its legend."""
    if allowed is None or np.all(allowed) or len(cuts) == 0:
        return
    edges = np.concatenate([[cuts[0]], 0.5 * (cuts[:-1] + cuts[1:]), [cuts[-1]]])
    forbidden = np.concatenate([[0], ~allowed, [0]]).astype(int)
    # a run of forbidden cuts starts where that rises and ends where it falls
    steps = np.diff(forbidden)
    starts, stops = np.flatnonzero(steps == 1), np.flatnonzero(steps == -1)
    for run, (start, stop) in enumerate(zip(starts, stops, strict=True)):
        for index, axes in enumerate(panels):
            legend = label if run == 0 and index == 0 else None
            axes.axvspan(edges[start], edges[stop], **NOT_ALLOWED_STYLE, label=legend)


def plot_fom_scans_of_seeds(
    scans: Mapping[str, pd.DataFrame],
    evaluations: Mapping[str, Mapping],
    split: str = "test",
    label: ExperimentLabel = DEFAULT_LABEL,
    min_background_events: float = 0.0,
) -> Figure:
    """The FOM of ``split`` against the cut for every model of a grid point (its seeds,
    and the seed ensemble if there is one, in black), each with its validation-chosen cut
    marked in its colour: how far the seeds' choices and FOMs scatter. A model's curve
    is dotted where its cut may not be chosen (fewer than ``min_background_events``
    effective validation background events); a model without a chosen cut says so in
    the legend."""
    with hep_style():
        figure = Figure(figsize=(12, 9), layout="constrained")
        axes = figure.subplots()
        any_forbidden = False
        for index, (name, scan) in enumerate(scans.items()):
            colour = "black" if name == "ensemble" else seed_marker(index)["color"]
            width = 3 if name == "ensemble" else 1.5
            best_cut = evaluations[name]["best_cut"]
            chosen = best_cut is not None and np.isfinite(best_cut)
            entry = name if chosen else f"{name}: no cut chosen"
            fom = scan[f"fom_{split}"].to_numpy(dtype=float)
            allowed = allowed_cuts(scan, min_background_events)
            if allowed is None or np.all(allowed):
                axes.plot(scan["cut"], fom, color=colour, lw=width, label=entry)
            else:
                any_forbidden = True
                axes.plot(scan["cut"], fom, color=colour, lw=width * 0.7, ls=":")
                kept = np.where(allowed, fom, np.nan)
                axes.plot(scan["cut"], kept, color=colour, lw=width, label=entry)
            if chosen:
                axes.axvline(best_cut, color=colour, ls="--", lw=1)
        axes.plot([], [], color="grey", ls="--", lw=1, label="validation-chosen cuts")
        if any_forbidden:
            entry = f"not allowed (dotted): {_too_few_background(min_background_events)}"
            axes.plot([], [], color="grey", ls=":", lw=1.5, label=entry)
        axes.set_xlabel("Lower cut on the signal output")
        axes.set_ylabel(f"Asimov significance Z ({split} split)")
        axes.set_ylim(bottom=0)
        axes.legend(fontsize="x-small", ncols=2)
        draw_experiment_label(axes, label)
    return figure


def _chosen_cut_label(evaluation: Mapping) -> str:
    def with_error(key: str) -> str:
        error = evaluation.get(f"{key}_stat_error")
        shown = f" ± {error:.2f}" if error is not None and np.isfinite(error) else ""
        return f"{evaluation[key]:.3f}{shown}"

    return (
        f"Chosen cut {evaluation['best_cut']:.3f}: test Z = "
        f"{with_error('fom_test_at_best_cut')}\n"
        f"(validation Z = {with_error('fom_validation_at_best_cut')})"
    )


def seed_name(seed) -> str:
    """A seed as the integer it is: a summary's seed column holds floats (1.0) when an
    ensemble row leaves it empty."""
    try:
        number = float(seed)
    except (TypeError, ValueError):
        return str(seed)
    return str(int(number)) if number.is_integer() else str(seed)


def _yield_label(evaluation: Mapping, class_names: Sequence[str]) -> str:
    lines = [f"{class_names[0]}: {evaluation['signal_yield_test_at_best_cut']:.4g}"]
    lines += [
        f"{name}: {evaluation[f'yield_test_at_best_cut_{name}']:.4g}" for name in class_names[1:]
    ]
    return "Test yields at the chosen cut\n" + "\n".join(lines)


def _plot_efficiencies(axes: Axes, scan: pd.DataFrame, best_cut: float | None, yields: str) -> None:
    axes.plot(scan["cut"], scan["signal_efficiency_validation"], color="C3", label="Signal")
    axes.plot(scan["cut"], scan["background_efficiency_validation"], color="C0", label="Background")
    if best_cut is not None:
        axes.axvline(best_cut, color="black", ls="--", label=yields)
    efficiencies = scan[["signal_efficiency_validation", "background_efficiency_validation"]]
    if (efficiencies.to_numpy(dtype=float) > 0).any():  # (nothing to show on a log axis)
        axes.set_yscale("log")
    axes.set_xlabel("Lower cut on the signal output")
    axes.set_ylabel("Efficiency (validation)")
    axes.legend(fontsize="x-small", **BESIDE_THE_PANEL)


def plot_ensemble_fom_scan_files(
    *,
    scan,
    evaluation,
    seed_scans: Sequence,
    seed_evaluations: Sequence,
    seeds: Sequence,
    figures: Mapping[str, str],
    class_names: Sequence[str],
    label: Mapping | None = None,
    min_background_events: float = 0.0,
) -> None:
    """Entry point of rule ``plot_ensemble_fom_scan``: a seed ensemble's FOM scan
    (``fom``), and the overlay of its seeds' scans (``seed_scans``, ``seed_evaluations``,
    in the order of ``seeds``) with their chosen cuts (``seeds``);
    ``figures``: ``{<name>_png, <name>_pdf: path}`` of each figure drawn."""
    each_seed = {"seeds": seeds, "scans": seed_scans, "evaluations": seed_evaluations}
    draw_fom_scans(scan, evaluation, figures, class_names, label, min_background_events, each_seed)


def draw_fom_scans(
    scan,
    evaluation,
    figures: Mapping[str, str],
    class_names: Sequence[str],
    label: Mapping | None = None,
    min_background_events: float = 0.0,
    seeds: Mapping | None = None,
) -> None:
    """The FOM scan of one model (a seed or a seed ensemble: files ``scan`` and
    ``evaluation``), with its bootstrap band and the cuts that may not be chosen (fewer
    than ``min_background_events`` effective validation background events) shaded, as
    figure ``fom``; given its ``seeds`` (``{seeds, scans, evaluations}``), the overlay
    of all of them with their chosen cuts, as figure ``seeds``."""
    outputs = figures
    label = experiment_label(label)
    scan, numbers = pd.read_csv(scan), read_json(evaluation)
    figure = plot_fom_scan(scan, numbers, class_names, label, min_background_events)
    save(figure, outputs, "fom")
    if seeds is not None:
        names = [f"seed {seed_name(seed)}" for seed in seeds["seeds"]]
        scans = dict(zip(names, map(pd.read_csv, seeds["scans"]), strict=True))
        evaluations = dict(zip(names, map(read_json, seeds["evaluations"]), strict=True))
        scans["ensemble"], evaluations["ensemble"] = scan, numbers
        figure = plot_fom_scans_of_seeds(
            scans, evaluations, label=label, min_background_events=min_background_events
        )
        save(figure, outputs, "seeds")
