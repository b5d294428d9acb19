"""Figures of the inputs: the input variables' distributions per class and split, their
correlation matrices, and the 2-D toy's samples; with the entry points of their rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from cmsnn.dataframes import read_parquet
from cmsnn.figures.style import (
    DEFAULT_LABEL,
    GRID_STYLE,
    ExperimentLabel,
    category_ticks,
    draw_experiment_label,
    experiment_label,
    hep_style,
    is_integer_valued,
    outward_ticks,
    panel_grid,
    save,
    unit_area_histogram,
    weighted_quantiles,
)
from cmsnn.statistics.correlation import correlation_matrices
from cmsnn.vocabulary import NetworkTask

#: The chapter's two-dimensional view: range and bins in both variables, contour
#: levels in events per bin.
PLANE_RANGE = (-10.0, 10.0)
PLANE_BINS = 50
CONTOUR_LEVELS = [1, 5, 10, 25, 50, 70, 80, 100]


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
        figure, panels = panel_grid(len(features), max_columns=4, panel_size=(5.5, 5))
        for axes, feature in zip(panels, features, strict=False):
            edges = input_bin_edges(events[feature].to_numpy(), events["weight"].to_numpy(), bins)
            for index, name in enumerate(class_names):
                density, _ = unit_area_histogram(events, name, feature, edges)
                axes.stairs(density, edges, color=f"C{index}", lw=2, label=name)
            values = events[feature].to_numpy()
            if is_integer_valued(values):
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
    low, high = weighted_quantiles(values, np.abs(weights), [0.005, 0.995])
    if is_integer_valued(values):
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
        figure, panels = panel_grid(len(matrices), max_columns=2, panel_size=(9, 8.5))
        for axes, (class_name, matrix) in zip(panels, matrices.items(), strict=False):
            percent = 100.0 * matrix.to_numpy(dtype=float)
            image = axes.imshow(percent, cmap="RdBu_r", vmin=-100, vmax=100)
            for (row, column), value in np.ndenumerate(percent):
                if np.isfinite(value):
                    colour = "white" if abs(value) > 60 else "black"
                    axes.text(column, row, f"{round(value):d}", ha="center", va="center",
                              fontsize=value_size, color=colour)  # fmt: skip
            category_ticks(axes, matrix.columns, matrix.index, fontsize=max(value_size, 8))
            outward_ticks(axes)
            # centred over its panel: a panel's right edge can lie under the centred suptitle
            axes.set_title(class_name, loc="center")
        figure.colorbar(image, ax=panels, label="Correlation coefficient [%]", shrink=0.8)
        figure.suptitle(f"Linear correlations in %, {split} split (weighted)", fontsize=16)
        draw_experiment_label(figure, label)
    return figure


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


def plot_inputs_files(
    *,
    events,
    figures: Mapping[str, str],
    task: NetworkTask,
    units: Mapping[str, str],
    bins: int,
    label: Mapping | None = None,
) -> None:
    """Entry point of rule ``plot_inputs``: input-variable distributions (``inputs``)
    and correlation matrices (``correlations``) per class, of the training split's
    ``events`` before scaling;
    ``figures``: ``{<name>_png, <name>_pdf: path}`` of each figure drawn."""
    label = experiment_label(label)
    features, class_names = task.features, task.class_names
    events = read_parquet(events)
    distributions = plot_input_distributions(
        events, features, class_names, units, bins, label=label
    )
    save(distributions, figures, "inputs")
    matrices = correlation_matrices(events, features, class_names)
    save(plot_correlation_matrices(matrices, label=label), figures, "correlations")


def plot_two_dimensional_samples_files(
    *,
    events: Sequence,
    figures: Mapping[str, str],
    features: Sequence[str],
    signal_class: str,
    label: Mapping | None = None,
) -> None:
    """Entry point of rule ``plot_two_dimensional_samples``: the 2-D chapter's contour
    view (``samples``) of the signal and background ``events`` of every split;
    ``figures``: ``{<name>_png, <name>_pdf: path}`` of each figure drawn."""
    outputs = figures
    events = pd.concat([read_parquet(path) for path in events], ignore_index=True)
    is_signal = events["class"] == signal_class
    x, y = features
    figure = plot_two_dimensional_samples(
        events[is_signal], events[~is_signal], x, y, experiment_label(label)
    )
    save(figure, outputs, "samples")
