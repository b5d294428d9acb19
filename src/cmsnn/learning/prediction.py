"""Network outputs per event, with what the figure of merit needs beside them.

The outputs come from the exported model (``model.onnx``: the input scaling and the
network) run by ONNX Runtime on the events' raw variables, so a prediction job starts no
TensorFlow, and every event the pipeline quotes a number for is one the exported model
was run on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from cmsnn.dataframes import read_parquet, write_parquet, write_predictions
from cmsnn.learning.export import onnx_scores, onnx_session
from cmsnn.preprocessing.mass_points import attach_masses, process_masses
from cmsnn.vocabulary import (
    EVENT_COLUMNS,
    EVENT_ID_COLUMNS,
    MASS_INPUTS,
    SCORE_PREFIX,
    NetworkTask,
)


def score_columns(classification: str, class_names: Sequence[str]) -> list[str]:
    """``score_<class>`` per network output: the signal only in binary mode."""
    names = class_names[:1] if classification == "binary" else class_names
    return [f"{SCORE_PREFIX}{name}" for name in names]


def predict_events(
    network: Callable[[np.ndarray], np.ndarray],
    events: pd.DataFrame,
    features: Sequence[str],
    classification: str,
    class_names: Sequence[str],
) -> pd.DataFrame:
    """The network's outputs for ``events``, beside their weight, process and true
    class; multi-class adds the ``predicted_class`` (the output with the highest score).

    Args:
        network: maps float32 events x variables to the outputs: the exported model
            (:func:`onnx_network`, raw variables) or a Keras network (scaled ones).
        events: the events, with the variables ``network`` expects.
        features, classification, class_names: what the network is asked.
    """
    x = events[list(features)].to_numpy(dtype=np.float32)
    scores = np.asarray(network(x)).reshape(len(x), -1)
    predictions = pd.DataFrame(scores, columns=score_columns(classification, class_names))
    if classification == "multiclass":
        predictions["predicted_class"] = np.asarray(class_names, dtype=object)[
            scores.argmax(axis=1)
        ]
    # the identifying columns only where the events have them
    for column in (c for c in EVENT_COLUMNS if c in events or c not in EVENT_ID_COLUMNS):
        predictions[column] = events[column].to_numpy()
    return predictions


def _signal_processes(sources, headline) -> list[str]:
    """The signal processes of the split files, and the headline's."""
    processes = set(headline)
    for source in sources:
        table = pq.read_table(source, columns=["process", "class_index"]).to_pandas()
        processes |= set(table.loc[table["class_index"] == 0, "process"])
    return sorted(processes)


def onnx_network(onnx, threads: int = 1) -> Callable[[np.ndarray], np.ndarray]:
    """The exported model as a function of raw variables (ONNX Runtime, CPU)."""
    session = onnx_session(onnx, threads)
    return lambda x: onnx_scores(session, x)


def predict_at_mass_points(
    network: Callable[[np.ndarray], np.ndarray],
    events: pd.DataFrame,
    task: NetworkTask,
    masses: Mapping[str, tuple],
    headline: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A parametrised network's outputs: the prediction table, with every signal event at
    its own point and every other event at the ``headline`` point (so that every later
    step reads it as an unparametrised network's), and the table of the other events
    at every signal point, with a ``mass_point`` column naming the point.

    Args:
        network: the exported model (raw variables, then the masses in GeV).
        events: the events (signal events of the points in ``masses``).
        task: what the network is asked.
        masses: ``{signal process: (mass_1, mass_2)}``, the points.
        headline: the point the other events are asked at in the prediction table.
    """
    signal = (events["class_index"] == 0).to_numpy()
    at_headline = attach_masses(events, masses)  # the others: the headline's masses
    at_headline = at_headline.fillna(dict(zip(MASS_INPUTS, masses[headline], strict=True)))
    table = predict_events(network, at_headline, task.inputs, task.classification, task.class_names)
    background = events[~signal]
    by_point = [
        predict_events(
            network,
            background.assign(**dict(zip(MASS_INPUTS, point_masses, strict=True))),
            task.inputs,
            task.classification,
            task.class_names,
        ).assign(mass_point=point)  # fmt: skip
        for point, point_masses in sorted(masses.items())
    ]
    return table, pd.concat(by_point, ignore_index=True)


def predict_files(
    *,
    model,
    events: Mapping[str, str],
    predictions: Mapping[str, str],
    predictions_csv: Mapping[str, str],
    task: NetworkTask,
    threads: int = 1,
    at_mass_points: Mapping[str, str] | None = None,
    signal_masses: Mapping[str, Sequence[float]] | None = None,
    headline: Sequence[str] = (),
) -> None:
    """Entry point of rule ``predict``: one model's scores for every event of every split.

    Args:
        model: the exported model (ONNX: the input scaling and the network).
        events: ``{split: Parquet file of the split's events}``, unscaled (the network
            sees what the preselection kept).
        predictions: ``{split: prediction Parquet file}`` to write, for the same
            splits: what the workflow's later rules read.
        predictions_csv: ``{split: prediction CSV}``: the same as CSV, for people.
        task: what the network is asked.
        threads: the job's threads.
        at_mass_points: a parametrised network's ``{split: Parquet file}`` of the
            non-signal events at every signal point (:func:`predict_at_mass_points`).
        signal_masses: masses given in the config (``training.signal_masses``), which
            win over the process names.
        headline: the headline signal (``fom.signal_processes``): one point.
    """
    network = onnx_network(model, threads)
    if task.parametrised:  # every split's other events at every split's signal points
        masses = process_masses(_signal_processes(events.values(), headline), signal_masses or {})
    for split, source in events.items():
        frame = read_parquet(source)
        if task.parametrised:
            scores, by_point = predict_at_mass_points(network, frame, task, masses, headline[0])
            write_parquet(by_point, at_mass_points[split])
        else:
            scores = predict_events(
                network, frame, task.features, task.classification, task.class_names
            )
        write_predictions(scores, predictions[split], predictions_csv[split])
