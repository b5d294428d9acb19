"""Entry points of the plotting rules: read a stage's files, compute what a figure
shows, draw it with :mod:`cmsnn.drawing`, and save it as PNG (for the report) and PDF
(for papers). The numbers behind the figures come from the evaluation modules, so
they are tested there; how a figure looks is :mod:`cmsnn.drawing`'s."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cmsnn import drawing
from cmsnn.configuration import SPLITS
from cmsnn.correlation import correlation_matrices
from cmsnn.files import read_json, read_parquet
from cmsnn.metrics import SIGNAL_OUTPUT_THRESHOLD, roc_curves, weighted_confusion_matrix
from cmsnn.reading import EVENT_ID_COLUMNS
from cmsnn.summary import parse_signal_point

#: The summary columns whose spread over seeds the seed-spread figure shows, and labels.
SEED_SPREAD_METRICS = {
    "auc_validation": "Validation AUC",
    "auc_test": "Test AUC",
    "fom_test_at_best_cut": "Test FOM at the chosen cut",
    "fom_test_max": "Maximum test FOM",
}


def experiment_label(settings: Mapping | None = None) -> drawing.ExperimentLabel:
    """The figures' label from the rule's params (the fields of
    :class:`cmsnn.drawing.ExperimentLabel`); private work on simulation without them."""
    return drawing.ExperimentLabel(**settings) if settings else drawing.DEFAULT_LABEL


def save(figure, outputs: Mapping[str, str], name: str) -> None:
    """Save ``figure`` to the outputs ``<name>_png`` and ``<name>_pdf`` (and
    ``<name>_svg`` where the rule has one: the report's first page shows it inline)."""
    svg = outputs[f"{name}_svg"] if f"{name}_svg" in outputs.keys() else None
    drawing.save_figure(figure, outputs[f"{name}_png"], outputs[f"{name}_pdf"], svg)


def plot_dataset_files(
    events_path,
    outputs: Mapping[str, str],
    features: Sequence[str],
    class_names: Sequence[str],
    units: Mapping[str, str],
    bins: int,
    label: Mapping | None = None,
) -> None:
    """Input-variable distributions and correlation matrices per class (training split,
    before scaling)."""
    label = experiment_label(label)
    events = read_parquet(events_path)
    distributions = drawing.plot_input_distributions(
        events, features, class_names, units, bins, label=label
    )
    save(distributions, outputs, "inputs")
    matrices = correlation_matrices(events, features, class_names)
    save(drawing.plot_correlation_matrices(matrices, label=label), outputs, "correlations")


def read_predictions(path) -> pd.DataFrame:
    """A prediction file without the columns that say where each event came from (no
    figure needs them; as text they weigh more than the scores)."""
    return pd.read_csv(path, usecols=lambda column: column not in EVENT_ID_COLUMNS)


def plot_model_files(
    inputs: Mapping[str, str],
    outputs: Mapping[str, str],
    classification: str,
    class_names: Sequence[str],
    bins: int,
    label: Mapping | None = None,
    roc_style: str = "rejection",
    min_background_events: float = 0.0,
) -> None:
    """Every figure of one model (the output distributions quote the evaluation's KS
    test; the FOM scan shades the cuts with fewer than ``min_background_events``
    effective validation background events, ``fom.min_background_events``)."""
    label_settings, label = label, experiment_label(label)
    predictions = {split: read_predictions(inputs[f"predictions_{split}"]) for split in SPLITS}
    facts = read_json(inputs["facts"])
    history = pd.read_csv(inputs["history"])
    save(drawing.plot_training_history(history, facts["best_epoch"], label), outputs, "history")
    curves = roc_curves(predictions, classification, class_names)
    save(drawing.plot_roc_curves(curves, roc_style, label), outputs, "roc")

    score = f"score_{class_names[0]}"
    ks = pd.read_csv(inputs["ks_table"], index_col="class")  # the evaluation's KS test
    figure = drawing.plot_output_distributions(
        predictions["train"], predictions["validation"], score, class_names, ks, bins, label
    )
    save(figure, outputs, "outputs")

    matrix = weighted_confusion_matrix(predictions["test"], classification, class_names)
    save(drawing.plot_confusion_matrix(matrix, "test", label), outputs, "confusion")
    plot_fom_scan_files(
        inputs, outputs, class_names, label_settings, min_background_events=min_background_events
    )
    importance = pd.read_csv(inputs["importance"])
    save(drawing.plot_importance(importance, "validation", label), outputs, "importance")


def plot_fom_scan_files(
    inputs: Mapping[str, str],
    outputs: Mapping[str, str],
    class_names,
    label: Mapping | None = None,
    seeds: Sequence = (),
    min_background_events: float = 0.0,
) -> None:
    """The FOM scan of one model (a seed or a seed ensemble), with its bootstrap band
    and the cuts that may not be chosen (fewer than ``min_background_events`` effective
    validation background events) shaded; given the scans of the grid point's ``seeds``
    too (``seed_scans``, ``seed_evaluations``, in seed order), the overlay of all of
    them with their chosen cuts (output ``seeds``)."""
    label = experiment_label(label)
    scan, numbers = pd.read_csv(inputs["scan"]), read_json(inputs["evaluation"])
    figure = drawing.plot_fom_scan(scan, numbers, class_names, label, min_background_events)
    save(figure, outputs, "fom")
    if "seed_scans" in inputs.keys():
        names = [f"seed {drawing.seed_name(seed)}" for seed in seeds]
        scans = dict(zip(names, map(pd.read_csv, inputs["seed_scans"]), strict=True))
        evaluations = dict(zip(names, map(read_json, inputs["seed_evaluations"]), strict=True))
        scans["ensemble"], evaluations["ensemble"] = scan, numbers
        figure = drawing.plot_fom_scans_of_seeds(
            scans, evaluations, label=label, min_background_events=min_background_events
        )
        save(figure, outputs, "seeds")


def plot_fom_by_signal_files(
    by_signal_by_point_path, outputs: Mapping[str, str], label: Mapping | None = None
) -> None:
    """Test FOM at the validation-chosen cut versus the signal point, per grid point."""
    table = pd.read_csv(by_signal_by_point_path)
    figure = drawing.plot_fom_by_signal(
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
    summary_path, outputs: Mapping[str, str], label: Mapping | None = None
) -> None:
    """Validation AUC and test FOM of every seed, per grid point, side by side, with the
    seed ensemble beside them."""
    summary = pd.read_csv(summary_path)
    figure = drawing.plot_seed_spread(
        summary, list(SEED_SPREAD_METRICS), SEED_SPREAD_METRICS, experiment_label(label)
    )
    save(figure, outputs, "spread")


def plot_two_dimensional_samples_files(
    events_paths: Sequence,
    outputs: Mapping[str, str],
    features: Sequence[str],
    signal_class: str,
    label: Mapping | None = None,
) -> None:
    """The 2-D chapter's contour view of the signal and background samples."""
    events = pd.concat([read_parquet(path) for path in events_paths], ignore_index=True)
    is_signal = events["class"] == signal_class
    x, y = features
    figure = drawing.plot_two_dimensional_samples(
        events[is_signal], events[~is_signal], x, y, experiment_label(label)
    )
    save(figure, outputs, "samples")


def plot_two_dimensional_classification_files(
    events_path,
    predictions_path,
    outputs: Mapping[str, str],
    features,
    signal_class: str,
    label: Mapping | None = None,
) -> None:
    """Test events drawn as correctly classified or misclassified (signal output above
    ``SIGNAL_OUTPUT_THRESHOLD``)."""
    events = read_parquet(events_path)
    predictions = pd.read_csv(predictions_path)
    if len(events) != len(predictions):
        raise ValueError(f"{events_path} and {predictions_path} hold different events")
    is_signal = (events["class"] == signal_class).to_numpy()
    predicted_signal = predictions[f"score_{signal_class}"].to_numpy() > SIGNAL_OUTPUT_THRESHOLD
    x, y = features
    figure = drawing.plot_two_dimensional_classification(
        events, x, y, is_signal, np.asarray(predicted_signal), experiment_label(label)
    )
    save(figure, outputs, "classification")
