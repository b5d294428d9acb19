"""How the figures look, drawn in the CMS style (mplhep): training history, ROC curves,
output and input distributions, confusion and correlation matrices, the FOM scan,
feature importance, the spread over seeds and the two-dimensional toy views.

Every function takes data and returns a :class:`matplotlib.figure.Figure`; none reads
a file or touches pyplot's global state, so the module runs headless and in parallel
jobs. :func:`save_figure` writes a figure atomically.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import matplotlib
import matplotlib.style
import mplhep
import numpy as np
import pandas as pd
import PIL.Image
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Annotation
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from cmsnn.effective_events import enough_background
from cmsnn.files import write_with

#: The splits in the order they are drawn, with their colours.
SPLIT_COLOURS = {"train": "C0", "validation": "C1", "test": "C2"}
#: Smaller text for figures made of many panels.
GRID_STYLE = {"font.size": 16}
#: The chapter's two-dimensional view: range and bins in both variables, contour
#: levels in events per bin.
PLANE_RANGE = (-10.0, 10.0)
PLANE_BINS = 50
CONTOUR_LEVELS = [1, 5, 10, 25, 50, 70, 80, 100]
#: Enough for a screen and the HTML report (a 12 x 10 inch figure is 1200 x 1000 pixels);
#: the PDFs are vector graphics for papers.
PNG_DPI = 100
#: The ROC curve as HEP papers draw it (background rejection against signal
#: efficiency), or as the rest of machine learning does (true against false positives).
ROC_STYLES = ("rejection", "efficiency")


@dataclass(frozen=True)
class ExperimentLabel:
    """What every figure says above its top corners: on the left the experiment in bold
    and the figure's status ("CMS Simulation Private Work"); on the right the integrated
    luminosity and the centre-of-mass energy ("35.9 fb⁻¹ (13 TeV)"). Empty parts are
    left out, so non-CMS users can drop the label altogether."""

    experiment: str = "CMS"
    status: str = "Simulation Private Work"
    luminosity_pb: float | None = None
    energy: str = ""

    def right_text(self) -> str:
        parts = []
        if self.luminosity_pb:
            parts.append(f"{self.luminosity_pb / 1000:.3g} fb$^{{-1}}$")
        if self.energy:
            parts.append(f"({self.energy})")
        return " ".join(parts)


#: The label of a figure drawn without one given: private work on simulation.
DEFAULT_LABEL = ExperimentLabel()


@contextmanager
def hep_style(overrides: Mapping | None = None) -> Iterator[None]:
    """Apply the CMS style (plus ``overrides``) inside the block, restoring it after."""
    with matplotlib.style.context([mplhep.style.CMS, dict(overrides or {})]):
        yield


def save_figure(figure: Figure, png_path, pdf_path=None, svg_path=None) -> None:
    """Write ``figure`` as PNG (:data:`PNG_DPI`, in 256 colours: a third of the bytes
    of full colour for line art, which keeps the HTML report small) and optionally as
    PDF and SVG (vector graphics), each atomically."""
    with hep_style(), matplotlib.rc_context({"svg.hashsalt": "cmsnn"}):
        write_with(png_path, lambda temporary: _write_palette_png(figure, temporary))
        for path, kind in ((pdf_path, "pdf"), (svg_path, "svg")):
            if path is not None:
                write_with(
                    path,
                    lambda temporary, kind=kind: figure.savefig(
                        temporary, format=kind, metadata=_NO_DATE[kind]
                    ),
                )


#: Vector files without a creation date (and SVGs without random ids, by a fixed
#: ``svg.hashsalt``): the same figure gives the same bytes, so reruns compare equal.
_NO_DATE = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}


def _write_palette_png(figure: Figure, path) -> None:
    rendered = io.BytesIO()
    figure.savefig(rendered, format="png", dpi=PNG_DPI)
    with PIL.Image.open(rendered) as image:
        palette = image.convert("RGB").quantize(colors=256, dither=PIL.Image.Dither.NONE)
        palette.save(path, format="PNG", optimize=True)


# --- training -----------------------------------------------------------------------


def plot_training_history(
    history: pd.DataFrame, best_epoch: int, label: ExperimentLabel = DEFAULT_LABEL
) -> Figure:
    """Loss and accuracy per epoch, training and validation, with the kept epoch marked."""
    with hep_style():
        figure = Figure(figsize=(10, 12), layout="constrained")
        panels = figure.subplots(2, 1, sharex=True)
        for axes, metric in zip(panels, ("loss", "accuracy"), strict=True):
            axes.plot(history["epoch"], history[metric], color="C0", label="Training")
            axes.plot(history["epoch"], history[f"val_{metric}"], color="C1", label="Validation")
            axes.axvline(best_epoch, color="grey", ls="--", label=f"Kept epoch ({best_epoch})")
            axes.set_ylabel(metric.capitalize())
            axes.legend()
        panels[-1].set_xlabel("Epoch")
        draw_experiment_label(panels[0], label)
    return figure


# --- classifier performance ---------------------------------------------------------


def plot_roc_curves(
    curves: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray, float]]],
    style: str = "rejection",
    label: ExperimentLabel = DEFAULT_LABEL,
) -> Figure:
    """One panel per target class (one-vs-rest): the ROC curve of each split, as
    background rejection 1/ε_B (log) against signal efficiency ε_S (``"rejection"``,
    as HEP papers show it), or true against false positive rate (``"efficiency"``)."""
    if style not in ROC_STYLES:
        raise ValueError(f"plots.roc must be one of {ROC_STYLES}, got {style!r}")
    with hep_style(GRID_STYLE if len(curves) > 1 else None):
        figure, panels = _panel_grid(len(curves), max_columns=2, panel_size=(7, 7))
        for axes, (class_name, by_split) in zip(panels, curves.items(), strict=False):
            target = "Signal" if len(curves) == 1 else class_name
            for split, (false_positive_rate, true_positive_rate, auc) in by_split.items():
                line = {"color": SPLIT_COLOURS.get(split), "label": f"{split} (AUC = {auc:.4f})"}
                if style == "rejection":
                    kept = false_positive_rate > 0  # no background left: rejection infinite
                    axes.plot(true_positive_rate[kept], 1.0 / false_positive_rate[kept], **line)
                else:
                    axes.plot(false_positive_rate, true_positive_rate, **line)
            if style == "rejection":
                efficiency = np.linspace(0.01, 1.0, 100)
                axes.plot(efficiency, 1.0 / efficiency, color="grey", ls=":", label="random")
                axes.set_yscale("log")
                axes.set_xlim(0, 1)
                axes.set_xlabel(f"{target} efficiency $\\varepsilon_S$")
                axes.set_ylabel("Background rejection $1/\\varepsilon_B$")
            else:
                axes.plot([0, 1], [0, 1], color="grey", ls=":")
                axes.set(xlim=(0, 1), ylim=(0, 1.05))
                axes.set_xlabel("False positive rate")
                axes.set_ylabel("True positive rate")
            axes.legend(title=f"{class_name} vs rest" if len(curves) > 1 else class_name)
        draw_experiment_label(panels[0], label, right=panels[min(len(panels), 2) - 1])
    return figure


def plot_output_distributions(
    train: pd.DataFrame,
    validation: pd.DataFrame,
    score_column: str,
    class_names: Sequence[str],
    ks: pd.DataFrame,
    bins: int = 40,
    label: ExperimentLabel = DEFAULT_LABEL,
) -> Figure:
    """The network output per class, normalised to unit area: training as filled
    histograms, validation as points with weighted errors; KS p-values in the legend,
    which sits below the axes so that it never pushes the log axis up by decades."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    with hep_style():
        figure = Figure(figsize=(12, 10), layout="constrained")
        axes = figure.subplots()
        drawn = []
        for index, name in enumerate(class_names):
            colour = f"C{index}"
            training, _ = _unit_area_histogram(train, name, score_column, edges)
            axes.stairs(
                training,
                edges,
                fill=True,
                facecolor=to_rgba(colour, 0.25),
                edgecolor=colour,
                lw=1.5,
                label=f"{name} train",
            )
            density, error = _unit_area_histogram(validation, name, score_column, edges)
            drawn += [training, density]
            entry = f"{name} validation{_ks_text(ks, name)}"
            axes.errorbar(centres, density, yerr=error, fmt="o", ms=5, color=colour, label=entry)
        _log_range_with_headroom(axes, np.concatenate(drawn), headroom=0.05)
        axes.set_xlim(0, 1)
        axes.set_xlabel(f"Network output ({score_column})")
        axes.set_ylabel("Normalised to unit area")
        figure.legend(
            *axes.get_legend_handles_labels(),
            fontsize="x-small",
            ncols=2,
            loc="outside lower center",
            title="training (filled) and validation (points) splits",
            title_fontsize="x-small",
        )
        draw_experiment_label(axes, label)
    return figure


