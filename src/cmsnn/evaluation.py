"""Per-model evaluation: weighted AUCs and the figure-of-merit scan of every split."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, roc_curve

from cmsnn.files import write_csv, write_json
from cmsnn.fom import (
    background_yields_by_class,
    best_cut_summary,
    check_signal_processes,
    cut_values,
    scan_split,
)
from cmsnn.splitting import SPLITS


def weighted_auc(predictions: pd.DataFrame, signal_class: str) -> float:
    """Area under the ROC curve of the signal output, signal class against all other
    events, each event weighted by its physics weight.

    The ROC curve comes from scikit-learn; the area is integrated directly, because
    ``sklearn.metrics.auc`` refuses the non-monotonic curves that negative weights
    (NLO samples) produce.
    """
    return roc_curve_of(predictions, signal_class)[2]


def roc_curve_of(
    predictions: pd.DataFrame, target_class: str
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted ROC curve of ``score_<target_class>``, that class against all others:
    ``(false positive rate, true positive rate, area)``."""
    false_positive_rate, true_positive_rate, _ = roc_curve(
        (predictions["class"] == target_class).to_numpy(),
        predictions[f"score_{target_class}"].to_numpy(),
        sample_weight=predictions["weight"].to_numpy(),
        drop_intermediate=False,
    )
    area = float(np.trapezoid(true_positive_rate, false_positive_rate))
    return false_positive_rate, true_positive_rate, area


def roc_curves(
    predictions: Mapping[str, pd.DataFrame], mode: str, class_names: Sequence[str]
) -> dict[str, dict[str, tuple]]:
    """``{class: {split: (fpr, tpr, auc)}}``: the signal in binary mode, every class
    against the rest (one-vs-rest) in multi-class mode."""
    targets = class_names[:1] if mode == "binary" else class_names
    return {
        target: {split: roc_curve_of(events, target) for split, events in predictions.items()}
        for target in targets
    }


def weighted_confusion_matrix(
    predictions: pd.DataFrame, mode: str, class_names: Sequence[str]
) -> pd.DataFrame:
    """Weighted confusion matrix normalised per true class (rows sum to 1).

    Multi-class: the predicted class is the highest output. Binary: signal when the
    signal output exceeds 0.5, and the classes are signal and background.
    """
    if mode == "multiclass":
        labels = list(class_names)
        true, predicted = predictions["class"], predictions["predicted_class"]
    else:
        signal = class_names[0]
        labels = [signal, "background"]
        true = predictions["class"].where(predictions["class"] == signal, "background")
        predicted = np.where(predictions[f"score_{signal}"] > 0.5, signal, "background")
    matrix = confusion_matrix(
        true, predicted, labels=labels, sample_weight=predictions["weight"], normalize="true"
    )
    return pd.DataFrame(
        matrix,
        index=pd.Index(labels, name="true class"),
        columns=pd.Index(labels, name="predicted class"),
    )


def evaluate_predictions(
    predictions: Mapping[str, pd.DataFrame],
    fractions: Mapping[str, float],
    fom_options: Mapping,
    mode: str,
    class_names: Sequence[str],
) -> tuple[pd.DataFrame, dict]:
    """The FOM scan (one row per cut, columns per split) and the model's key numbers."""
    signal_class = class_names[0]
    check_signal_processes(predictions["test"], signal_class, fom_options["signal_processes"])
    cuts = cut_values(fom_options["cut_min"], fom_options["cut_max"], fom_options["steps"])
    scans = {
        split: scan_split(
            predictions[split], cuts, fractions[split], fom_options, mode, signal_class
        )
        for split in SPLITS
    }
    table = pd.DataFrame({"cut": cuts})
    for split, scan in scans.items():
        for column in scan.columns.drop("cut"):
            table[f"{column}_{split}"] = scan[column].to_numpy()
    numbers = {f"auc_{split}": weighted_auc(predictions[split], signal_class) for split in SPLITS}
    numbers |= best_cut_summary(scans)
    per_class = background_yields_by_class(
        predictions["test"],
        numbers["best_cut"],
        fractions["test"],
        fom_options["luminosity"],
        mode,
        class_names,
    )
    numbers |= {f"yield_test_at_best_cut_{name}": value for name, value in per_class.items()}
    return table, numbers


def evaluate_files(
    sources: Mapping[str, str],
    scan_output,
    numbers_output,
    fractions: Mapping[str, float],
    fom_options: Mapping,
    mode: str,
    class_names: Sequence[str],
) -> None:
    """Rule entry point: prediction CSVs in; FOM scan CSV and evaluation JSON out."""
    predictions = {split: pd.read_csv(sources[split]) for split in SPLITS}
    table, numbers = evaluate_predictions(predictions, fractions, fom_options, mode, class_names)
    write_csv(table, scan_output)
    write_json(numbers, numbers_output)
