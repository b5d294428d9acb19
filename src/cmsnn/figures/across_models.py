"""Figures across models: the spread of every grid point's seeds (with the seed
ensemble beside them) and the FOM of every signal point; with the entry points of
their rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cmsnn.figures.fom import seed_name
from cmsnn.figures.style import (
    DEFAULT_LABEL,
    GRID_STYLE,
    ExperimentLabel,
    category_ticks,
    draw_experiment_label,
    experiment_label,
    hep_style,
    panel_grid,
    save,
    seed_marker,
)
from cmsnn.summary.columns import model_kinds
from cmsnn.vocabulary import ENSEMBLE, parse_signal_point

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
    kinds = model_kinds(summary)
    ensembles = summary[kinds == ENSEMBLE]
    summary = summary[kinds != ENSEMBLE]
    points = list(dict.fromkeys(summary["grid_point"]))
    positions = {point: index for index, point in enumerate(points)}
    with hep_style(GRID_STYLE):
        figure, panels = panel_grid(
            len(metrics), max_columns=len(metrics), panel_size=(max(6, 1.5 * len(points)), 6)
        )
        for axes, metric in zip(panels, metrics, strict=True):
            for index, (seed, runs) in enumerate(summary.groupby("seed", sort=True)):
                x = runs["grid_point"].map(positions).to_numpy() - 0.15
                entry = f"seed {seed_name(seed)}"
                axes.plot(x, runs[metric], ls="none", ms=6, label=entry, **seed_marker(index))
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
            category_ticks(axes, points, [], rotation=20, fontsize=10)
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
        axes.set_xticks(range(len(order)), [signal_label(name) for name in order], rotation=20)
        axes.tick_params(axis="x", which="minor", bottom=False, top=False)
        axes.set_xlim(-0.6, len(order) - 0.4)
        axes.set_xlabel("Signal point (each alone as the signal)")
        axes.set_ylabel("Test Z at the validation-chosen cut")
        axes.set_ylim(bottom=0)
        axes.legend(fontsize="xx-small")
        draw_experiment_label(axes, label)
    return figure


def signal_label(process: str) -> str:
    return process.removesuffix(".root")


#: The summary columns whose spread over seeds the seed-spread figure shows, and labels.
SEED_SPREAD_METRICS = {
    "auc_validation": "Validation AUC",
    "auc_test": "Test AUC",
    "fom_test_at_best_cut": "Test FOM at the chosen cut",
    "fom_test_max": "Maximum test FOM",
}


def plot_fom_by_signal_files(
    *, by_signal, figures: Mapping[str, str], label: Mapping | None = None
) -> None:
    """Entry point of rule ``plot_fom_by_signal``: the test FOM at the validation-chosen
    cut versus the signal point, per grid point (``by_signal``:
    ``fom_by_signal_by_point.csv``), as ``by_signal``;
    ``figures``: ``{<name>_png, <name>_pdf: path}`` of each figure drawn."""
    outputs = figures
    table = pd.read_csv(by_signal)
    figure = plot_fom_by_signal(
        table, signal_point_order(table["signal_process"]), experiment_label(label)
    )
    save(figure, outputs, "by_signal")


def signal_point_order(processes) -> list[str]:
    """The signal processes in mass order where every name reads ``<model>_<m1>_<m2>``,
    otherwise in the order given (the configured one)."""
    names = list(dict.fromkeys(processes))
    points = [parse_signal_point(name) for name in names]
    if all(point["mass_1"] is not None for point in points):
        keyed = zip(points, names, strict=True)
        return [name for point, name in sorted(keyed, key=lambda pair: _mass_key(pair[0]))]
    return names


def _mass_key(point: Mapping) -> tuple:
    return (point["signal_model"], point["mass_1"], point["mass_2"])


def plot_seed_spread_files(
    *, summary, figures: Mapping[str, str], label: Mapping | None = None
) -> None:
    """Entry point of rule ``plot_seed_spread``: the validation AUC and test FOM of
    every seed, per grid point, side by side, with the seed ensemble beside them (from
    ``summary``: ``fom_summary.csv``), as ``spread``;
    ``figures``: ``{<name>_png, <name>_pdf: path}`` of each figure drawn."""
    outputs = figures
    summary = pd.read_csv(summary)
    figure = plot_seed_spread(
        summary, list(SEED_SPREAD_METRICS), SEED_SPREAD_METRICS, experiment_label(label)
    )
    save(figure, outputs, "spread")
