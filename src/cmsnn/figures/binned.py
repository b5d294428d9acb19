"""Figures of the binned likelihood: the binned signal output as analyses draw it
(backgrounds stacked, the signal overlaid, the MC statistical band), and per signal
point the expected upper limits on μ (the "Brazil" plot) and the binned expected
significance beside the cut-based one; with the entry points of their rules."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from cmsnn.dataframes import read_csv_with_names
from cmsnn.figures.across_models import signal_label, signal_point_order
from cmsnn.figures.fom import BESIDE_THE_PANEL
from cmsnn.figures.style import (
    DEFAULT_LABEL,
    GRID_STYLE,
    ExperimentLabel,
    category_ticks,
    draw_experiment_label,
    experiment_label,
    hep_style,
    log_range_with_headroom,
    panel_grid,
    save,
)
from cmsnn.files import read_json

#: The expected limit's bands, as CMS draws them: ±1σ green, ±2σ yellow.
BAND_COLOURS = {1: "#607641", 2: "#F5BB54"}
#: The signal's line in the binned output: the colour of the first (signal) class.
SIGNAL_COLOUR = "C0"
#: A background class in the stack: filled, outlined thinly.
STACKED = {"fill": True, "edgecolor": "black", "linewidth": 0.5}
#: The MC statistical band of the total background: hatched, no fill.
STAT_BAND_STYLE = {
    "fill": True,
    "facecolor": "none",
    "hatch": "////",
    "edgecolor": (0.2, 0.2, 0.2, 0.7),
    "linewidth": 0,
}
#: The width (inches) the legend beside the panels of a figure per signal point takes.
LEGEND_WIDTH = 3.2
#: The binning warnings the binned output names above its panel (the rest are counted).
SHOWN_WARNINGS = 3


def plot_binned_output(
    histograms: pd.DataFrame,
    signal_processes: Sequence[str],
    class_names: Sequence[str],
    label: ExperimentLabel = DEFAULT_LABEL,
    signal_scale: float | None = None,
    warnings: Sequence[str] = (),
) -> Figure:
    """The binned signal output of one split as an analysis draws it: the expected events
    of every background class per bin (not divided by the bin width), stacked in
    ``class_names`` order (each class in its own colour, ``C<index in class_names>``);
    the signal (the sum of ``signal_processes``; every process of the first class if
    none) as a line, scaled by ``signal_scale`` (default: the round factor that brings its
    top bin up to the total background's there, never below 1), the factor named in the
    legend; the total background's MC statistical uncertainty √(Σ sumw2) as a hatched
    band. ``warnings`` (the binning's) are named above the panel."""
    edges = np.append(np.sort(histograms["low"].unique()), histograms["high"].max())
    n_bins = len(edges) - 1
    if not len(signal_processes):
        first = histograms["class"] == class_names[0]
        signal_processes = sorted(histograms.loc[first, "process"].unique())
    signal = _per_bin(histograms[histograms["process"].isin(signal_processes)], n_bins)
    backgrounds = [
        (index, name, _per_bin(histograms[histograms["class"] == name], n_bins))
        for index, name in enumerate(class_names)
        if index > 0 and (histograms["class"] == name).any()
    ]
    total = sum((sums["sumw"] for _, _, sums in backgrounds), np.zeros(n_bins))
    error = np.sqrt(sum((sums["sumw2"] for _, _, sums in backgrounds), np.zeros(n_bins)))
    scale = signal_scale if signal_scale is not None else visible_scale(signal["sumw"], total)
    with hep_style():
        figure = Figure(figsize=(13, 9), layout="constrained")
        axes = figure.subplots()
        baseline, tops = np.zeros(n_bins), []
        for index, name, sums in backgrounds:
            top = baseline + sums["sumw"]
            axes.stairs(top, edges, baseline=baseline, color=f"C{index}", label=name, **STACKED)
            baseline, tops = top, [*tops, top]
        band = {"baseline": total - error, "label": "Background MC stat. unc."}
        axes.stairs(total + error, edges, **band, **STAT_BAND_STYLE)
        one = signal_label(signal_processes[0]) if len(signal_processes) == 1 else None
        entry = f"Signal ({one or class_names[0]})"
        entry += f" × {_factor_text(scale)}" if scale != 1 else ""
        axes.stairs(signal["sumw"] * scale, edges, color=SIGNAL_COLOUR, lw=3, label=entry)
        log_range_with_headroom(axes, np.concatenate([*tops, signal["sumw"] * scale]), 0.05)
        axes.set_xlim(0, 1)
        axes.set_xlabel("Signal output")
        axes.set_ylabel("Events / bin (not per unit width)")
        handles, texts = axes.get_legend_handles_labels()
        # the stack's top class first, as it lies on the panel
        order = [*reversed(range(len(backgrounds))), *range(len(backgrounds), len(handles))]
        entries = [handles[i] for i in order], [texts[i] for i in order]
        axes.legend(*entries, fontsize="small", **BESIDE_THE_PANEL)
        if warnings:
            figure.suptitle(_warnings_text(warnings), fontsize=12, ha="left", x=0.01)
        draw_experiment_label(axes, label)
    return figure


def _per_bin(rows: pd.DataFrame, n_bins: int) -> dict[str, np.ndarray]:
    sums = rows.groupby("bin")[["sumw", "sumw2"]].sum().reindex(range(n_bins), fill_value=0.0)
    return {column: sums[column].to_numpy(dtype=float) for column in ("sumw", "sumw2")}


def visible_scale(signal: np.ndarray, background: np.ndarray) -> float:
    """The round factor (1, 2 or 5 × 10ⁿ, at least 1) that brings the signal's top bin
    up to (at most) the background's there; over all bins where the top bin of either
    is empty.

    >>> visible_scale(np.array([0.1, 0.4]), np.array([100.0, 9.0]))
    20.0
    """
    pairs = [(signal[-1], background[-1]), (signal.sum(), background.sum())]
    for ours, theirs in pairs:
        if ours > 0 and theirs > 0:
            wanted = theirs / ours
            if wanted <= 1:
                return 1.0
            power = 10.0 ** math.floor(math.log10(wanted))
            return max(step * power for step in (1, 2, 5) if step * power <= wanted)
    return 1.0


def _factor_text(factor: float) -> str:
    return f"{factor:,.0f}" if factor >= 1 and float(factor).is_integer() else f"{factor:g}"


def _warnings_text(warnings: Sequence[str]) -> str:
    shown = [textwrap.shorten(text, 110, placeholder=" …") for text in warnings[:SHOWN_WARNINGS]]
    more = len(warnings) - len(shown)
    lines = ["Binning warnings:", *(f"• {text}" for text in shown)]
    return "\n".join(lines + ([f"… and {more} more (binning.json)"] if more > 0 else []))


def plot_limits_by_signal(table: pd.DataFrame, label: ExperimentLabel = DEFAULT_LABEL) -> Figure:
    """The expected 95 % CL upper limit on the signal strength μ on test (the means over
    a grid point's seeds) against the signal point in mass order, one panel per grid
    point: the median (dashed), its ±1σ (green) and ±2σ (yellow) bands, and μ = 1 (a
    signal point whose median lies below the line is expected to be excluded)."""
    columns = {
        key: f"limit_{key}_test_mean" for key in ("minus2", "minus1", "median", "plus1", "plus2")
    }
    everywhere = np.append(table[list(columns.values())].to_numpy(dtype=float).ravel(), 1.0)

    def draw(axes: Axes, rows: pd.DataFrame, x: np.ndarray) -> None:
        limit = {key: rows[column].to_numpy(dtype=float) for key, column in columns.items()}
        for sigma in (2, 1):
            low, high = limit[f"minus{sigma}"], limit[f"plus{sigma}"]
            band = {"color": BAND_COLOURS[sigma], "linewidth": 0, "label": f"Expected ± {sigma}σ"}
            axes.fill_between(x, low, high, **band)
        axes.plot(
            x, limit["median"], color="black", ls="--", marker="o", ms=6, label="Median expected"
        )
        axes.axhline(1.0, color="#E42536", lw=2, label="μ = 1")
        # every panel on the same scale, so that the grid points compare by eye
        log_range_with_headroom(axes, everywhere[np.isfinite(everywhere)], 0.2)
        decades = np.log10(np.divide(*axes.get_ylim()[::-1]))
        axes.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5) if decades < 3 else (1,)))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.yaxis.set_minor_formatter(NullFormatter())  # the 1-2-5 labels are enough
        axes.set_ylabel("95% CL upper limit on μ")

    return _by_signal_panels(table, draw, label)


