"""Classifier metrics with event weights: ROC curves, their areas, confusion matrices.

Kept apart from the figure of merit so that the steps using only these (variable
importance, plots) do not rerun when the FOM code changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def weighted_auc(predictions: pd.DataFrame, signal_class: str) -> float:
    """Area under the ROC curve of the signal output, signal class against all other
    events, each event weighted by its physics weight.

    The area is integrated directly, because ``sklearn.metrics.auc`` refuses the
    non-monotonic curves that negative weights (NLO samples) produce.
    """
    return roc_curve_of(predictions, signal_class)[2]


def roc_curve_of(
    predictions: pd.DataFrame, target_class: str
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted ROC curve of ``score_<target_class>``, that class against all others:
    ``(false positive rate, true positive rate, area)``, one point per distinct score
    after ``(0, 0)``.

    The curve of ``sklearn.metrics.roc_curve(..., drop_intermediate=False)``, computed
    as it computes it (``tests/test_evaluation.py`` checks them equal): importing
    scikit-learn costs 1.4 s of CPU here, more than the three jobs per model that need a
    curve spend on it (``python -X importtime -c "import sklearn.metrics"``)."""
    weight = predictions["weight"].to_numpy(dtype=np.float64)
    kept = weight != 0  # as scikit-learn: events without weight add no point
    score = predictions[f"score_{target_class}"].to_numpy()[kept]
    order = np.argsort(score, kind="mergesort")[::-1]
    score = score[order]
    positive = (predictions["class"] == target_class).to_numpy()[kept][order]
    weight = weight[kept][order]
    # the last event of each distinct score: the curve's points, the highest score first
    ends = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1] if len(score) else []
    true_positives = np.r_[0.0, np.cumsum(weight * positive)[ends]]
    false_positives = np.r_[0.0, np.cumsum(weight * ~positive)[ends]]
    # NaN rates where a side's total weight is not positive, as scikit-learn gives them
    false_positive_rate = _rate(false_positives)
    true_positive_rate = _rate(true_positives)
    area = float(np.trapezoid(true_positive_rate, false_positive_rate))
    return false_positive_rate, true_positive_rate, area


def _rate(cumulative: np.ndarray) -> np.ndarray:
    if cumulative[-1] <= 0:
        return np.full(cumulative.shape, np.nan)
    return cumulative / cumulative[-1]


#: Points of a ROC curve kept for drawing, spaced evenly and geometrically along it.
ROC_POINTS_DRAWN = 2000
#: A binary network calls an event signal above this output (the confusion matrix and
#: the 2-D classification view; the FOM scans its own cuts).
SIGNAL_OUTPUT_THRESHOLD = 0.5


def roc_curves(
    predictions: Mapping[str, pd.DataFrame], classification: str, class_names: Sequence[str]
) -> dict[str, dict[str, tuple]]:
    """``{class: {split: (fpr, tpr, auc)}}`` for drawing: the signal in binary mode, every
    class against the rest (one-vs-rest) in multi-class mode. The area comes from the
    whole curve; the curve itself is thinned (:func:`thinned_curve`)."""
    targets = class_names[:1] if classification == "binary" else class_names
    return {
        target: {
            split: thinned_curve(*roc_curve_of(events, target))
            for split, events in predictions.items()
        }
        for target in targets
    }


def thinned_curve(
    false_positive_rate: np.ndarray, true_positive_rate: np.ndarray, area: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """At most about ``2 × ROC_POINTS_DRAWN`` points of a curve that has one per event:
    evenly spaced along it, and geometrically from its start, where the background
    efficiency is tiny and a rejection plot needs them. The first and last points stay.
    (Fifteen curves of five million points each held 3.5 copies of the data in memory.)"""
    n_points = len(false_positive_rate)
    if n_points <= 2 * ROC_POINTS_DRAWN:
        return false_positive_rate, true_positive_rate, area
    geometric = np.geomspace(1, n_points, ROC_POINTS_DRAWN).astype(np.int64) - 1
    even = np.linspace(0, n_points - 1, ROC_POINTS_DRAWN).astype(np.int64)
    keep = np.unique(np.concatenate([geometric, even]))
    return false_positive_rate[keep], true_positive_rate[keep], area


def weighted_confusion_matrix(
    predictions: pd.DataFrame, classification: str, class_names: Sequence[str]
) -> pd.DataFrame:
    """Weighted confusion matrix normalised per true class (rows sum to 1).

    Multi-class: the predicted class is the highest output. Binary: signal when the
    signal output exceeds :data:`SIGNAL_OUTPUT_THRESHOLD`, and the classes are signal
    and background.
    """
    if classification == "multiclass":
        labels = list(class_names)
        true, predicted = predictions["class"], predictions["predicted_class"]
    else:
        signal = class_names[0]
        labels = [signal, "background"]
        true = predictions["class"].where(predictions["class"] == signal, "background")
        predicted = np.where(
            predictions[f"score_{signal}"] > SIGNAL_OUTPUT_THRESHOLD, signal, "background"
        )
    # scikit-learn's confusion_matrix(..., normalize="true") computed as it computes it
    # (tests/test_evaluation.py checks them equal), without its import (see roc_curve_of)
    index = {label: position for position, label in enumerate(labels)}
    true_index = pd.Series(np.asarray(true)).map(index).to_numpy(dtype=np.float64)
    predicted_index = pd.Series(np.asarray(predicted)).map(index).to_numpy(dtype=np.float64)
    kept = ~np.isnan(true_index) & ~np.isnan(predicted_index)  # labels outside: not counted
    cells = (true_index[kept] * len(labels) + predicted_index[kept]).astype(np.int64)
    weights = predictions["weight"].to_numpy(dtype=np.float64)[kept]
    sums = np.bincount(cells, weights, minlength=len(labels) ** 2).reshape(len(labels), -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        matrix = np.nan_to_num(sums / sums.sum(axis=1, keepdims=True))
    return pd.DataFrame(
        matrix,
        index=pd.Index(labels, name="true class"),
        columns=pd.Index(labels, name="predicted class"),
    )