def plot_confusion_matrix(
    matrix: pd.DataFrame, split: str = "test", label: ExperimentLabel = DEFAULT_LABEL
) -> Figure:
    """Rows: true class, columns: predicted class, each row normalised to one (weighted
    events of ``split``)."""
    values = matrix.to_numpy(dtype=float)
    with hep_style():
        figure = Figure(figsize=(11, 10), layout="constrained")
        axes = figure.subplots()
        image = axes.imshow(values, cmap="Blues", vmin=0.0, vmax=1.0)
        for (row, column), value in np.ndenumerate(values):
            colour = "white" if value > 0.5 else "black"
            axes.text(column, row, f"{value:.2f}", ha="center", va="center", color=colour)
        _category_ticks(axes, matrix.columns, matrix.index, rotation=30, fontsize="small")
        _outward_ticks(axes)
        axes.set_xlabel(f"Predicted class ({split} split)")
        axes.set_ylabel("True class")
        figure.colorbar(image, ax=axes, label="Fraction of the true class")
        draw_experiment_label(axes, label)
    return figure


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
            colour = "black" if name == "ensemble" else _seed_marker(index)["color"]
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


def plot_importance(
    importance: pd.DataFrame, split: str = "validation", label: ExperimentLabel = DEFAULT_LABEL
) -> Figure:
    """Horizontal bars of the AUC drop per feature (on ``split``), the most important at
    the top."""
    positions = np.arange(len(importance))[::-1]
    errors = importance["auc_drop_std"] if "auc_drop_std" in importance else None
    with hep_style():
        figure = Figure(figsize=(12, max(6.0, 0.6 * len(importance) + 3)), layout="constrained")
        axes = figure.subplots()
        axes.barh(positions, importance["auc_drop"], xerr=errors, color="C0", capsize=4)
        axes.set_yticks(positions, importance["feature"], fontsize="x-small")
        axes.tick_params(axis="y", which="minor", left=False, right=False)
        axes.axvline(0.0, color="black", lw=1)
        axes.set_xlabel(f"AUC drop when the feature is shuffled ({split} split)")
        draw_experiment_label(axes, label)
    return figure


