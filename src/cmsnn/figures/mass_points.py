"""The parametrised network against dedicated networks, point by point
(``mass_point_comparison.csv`` of :mod:`cmsnn.statistics.mass_point_comparison`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from cmsnn.figures.across_models import signal_label
from cmsnn.figures.style import (
    DEFAULT_LABEL,
    GRID_STYLE,
    ExperimentLabel,
    category_ticks,
    draw_experiment_label,
    experiment_label,
    hep_style,
    save,
)
from cmsnn.statistics.mass_point_comparison import HELD_OUT_SHARE

#: The networks of the figure: the table's column prefix, the legend and the style.
SERIES = (
    ("dedicated", "Dedicated network", {"fmt": "s", "color": "black"}),
    ("parametrised", "Parametrised, trained on every point", {"fmt": "o", "color": "C0"}),
    ("held_out", "Parametrised, held-out points left out", {"fmt": "^", "color": "C1"}),
)


def plot_mass_point_comparison(
    table: pd.DataFrame, label: ExperimentLabel = DEFAULT_LABEL
) -> Figure:
    """The binned test Z of each network at every signal point (± its bootstrap error),
    the held-out points shaded; below, the parametrised network's Z as a share of the
    dedicated network's, where a point has one (± the paired bootstrap error), with
    the goal at held-out points (:data:`HELD_OUT_SHARE`)."""
    x = np.arange(len(table), dtype=float)
    held_out = table["held_out"].to_numpy(dtype=bool)
    present = [entry for entry in SERIES if table[f"z_{entry[0]}"].notna().any()]
    offsets = np.linspace(-0.2, 0.2, len(present)) if len(present) > 1 else [0.0]
    with hep_style(GRID_STYLE):
        figure = Figure(figsize=(max(8.0, 0.9 * len(table) + 4.0), 9.0), layout="constrained")
        top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[2, 1])
        for axes in (top, bottom):
            for index in np.flatnonzero(held_out):
                axes.axvspan(index - 0.5, index + 0.5, color="0.9", zorder=0, lw=0)
        for (name, legend, style), offset in zip(present, offsets, strict=True):
            z, error = table[f"z_{name}"], table[f"z_{name}_error"]
            top.errorbar(x + offset, z, yerr=error.fillna(0.0), ms=8, capsize=3, label=legend,
                         ls="none", **style)  # fmt: skip
        tops = [table[f"z_{name}"] + table[f"z_{name}_error"].fillna(0.0) for name, _, _ in present]
        highest = np.nanmax([1e-9, *(top_values.max() for top_values in tops)])
        top.set_ylim(0, 1.35 * highest)
        top.set_ylabel("Binned Z (test)")
        handles, labels = top.get_legend_handles_labels()
        if held_out.any():
            handles.append(Patch(facecolor="0.9", edgecolor="0.6"))
            labels.append("Held out of the training")
        top.legend(handles, labels, fontsize="x-small", loc="upper right", ncols=2)
        _draw_shares(bottom, table, x)
        category_ticks(bottom, [signal_label(name) for name in table["signal_process"]], [], 45,
                       fontsize=11)  # fmt: skip
        bottom.set_xlim(-0.5, len(table) - 0.5)
        bottom.set_xlabel("Signal point")
        draw_experiment_label(top, label)
    return figure


def _draw_shares(axes, table: pd.DataFrame, x: np.ndarray) -> None:
    """Parametrised ÷ dedicated: the held-out network at held-out points (± the ratio's
    paired bootstrap error), the network of every point at trained points (± the paired
    bootstrap error of the difference, over the dedicated network's Z)."""
    held_out = table["held_out"].to_numpy(dtype=bool)
    dedicated = table["z_dedicated"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        trained = table["z_parametrised"].to_numpy(dtype=float) / dedicated
        trained_error = table["difference_error"].to_numpy(dtype=float) / dedicated
    trained[held_out] = np.nan  # drawn at trained points only
    share = table["held_out_share"].to_numpy(dtype=float)
    share_error = table["held_out_share_error"].to_numpy(dtype=float)
    edges = []  # the drawn points' error bars, which the panel's range holds
    drawn = [
        (trained, trained_error, {"fmt": "o", "color": "C0", "ms": 7}),
        (share, share_error, {"fmt": "^", "color": "C1", "ms": 8}),
    ]
    for values, errors, style in drawn:
        shown = np.isfinite(values)
        errors = np.nan_to_num(errors[shown])
        axes.errorbar(x[shown], values[shown], yerr=errors, capsize=3, **style)
        edges += [*(values[shown] - errors), *(values[shown] + errors)]
    axes.axhline(1.0, color="0.4", lw=1)
    axes.axhline(HELD_OUT_SHARE, color="C3", lw=1.5, ls="--",
                 label=f"Goal at held-out points: {HELD_OUT_SHARE:.0%}")  # fmt: skip
    low, high = min([1.0, *edges]), max([1.0, *edges])
    axes.set_ylim(min(0.8, low - 0.05), max(1.15, high + 0.05))
    axes.set_ylabel("Parametrised ÷ dedicated")
    axes.legend(fontsize="x-small", loc="lower right")


def plot_mass_point_comparison_files(
    *, table, figures: Mapping[str, str], label: Mapping | None = None
) -> None:
    """Entry point of rule ``plot_mass_point_comparison``: ``table``
    (``mass_point_comparison.csv``) in, the figure ``mass_point_comparison`` out
    (``figures``: ``{<name>_png, <name>_pdf: path}``)."""
    comparison = pd.read_csv(table, dtype={"signal_process": str})
    save(plot_mass_point_comparison(comparison, experiment_label(label)), figures,
         "mass_point_comparison")  # fmt: skip