def plot_binned_z_by_signal(table: pd.DataFrame, label: ExperimentLabel = DEFAULT_LABEL) -> Figure:
    """The expected discovery significance on test against the signal point, one panel
    per grid point (the means ± std over its seeds): the binned likelihood's (filled
    circles), the cut-based FOM at the validation-chosen cut (squares), and the binned
    one with the class-normalisation background model (open circles, where given)."""
    series = [
        ("binned_z_test", "Binned Z", {"fmt": "o", "color": "C0"}),
        ("fom_test_at_best_cut", "Cut-based Z at the chosen cut", {"fmt": "s", "color": "C1"}),
        (
            "binned_z_test_class_norms",
            "Binned Z, class normalisations",
            {"fmt": "o", "color": "C2", "markerfacecolor": "none", "markeredgewidth": 2},
        ),
    ]

    present = [entry for entry in series if f"{entry[0]}_mean" in table]
    offsets = np.linspace(-0.2, 0.2, len(present)) if len(present) > 1 else [0.0]
    tops = [np.add(*_mean_and_error(table, column)) for column, _, _ in present]
    highest = np.nanmax([0.0, *np.concatenate(tops)])

    def draw(axes: Axes, rows: pd.DataFrame, x: np.ndarray) -> None:
        for (column, name, style), offset in zip(present, offsets, strict=True):
            mean, errors = _mean_and_error(rows, column)
            shown = errors if f"{column}_std" in rows else None
            axes.errorbar(x + offset, mean, yerr=shown, ms=9, capsize=4, label=name, **style)
        axes.set_ylim(0, 1.3 * highest if highest > 0 else 1.0)
        axes.set_ylabel("Expected significance Z (test)")

    return _by_signal_panels(table, draw, label)