# --- inputs -----------------------------------------------------------------------


def plot_input_distributions(
    events: pd.DataFrame,
    features: Sequence[str],
    class_names: Sequence[str],
    units: Mapping[str, str],
    bins: int = 40,
    label: ExperimentLabel = DEFAULT_LABEL,
    split: str = "training",
) -> Figure:
    """One panel per feature: each class's weighted distribution, normalised to unit
    area, on common bins over the central 99 % of all events. The y axis is
    logarithmic only for continuous non-negative variables (momenta, isolation), whose
    tails span decades; integer-valued (jet counts, charge) and signed ones (η, impact
    parameters) keep a linear axis, where their shapes read directly."""
    with hep_style(GRID_STYLE):
        figure, panels = _panel_grid(len(features), max_columns=4, panel_size=(5.5, 5))
        for axes, feature in zip(panels, features, strict=False):
            edges = input_bin_edges(events[feature].to_numpy(), events["weight"].to_numpy(), bins)
            for index, name in enumerate(class_names):
                density, _ = _unit_area_histogram(events, name, feature, edges)
                axes.stairs(density, edges, color=f"C{index}", lw=2, label=name)
            values = events[feature].to_numpy()
            if _is_integer_valued(values):
                axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            elif np.min(values) >= 0:
                axes.set_yscale("log")
            axes.set_xlabel(f"{feature} [{units[feature]}]" if units.get(feature) else feature)
            axes.set_ylabel("Normalised")
        figure.legend(
            *panels[0].get_legend_handles_labels(),
            loc="outside upper center",
            ncols=len(class_names),
            title=f"{split} split, before scaling",
        )
        draw_experiment_label(figure, label)
    return figure


def input_bin_edges(values: np.ndarray, weights: np.ndarray, bins: int) -> np.ndarray:
    """``bins`` equal bins over the 0.5-99.5 % weighted quantiles; integer-valued
    features get bins centred on integers (several integers per bin if needed)."""
    low, high = _weighted_quantiles(values, np.abs(weights), [0.005, 0.995])
    if _is_integer_valued(values):
        low, high = math.floor(low), math.ceil(high)
        step = max(1, math.ceil((high - low + 1) / bins))
        return np.arange(low - 0.5, high + 0.5 + step, step, dtype=float)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, bins + 1)


