"""Network outputs per event, with what the figure of merit needs beside them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import numpy as np
import pandas as pd

from cmsnn.dataframes import read_parquet, write_predictions_csv
from cmsnn.learning.model import limit_threads
from cmsnn.vocabulary import EVENT_COLUMNS, EVENT_ID_COLUMNS, SCORE_PREFIX, NetworkTask

#: Events per forward pass when predicting: large batches are faster, and the outputs do
#: not depend on the batch size.
PREDICTION_BATCH_SIZE = 8192


def score_columns(classification: str, class_names: Sequence[str]) -> list[str]:
    """``score_<class>`` per network output: the signal only in binary mode."""
    names = class_names[:1] if classification == "binary" else class_names
    return [f"{SCORE_PREFIX}{name}" for name in names]


def predict_events(
    model: keras.Model,
    events: pd.DataFrame,
    features: Sequence[str],
    classification: str,
    class_names: Sequence[str],
) -> pd.DataFrame:
    """The network's outputs for ``events`` (scaled features), beside the original
    (unscaled) weight, the process and the true class; multi-class adds the
    ``predicted_class`` (the output with the highest score)."""
    x = events[list(features)].to_numpy(dtype=np.float32)
    scores = np.asarray(model.predict(x, batch_size=PREDICTION_BATCH_SIZE, verbose=0))
    predictions = pd.DataFrame(scores, columns=score_columns(classification, class_names))
    if classification == "multiclass":
        predictions["predicted_class"] = np.asarray(class_names, dtype=object)[
            scores.argmax(axis=1)
        ]
    # the identifying columns only where the events have them
    for column in (c for c in EVENT_COLUMNS if c in events or c not in EVENT_ID_COLUMNS):
        predictions[column] = events[column].to_numpy()
    return predictions


def load_network(model_path) -> keras.Model:
    """A trained network saved by the training step."""
    return keras.saving.load_model(model_path)


def predict_files(
    *,
    model,
    events: Mapping[str, str],
    predictions: Mapping[str, str],
    task: NetworkTask,
    threads: int = 1,
) -> None:
    """Entry point of rule ``predict``: one model's scores for every event of every split.

    Args:
        model: the trained Keras model.
        events: ``{split: prepared Parquet file}``.
        predictions: ``{split: prediction CSV}`` to write, for the same splits.
        task: what the network is asked.
        threads: the job's threads.
    """
    limit_threads(threads)
    network = load_network(model)
    for split, source in events.items():
        scores = predict_events(
            network, read_parquet(source), task.features, task.classification, task.class_names
        )
        write_predictions_csv(scores, predictions[split])
