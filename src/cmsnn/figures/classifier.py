"""Figures of one trained network: training history, ROC curves, output distributions
with the KS test, confusion matrix, variable importance and the 2-D view of the test
events; with the entry points of their rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from cmsnn.dataframes import read_parquet, read_predictions
from cmsnn.figures.fom import draw_fom_scans
from cmsnn.figures.style import (
    DEFAULT_LABEL,
    GRID_STYLE,
    SPLIT_COLOURS,
    ExperimentLabel,
    category_ticks,
    draw_experiment_label,
    experiment_label,
    hep_style,
    log_range_with_headroom,
    outward_ticks,
    panel_grid,
    save,
    unit_area_histogram,
)
from cmsnn.files import read_json
from cmsnn.learning.metrics import SIGNAL_OUTPUT_THRESHOLD, roc_curves, weighted_confusion_matrix
from cmsnn.vocabulary import EVENT_ID_COLUMNS, SPLITS, NetworkTask

#: The ROC curve as HEP papers draw it (background rejection against signal
#: efficiency), or as the rest of machine learning does (true against false positives).
ROC_STYLES = ("rejection", "efficiency")


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
        figure, panels = panel_grid(len(curves), max_columns=2, panel_size=(7, 7))
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
            training, _ = unit_area_histogram(train, name, score_column, edges)
            axes.stairs(
                training,
                edges,
                fill=True,
                facecolor=to_rgba(colour, 0.25),
                edgecolor=colour,
                lw=1.5,
                label=f"{name} train",
            )
            density, error = unit_area_histogram(validation, name, score_column, edges)
            drawn += [training, density]
            entry = f"{name} validation{_ks_text(ks, name)}"
            axes.errorbar(centres, density, yerr=error, fmt="o", ms=5, color=colour, label=entry)
        log_range_with_headroom(axes, np.concatenate(drawn), headroom=0.05)
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
        category_ticks(axes, matrix.columns, matrix.index, rotation=30, fontsize="small")
        outward_ticks(axes)
        axes.set_xlabel(f"Predicted class ({split} split)")
        axes.set_ylabel("True class")
        figure.colorbar(image, ax=axes, label="Fraction of the true class")
        draw_experiment_label(axes, label)
    return figure


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


def _ks_text(ks: pd.DataFrame, class_name: str) -> str:
    """The legend suffix ", KS D = 0.031, p = 0.43" of a class (the weighted KS statistic
    and its p-value); empty where the test could not be made."""
    p_value = ks["p_value"].get(class_name, np.nan)
    if not np.isfinite(p_value):
        return ""
    statistic = ks["statistic"].get(class_name, np.nan)
    shown_p = f"{p_value:.2f}" if p_value >= 0.01 else f"{p_value:.1e}"
    return f", KS D = {statistic:.3f}, p = {shown_p}"


def predictions_to_draw(path) -> pd.DataFrame:
    """A prediction file without the columns that say where each event came from (no
    figure needs them)."""
    return read_predictions(path, columns=lambda column: column not in EVENT_ID_COLUMNS)


def plot_model_files(
    *,
    predictions: Mapping[str, str],
    facts,
    history,
    ks_table,
    scan,
    evaluation,
    importance,
    figures: Mapping[str, str],
    task: NetworkTask,
    bins: int,
    label: Mapping | None = None,
    roc_style: str = "rejection",
    min_background_events: float = 0.0,
) -> None:
    """Entry point of rule ``plot_model``: every figure of one model.

    Args:
        predictions: ``{split: prediction Parquet file}``.
        facts, history: the training's facts (JSON) and history (CSV).
        ks_table, scan, evaluation: the evaluation's KS table (quoted on the output
            distributions), FOM scan and numbers.
        importance: the permutation importance table.
        figures: ``{<name>_png, <name>_pdf: path}`` of each figure drawn (``history``,
            ``roc``, ``outputs``, ``confusion``, ``fom``, ``importance``).
        task: what the network is asked.
        bins: bins of the output distributions.
        label: the experiment label's settings.
        roc_style: ``rejection`` or ``efficiency``.
        min_background_events: the FOM scan shades the cuts with fewer effective
            validation background events (``fom.min_background_events``).
    """
    classification, class_names = task.classification, task.class_names
    outputs = figures
    label_settings, label = label, experiment_label(label)
    predictions = {split: predictions_to_draw(predictions[split]) for split in SPLITS}
    facts = read_json(facts)
    history = pd.read_csv(history)
    save(plot_training_history(history, facts["best_epoch"], label), outputs, "history")
    curves = roc_curves(predictions, classification, class_names)
    save(plot_roc_curves(curves, roc_style, label), outputs, "roc")

    score = f"score_{class_names[0]}"
    ks = pd.read_csv(ks_table, index_col="class")  # the evaluation's KS test
    figure = plot_output_distributions(
        predictions["train"], predictions["validation"], score, class_names, ks, bins, label
    )
    save(figure, outputs, "outputs")

    matrix = weighted_confusion_matrix(predictions["test"], classification, class_names)
    save(plot_confusion_matrix(matrix, "test", label), outputs, "confusion")
    draw_fom_scans(scan, evaluation, outputs, class_names, label_settings, min_background_events)
    importance = pd.read_csv(importance)
    save(plot_importance(importance, "validation", label), outputs, "importance")


def plot_two_dimensional_classification_files(
    *,
    events,
    predictions,
    figures: Mapping[str, str],
    features,
    signal_class: str,
    label: Mapping | None = None,
) -> None:
    """Entry point of rule ``plot_two_dimensional_classification``: the test
    ``events`` drawn as correctly classified or misclassified (signal output above
    ``SIGNAL_OUTPUT_THRESHOLD``), as ``classification``;
    ``figures``: ``{<name>_png, <name>_pdf: path}`` of each figure drawn."""
    events_path, predictions_path, outputs = events, predictions, figures
    events = read_parquet(events_path)
    predictions = read_predictions(predictions_path)
    if len(events) != len(predictions):
        raise ValueError(f"{events_path} and {predictions_path} hold different events")
    is_signal = (events["class"] == signal_class).to_numpy()
    predicted_signal = predictions[f"score_{signal_class}"].to_numpy() > SIGNAL_OUTPUT_THRESHOLD
    x, y = features
    figure = plot_two_dimensional_classification(
        events, x, y, is_signal, np.asarray(predicted_signal), experiment_label(label)
    )
    save(figure, outputs, "classification")