def plot_correlation_matrices(
    matrices: Mapping[str, pd.DataFrame],
    label: ExperimentLabel = DEFAULT_LABEL,
    split: str = "training",
) -> Figure:
    """One heat map of the feature correlations per class, with a shared colour bar, in
    percent like the coefficient printed in every cell (as TMVA shows them)."""
    size = max(len(matrix) for matrix in matrices.values()) if matrices else 1
    # from 10 pt for a handful of variables to 6 pt for twenty (each cell ~0.4 inch)
    value_size = float(np.clip(130 / size, 6, 10))
    with hep_style(GRID_STYLE):
        figure, panels = _panel_grid(len(matrices), max_columns=2, panel_size=(9, 8.5))
        for axes, (class_name, matrix) in zip(panels, matrices.items(), strict=False):
            percent = 100.0 * matrix.to_numpy(dtype=float)
            image = axes.imshow(percent, cmap="RdBu_r", vmin=-100, vmax=100)
            for (row, column), value in np.ndenumerate(percent):
                if np.isfinite(value):
                    colour = "white" if abs(value) > 60 else "black"
                    axes.text(column, row, f"{round(value):d}", ha="center", va="center",
                              fontsize=value_size, color=colour)  # fmt: skip
            _category_ticks(axes, matrix.columns, matrix.index, fontsize=max(value_size, 8))
            _outward_ticks(axes)
            # centred over its panel: a panel's right edge can lie under the centred suptitle
            axes.set_title(class_name, loc="center")
        figure.colorbar(image, ax=panels, label="Correlation coefficient [%]", shrink=0.8)
        figure.suptitle(f"Linear correlations in %, {split} split (weighted)", fontsize=16)
        draw_experiment_label(figure, label)
    return figure


# --- over models --------------------------------------------------------------------


def plot_seed_spread(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    labels: Mapping[str, str] | None = None,
    label: ExperimentLabel = DEFAULT_LABEL,
) -> Figure:
    """One panel per metric: every seed's value per grid point and their mean ± std;
    ``labels`` gives the y-axis label of a metric (default: its column name)."""
    labels = labels or {}
    kinds = summary["kind"] if "kind" in summary else pd.Series("seed", index=summary.index)
    ensembles = summary[kinds == "ensemble"]
    summary = summary[kinds != "ensemble"]
    points = list(dict.fromkeys(summary["grid_point"]))
    positions = {point: index for index, point in enumerate(points)}
    with hep_style(GRID_STYLE):
        figure, panels = _panel_grid(
            len(metrics), max_columns=len(metrics), panel_size=(max(6, 1.5 * len(points)), 6)
        )
        for axes, metric in zip(panels, metrics, strict=True):
            for index, (seed, runs) in enumerate(summary.groupby("seed", sort=True)):
                x = runs["grid_point"].map(positions).to_numpy() - 0.15
                entry = f"seed {seed_name(seed)}"
                axes.plot(x, runs[metric], ls="none", ms=6, label=entry, **_seed_marker(index))
            statistics = summary.groupby("grid_point", sort=False)[metric].agg(["mean", "std"])
            statistics = statistics.reindex(points).fillna({"std": 0.0})
            axes.errorbar(
                np.arange(len(points)) + 0.15,
                statistics["mean"].to_numpy(dtype=float),
                yerr=statistics["std"].to_numpy(dtype=float),
                fmt="s",
                ms=10,
                color="black",
                capsize=5,
                label="mean ± std",
            )
            if len(ensembles):
                axes.plot(
                    ensembles["grid_point"].map(positions).to_numpy() + 0.35,
                    ensembles[metric],
                    ls="none",
                    marker="*",
                    ms=16,
                    color="C3",
                    label="seed ensemble",
                )
            _category_ticks(axes, points, [], rotation=20, fontsize=10)
            axes.set_xlim(-0.5, len(points) - 0.5)
            axes.set_ylabel(labels.get(metric, metric))
        # below the panels, where no point of any panel can lie under it
        figure.legend(
            *panels[0].get_legend_handles_labels(),
            fontsize="x-small",
            ncols=6,
            loc="outside lower center",
        )
        draw_experiment_label(panels[0], label, right=panels[-1])
    return figure