def _mean_and_error(rows: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """The mean over seeds of ``column`` and its std (0 where missing: one seed)."""
    std = rows.get(f"{column}_std", pd.Series(0.0, index=rows.index))
    return rows[f"{column}_mean"].to_numpy(dtype=float), std.fillna(0.0).to_numpy(dtype=float)


#: Inches: the panels of the figures by signal point go side by side up to this width.
MAX_FIGURE_WIDTH = 30.0


def _by_signal_panels(table: pd.DataFrame, draw, label: ExperimentLabel) -> Figure:
    """One panel per grid point with the signal points in mass order on x, each drawn by
    ``draw(axes, rows, x)``; the grid point named inside its panel's top left corner,
    one legend beside the panels."""
    order = signal_point_order(table["signal_process"])
    positions = {name: index for index, name in enumerate(order)}
    points = list(dict.fromkeys(table["grid_point"]))
    width = max(6.0, 1.3 * len(order) + 2.5)
    # many signal points (a mass plane) make wide panels: one above the other then
    columns = max(1, min(len(points), 3, int(MAX_FIGURE_WIDTH // width)))
    with hep_style(GRID_STYLE):
        figure, panels = panel_grid(len(points), columns, panel_size=(width, 6.5))
        for axes, point in zip(panels, points, strict=True):
            rows = table[table["grid_point"] == point]
            rows = rows.assign(position=rows["signal_process"].map(positions))
            rows = rows.sort_values("position")
            draw(axes, rows, rows["position"].to_numpy(dtype=float))
            category_ticks(axes, [signal_label(name) for name in order], [], 30, fontsize=12)
            axes.set_xlim(-0.5, len(order) - 0.5)
            axes.set_xlabel("Signal point")
            axes.text(
                0.03, 0.97, str(point), transform=axes.transAxes, ha="left", va="top", fontsize=14
            )
        # the legend's own room, beside the panels rather than out of their width
        figure.set_size_inches(figure.get_figwidth() + LEGEND_WIDTH, figure.get_figheight())
        figure.legend(
            *panels[0].get_legend_handles_labels(), fontsize="x-small", loc="outside right upper"
        )
        draw_experiment_label(panels[0], label, right=panels[columns - 1])
    return figure


def plot_binned_output_files(
    *,
    histograms,
    binning,
    figures: Mapping[str, str],
    class_names: Sequence[str],
    signal_processes: Sequence[str],
    label: Mapping | None = None,
) -> None:
    """Entry point of the binned output's rule: one model's test histograms on the chosen
    bins (``histograms``: CSV with a ``split`` column) and the binning's warnings
    (``binning``: JSON with ``edges`` and ``warnings``), as ``binned_output``; the
    signal is ``signal_processes`` (every process of the first class if empty);
    ``figures``: ``{<name>_png, <name>_pdf: path}`` of each figure drawn.

    Raises:
        ValueError: the histograms' bins are not the binning's edges (files of two runs).
    """
    table = read_csv_with_names(histograms)
    test = table[table["split"] == "test"].drop(columns="split")
    chosen = read_json(binning)
    own = np.append(np.sort(test["low"].unique()), test["high"].max())
    edges = np.asarray(chosen["edges"], dtype=float)
    if own.shape != edges.shape or not np.allclose(own, edges):
        raise ValueError(f"the histograms' bin edges {list(own)} are not {list(edges)}")
    label, warnings = experiment_label(label), chosen.get("warnings") or ()
    figure = plot_binned_output(test, list(signal_processes), class_names, label, warnings=warnings)
    save(figure, figures, "binned_output")


def plot_limits_files(
    *, by_signal_by_point, figures: Mapping[str, str], label: Mapping | None = None
) -> None:
    """Entry point of the limits' rule: from ``by_signal_by_point``
    (``fom_by_signal_by_point.csv``), the expected upper limits on μ per signal point
    (``limits``) and the binned significance beside the cut-based one (``binned_z``);
    ``figures``: ``{<name>_png, <name>_pdf: path}`` of each figure drawn."""
    table = pd.read_csv(by_signal_by_point, dtype={"grid_point": str, "signal_process": str})
    label = experiment_label(label)
    save(plot_limits_by_signal(table, label), figures, "limits")
    save(plot_binned_z_by_signal(table, label), figures, "binned_z")
