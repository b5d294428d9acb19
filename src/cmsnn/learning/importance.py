"""Permutation importance: how much the validation AUC drops when one input variable
is shuffled among the events, breaking its link to the class while keeping its
distribution. A variable the network ignores costs nothing; the one it relies on most
costs most."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from cmsnn.dataframes import read_parquet, write_csv
from cmsnn.learning.metrics import weighted_auc
from cmsnn.preprocessing.mass_points import VALIDATION_DRAWS, MassPoints
from cmsnn.vocabulary import MASS_INPUTS, NetworkTask


def permutation_importance(
    predict: Callable[[np.ndarray], np.ndarray],
    events: pd.DataFrame,
    features: Sequence[str],
    score_columns: Sequence[str],
    signal_class: str,
    repeats: int,
    seed: int,
) -> pd.DataFrame:
    """Drop in the weighted signal AUC per shuffled feature, most important first.

    ``predict`` maps a float32 feature array to the network's outputs (columns as
    ``score_columns``); ``events`` holds the features ``predict`` expects, ``weight`` and
    ``class``.
    The table has ``feature``, ``auc_drop`` (mean over ``repeats`` shuffles) and
    ``auc_drop_std``.
    """
    x = events[list(features)].to_numpy(dtype=np.float32)
    reference = _auc(predict, x, events, score_columns, signal_class)
    rng = np.random.default_rng(seed)
    rows = []
    for column, feature in enumerate(features):
        drops = []
        for _ in range(repeats):
            shuffled = x.copy()
            shuffled[:, column] = rng.permutation(shuffled[:, column])
            drops.append(reference - _auc(predict, shuffled, events, score_columns, signal_class))
        rows.append({"feature": feature, "auc_drop": np.mean(drops), "auc_drop_std": np.std(drops)})
    table = pd.DataFrame(rows).sort_values("auc_drop", ascending=False, kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table["auc_reference"] = reference
    return table.reset_index(drop=True)


def _auc(predict, x, events, score_columns, signal_class) -> float:
    scores = pd.DataFrame(np.asarray(predict(x)).reshape(len(x), -1), columns=score_columns)
    scores["class"] = events["class"].to_numpy()
    scores["weight"] = events["weight"].to_numpy()
    return weighted_auc(scores, signal_class)


def permutation_importance_files(
    *, model, validation, table, task: NetworkTask, repeats: int, seed: int, threads: int
) -> None:
    """Entry point of rule ``permutation_importance``: the exported bare network (ONNX, of
    scaled variables) and the prepared validation events in, the table of input
    variables ranked by the AUC their shuffling costs out. A parametrised network's
    masses are ranked too; its validation background is asked at the validation
    split's signal points, drawn by their training-weight shares with the importance's
    seed (the training's validation draws used the training split's points and the
    model's seed: the same points and, after the per-point balancing, the same shares)."""
    from cmsnn.learning.prediction import onnx_network

    events = read_parquet(validation)
    if task.parametrised:
        signal = (events["class_index"] == 0).to_numpy()
        drawn = MassPoints.of_training(events, signal).draw(
            int((~signal).sum()), seed, VALIDATION_DRAWS
        )
        events.loc[~signal, list(MASS_INPUTS)] = drawn
    ranked = permutation_importance(
        onnx_network(model, threads),
        events,
        task.inputs,
        task.score_columns,
        task.signal_class,
        repeats,
        seed,
    )
    write_csv(ranked, table)