def seed_name(seed) -> str:
    """A seed as the integer it is: a summary's seed column holds floats (1.0) when an
    ensemble row leaves it empty."""
    try:
        number = float(seed)
    except (TypeError, ValueError):
        return str(seed)
    return str(int(number)) if number.is_integer() else str(seed)


def plot_fom_by_signal(
    table: pd.DataFrame, order: Sequence[str], label: ExperimentLabel = DEFAULT_LABEL
) -> Figure:
    """Test FOM at the validation-chosen cut per signal process (in ``order``), each
    alone as the signal: per grid point the seeds' mean ± std and the seed ensemble."""
    positions = {name: index for index, name in enumerate(order)}
    points = list(dict.fromkeys(table["grid_point"]))
    offsets = np.linspace(-0.2, 0.2, len(points)) if len(points) > 1 else [0.0]
    with hep_style(GRID_STYLE):
        figure = Figure(figsize=(max(10, 1.8 * len(order) + 4), 8), layout="constrained")
        axes = figure.subplots()
        for index, (point, offset) in enumerate(zip(points, offsets, strict=True)):
            rows = table[table["grid_point"] == point]
            x = rows["signal_process"].map(positions).to_numpy(dtype=float) + offset
            axes.errorbar(
                x,
                rows["fom_test_at_best_cut_mean"].to_numpy(dtype=float),
                yerr=rows["fom_test_at_best_cut_std"].fillna(0.0).to_numpy(dtype=float),
                fmt="o",
                ms=8,
                capsize=5,
                color=f"C{index}",
                label=f"{point}: seeds, mean ± std",
            )
            if "ensemble_fom_test_at_best_cut" in rows:
                axes.plot(
                    x,
                    rows["ensemble_fom_test_at_best_cut"].to_numpy(dtype=float),
                    ls="none",
                    marker="*",
                    ms=16,
                    color=f"C{index}",
                    markeredgecolor="black",
                    label=f"{point}: seed ensemble",
                )
        axes.set_xticks(range(len(order)), [_signal_label(name) for name in order], rotation=20)
        axes.tick_params(axis="x", which="minor", bottom=False, top=False)
        axes.set_xlim(-0.6, len(order) - 0.4)
        axes.set_xlabel("Signal point (each alone as the signal)")
        axes.set_ylabel("Test Z at the validation-chosen cut")
        axes.set_ylim(bottom=0)
        axes.legend(fontsize="xx-small")
        draw_experiment_label(axes, label)
    return figure


def _signal_label(process: str) -> str:
    return process.removesuffix(".root")


# --- the chapter's two-dimensional toy --------------------------------------------


def plot_two_dimensional_samples(
    signal: pd.DataFrame,
    background: pd.DataFrame,
    x: str,
    y: str,
    label: ExperimentLabel = DEFAULT_LABEL,
) -> Figure:
    """Contours of the 2-D histograms (50 x 50 bins over [-10, 10]²) of both samples."""
    edges = np.linspace(*PLANE_RANGE, PLANE_BINS + 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    handles = []
    with hep_style():
        figure = Figure(figsize=(10, 10), layout="constrained")
        axes = figure.subplots()
        for sample, colour_map, name in (
            (signal, "Reds", "Signal"),
            (background, "Blues", "Background"),
        ):
            counts, _, _ = np.histogram2d(sample[x], sample[y], bins=[edges, edges])
            axes.contour(centres, centres, counts.T, levels=CONTOUR_LEVELS, cmap=colour_map)
            handles.append(Line2D([], [], color=matplotlib.colormaps[colour_map](0.7), label=name))
        axes.set(xlim=PLANE_RANGE, ylim=PLANE_RANGE)
        # no y label at the lower left corner, where the x axis has its first one
        axes.yaxis.set_major_locator(MaxNLocator(prune="lower"))
        axes.set_xlabel(x)
        axes.set_ylabel(y)
        axes.legend(handles=handles, title="all splits")
        draw_experiment_label(axes, label)
    return figure


def plot_two_dimensional_classification(
    events: pd.DataFrame,
    x: str,
    y: str,
    is_signal: np.ndarray,
    predicted_signal: np.ndarray,
    label: ExperimentLabel = DEFAULT_LABEL,
) -> Figure:
    """Signal and background test events, correctly classified in green, misclassified
    in red, with the misclassified fraction in each panel's legend title (above the
    panels is the experiment label's line)."""
    is_signal = np.asarray(is_signal, dtype=bool)
    correct = np.asarray(predicted_signal, dtype=bool) == is_signal
    with hep_style():
        figure = Figure(figsize=(18, 9), layout="constrained")
        panels = figure.subplots(1, 2, sharex=True, sharey=True)
        for axes, name, members in zip(
            panels, ("Signal", "Background"), (is_signal, ~is_signal), strict=True
        ):
            for selection, colour, entry in (
                (correct, "green", "correct"),
                (~correct, "red", "misclassified"),
            ):
                chosen = events[members & selection]
                axes.scatter(chosen[x], chosen[y], s=2, color=colour, label=entry, rasterized=True)
            wrong = float(np.mean(~correct[members])) if members.any() else 0.0
            axes.set_xlabel(x)
            axes.set_ylabel(y)
            axes.legend(markerscale=4, title=f"{name} (test split):\n{wrong:.1%} misclassified")
        draw_experiment_label(panels[0], label, right=panels[1])
    return figure


# --- helpers --------------------------------------------------------------------------


def draw_experiment_label(
    target: Axes | Figure, label: ExperimentLabel = DEFAULT_LABEL, right: Axes | None = None
) -> None:
    """Write ``label`` above the top corners of ``target``: "**CMS** *Simulation Private
    Work*" on the left, "35.9 fb⁻¹ (13 TeV)" on the right (above ``right``'s top right
    corner if given: the last panel of a row of panels); empty parts left out. A figure of
    many panels (``target`` a Figure) gets it once, in its own top corners, where narrow
    panels leave room for it. Where the two parts would come closer than
    :data:`LABEL_GAP_POINTS` (a narrow panel), both shrink alike until they keep it.
    (``mplhep.cms.label`` would draw it, but it calls ``pyplot.gca()`` and so leaves a
    pyplot figure behind.)"""
    on_figure = isinstance(target, Figure)
    place = {
        "transform": target.transFigure if on_figure else target.transAxes,
        "va": "top" if on_figure else "bottom",
    }
    height = 0.998 if on_figure else 1.01
    left, status = None, None
    if label.experiment:
        left = target.text(0.0, height, label.experiment, ha="left", fontweight="bold",
                           fontsize="large", **place)  # fmt: skip
    if label.status and left is None:
        status = target.text(0.0, height, label.status, ha="left", style="italic", **place)
    elif label.status:
        # right after the experiment's name, whatever its width
        after = {"xy": (1.0, 0.0), "xycoords": left, "xytext": (8, 0), "style": "italic",
                 "textcoords": "offset points", "ha": "left", "va": "bottom"}  # fmt: skip
        if on_figure:  # a figure has no annotate()
            status = target.add_artist(Annotation(label.status, **after))
        else:
            status = target.annotate(label.status, **after)
    right_text = None
    if label.right_text():
        owner = right if right is not None and not on_figure else target
        place["transform"] = owner.transFigure if on_figure else owner.transAxes
        right_text = owner.text(1.0, height, label.right_text(), ha="right", **place)
    parts = [text for text in (left, status) if text is not None]
    if parts and right_text is not None:
        target.add_artist(_LabelFitter(parts, right_text))


#: The least space between the experiment label's left part and its right part.
LABEL_GAP_POINTS = 12.0


class _LabelFitter(Artist):
    """Drawn first (the lowest zorder), once the layout has placed the axes: gives the
    label's texts their own font sizes back and, where the left part and the right part
    would come closer than :data:`LABEL_GAP_POINTS`, shrinks all of them by the factor
    that keeps the gap. Nothing of its own is drawn."""

    def __init__(self, left: Sequence, right) -> None:
        super().__init__()
        self.left, self.right = list(left), right
        self.sizes = {text: text.get_fontsize() for text in [*self.left, right]}
        self.offsets = {text: text.xyann for text in self.left if isinstance(text, Annotation)}
        self.set_zorder(-1e9)
        self.set_in_layout(False)

    def draw(self, renderer) -> None:
        self._scale(1.0)
        left = Bbox.union([text.get_window_extent(renderer) for text in self.left])
        right = self.right.get_window_extent(renderer)
        gap = renderer.points_to_pixels(LABEL_GAP_POINTS)
        if right.x0 - left.x1 < gap:
            room = right.x1 - left.x0 - gap
            self._scale(max(room, 0.0) / (left.width + right.width) * 0.99)

    def _scale(self, factor: float) -> None:
        for text, size in self.sizes.items():
            text.set_fontsize(size * factor)
        for text, (x, y) in self.offsets.items():
            text.xyann = (x * factor, y * factor)


def _panel_grid(
    count: int, max_columns: int, panel_size: tuple[float, float]
) -> tuple[Figure, list[Axes]]:
    """A figure with ``count`` panels in rows of at most ``max_columns``; the unused
    cells of the last row removed."""
    columns = max(1, min(count, max_columns))
    rows = max(1, math.ceil(count / columns))
    figure = Figure(figsize=(panel_size[0] * columns, panel_size[1] * rows), layout="constrained")
    panels = list(figure.subplots(rows, columns, squeeze=False).ravel())
    for unused in panels[count:]:
        figure.delaxes(unused)
    return figure, panels[:count]


def _category_ticks(axes: Axes, columns, rows, rotation=90, fontsize=None) -> None:
    """Name the columns on the x axis and (if any) the rows on the y axis; no minor ticks."""
    alignment = {"ha": "right", "rotation_mode": "anchor"} if rotation % 90 else {}
    axes.set_xticks(range(len(columns)), columns, rotation=rotation, fontsize=fontsize, **alignment)
    axes.tick_params(axis="x", which="minor", bottom=False, top=False)
    if len(rows):
        axes.set_yticks(range(len(rows)), rows, fontsize=fontsize)
        axes.tick_params(axis="y", which="minor", left=False, right=False)


def _outward_ticks(axes: Axes) -> None:
    """A heat map's ticks on its left and bottom edges only, pointing out: they sit at
    the middle of the edge cells, where the style's inward ticks would run into the
    values printed there."""
    axes.tick_params(which="both", direction="out", top=False, right=False)


def _seed_marker(index: int) -> dict:
    """Colour and marker of the ``index``-th seed: ten colours, then the next marker."""
    markers = "o^vDPX<>"
    return {"color": matplotlib.colormaps["tab10"](index % 10), "marker": markers[index // 10 % 8]}


def _unit_area_histogram(
    events: pd.DataFrame, class_name: str, column: str, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One class's weighted histogram of ``column`` normalised to unit area, and its
    error (square root of the sum of squared weights, normalised alike)."""
    members = events[events["class"] == class_name]
    values, weights = members[column].to_numpy(), members["weight"].to_numpy()
    sums, _ = np.histogram(values, bins=edges, weights=weights)
    squares, _ = np.histogram(values, bins=edges, weights=weights**2)
    total = float(np.sum(sums))
    if total == 0.0:
        return np.zeros_like(sums), np.zeros_like(sums)
    norm = total * np.diff(edges)
    return sums / norm, np.sqrt(squares) / norm


def _is_integer_valued(values: np.ndarray) -> bool:
    return bool(np.all(values == np.round(values)))


def _log_range_with_headroom(axes: Axes, values: np.ndarray, headroom: float) -> None:
    """Log y axis from half the smallest positive value (empty bins would reach down to
    zero) to a top leaving the fraction ``headroom`` of the height free for the legend."""
    axes.set_yscale("log")
    positive = values[values > 0]
    if positive.size == 0:
        return
    low, high = 0.5 * positive.min(), positive.max()
    decades = max(np.log10(high / low), 1.0)
    axes.set_ylim(low, high * 10 ** (decades * headroom / (1 - headroom)))


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, quantiles) -> np.ndarray:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    if cumulative[-1] <= 0:
        return np.quantile(values, quantiles)
    positions = (cumulative - 0.5 * weights[order]) / cumulative[-1]
    return np.interp(quantiles, positions, values[order])


def _ks_text(ks: pd.DataFrame, class_name: str) -> str:
    """The legend suffix ", KS D = 0.031, p = 0.43" of a class (the weighted KS statistic
    and its p-value); empty where the test could not be made."""
    p_value = ks["p_value"].get(class_name, np.nan)
    if not np.isfinite(p_value):
        return ""
    statistic = ks["statistic"].get(class_name, np.nan)
    shown_p = f"{p_value:.2f}" if p_value >= 0.01 else f"{p_value:.1e}"
    return f", KS D = {statistic:.3f}, p = {shown_p}"


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
