"""The trained network out of the pipeline: an ONNX model of the raw input variables,
checked against the pipeline's own predictions, and a model card beside it.

The exported graph is the input scaling followed by the network, so an analysis feeds
it the variables as they are in its ntuples, in the configured order:

- ``minmax`` and ``standard`` are one affine map, ``x * scale + offset``;
- ``quantile`` is the piecewise-linear map of :func:`cmsnn.scaling.quantile_knots`:
  the input is clamped to the knots' range, the knot below it is found by counting the
  knots it reaches, and the score interpolated from that knot with a gather, exactly as
  ``numpy.interp`` does it.

The export happens in the training job, the one job of a model that loads Keras and its
backend: it is checked there against the Keras network on every validation event, and
every later job (predictions, permutation importance) runs the exported model with ONNX
Runtime, so what the analysis gets is what the pipeline's own numbers come from.

Converter: Keras 3's own ``Model.export(format="onnx")``, which runs tf2onnx on the
traced TensorFlow function (tf2onnx is the converter CMS and the ONNX project maintain
for TensorFlow; Keras calls it with the opset and input signature of the model, so no
custom conversion code is needed here).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import platform
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from cmsnn.files import read_json, write_json, write_with
from cmsnn.preprocessing.scaling import quantile_knots
from cmsnn.vocabulary import NetworkTask

log = logging.getLogger(__name__)

#: The largest difference allowed between ONNX Runtime's outputs and the predictions.
ONNX_TOLERANCE = 1e-5
#: Events per ONNX Runtime call in the check (the quantile map holds events x variables
#: x knots booleans at once).
CHECK_BATCH = 2048
#: Name of the exported graph's input and output.
INPUT_NAME, OUTPUT_NAME = "inputs", "scores"
#: The evaluation's numbers the model card quotes (the cut is on the signal class's output).
CARD_METRICS = ("auc_test", "best_cut", "fom_validation_at_best_cut",
                "fom_validation_at_best_cut_stat_error", "fom_test_at_best_cut",
                "signal_efficiency_test_at_best_cut", "warnings")  # fmt: skip
#: The facts of the training the model card quotes.
TRAINING_FACTS = ("seed", "settings", "best_epoch", "epochs_run", "best_val_loss",
                  "n_train_events", "negative_weights", "warnings")  # fmt: skip
#: The packages whose versions the model card records.
VERSIONED_PACKAGES = ("cmsnn", "keras", "tensorflow", "tf2onnx", "onnx", "onnxruntime")


def affine_scaling(scaler: Mapping) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, offset)`` of a ``minmax`` or ``standard`` scaler, as
    :func:`cmsnn.scaling.apply_scaler` computes it."""
    if scaler["method"] == "minmax":
        low, high = np.asarray(scaler["minimum"]), np.asarray(scaler["maximum"])
        span = np.where(high > low, high - low, 1.0)
        return 2.0 / span, -(high + low) / span
    mean, std = np.asarray(scaler["mean"]), np.asarray(scaler["std"])
    std = np.where(std > 0, std, 1.0)
    return 1.0 / std, -mean / std


def knot_tables(scaler: Mapping) -> dict[str, np.ndarray]:
    """The quantile map as padded tables, one row per variable: knot ``values``
    (padded with +inf, which no input reaches), ``scores``, the ``slopes`` of the
    segment starting at each knot (0 at the last one), the ``last`` knot's index and
    the ``low``/``high`` ends of the range."""
    knots = quantile_knots(scaler)
    width = max(len(values) for values, _ in knots)
    tables = {
        "values": np.full((len(knots), width), np.inf),
        "scores": np.zeros((len(knots), width)),
        "slopes": np.zeros((len(knots), width)),
    }
    for row, (values, scores) in enumerate(knots):
        tables["values"][row, : len(values)] = values
        tables["scores"][row, : len(values)] = scores
        tables["slopes"][row, : len(values) - 1] = np.diff(scores) / np.diff(values)
    tables["last"] = np.array([len(values) - 1 for values, _ in knots])
    tables["low"] = np.array([values[0] for values, _ in knots])
    tables["high"] = np.array([values[-1] for values, _ in knots])
    return tables


def n_raw_inputs(scaler: Mapping) -> int:
    """The exported model's inputs: the variables, then a parametrised network's masses."""
    return len(scaler["features"]) + len(scaler.get("mass_inputs", {}).get("columns", []))


def scaling_layer(scaler: Mapping):
    """A Keras layer mapping raw variables (and a parametrised network's masses, in GeV,
    after them) to the network's scaled inputs."""
    import keras
    from keras import ops

    masses = scaler.get("mass_inputs")

    class RawInputScaling(keras.layers.Layer):
        def __init__(self):
            super().__init__(name="input_scaling")
            self.n_variables = len(scaler["features"])
            if masses:  # z-scored (cmsnn.preprocessing.mass_points)
                std = np.asarray(masses["std"], dtype=np.float64)
                self.mass_scale = (1.0 / std).astype(np.float32)
                self.mass_offset = (-np.asarray(masses["mean"]) / std).astype(np.float32)
            if scaler["method"] == "quantile":
                tables = knot_tables(scaler)
                self.knots = tables["values"].astype(np.float32)
                self.low, self.high = (tables[k].astype(np.float32) for k in ("low", "high"))
                self.last = tables["last"].astype(np.int32)
                width = self.knots.shape[1]
                # one flat table, a row of `width` per variable, for a plain gather
                self.offsets = (np.arange(len(self.knots)) * width).astype(np.int32)
                self.flat = {
                    k: tables[k].astype(np.float32).ravel() for k in ("values", "scores", "slopes")
                }
                self.flat["values"] = np.where(np.isfinite(self.flat["values"]),
                                               self.flat["values"], 0.0)  # fmt: skip
            else:
                self.scale, self.offset = (a.astype(np.float32) for a in affine_scaling(scaler))

        def call(self, inputs):
            scaled = self.variables_scaled(inputs[:, : self.n_variables])
            if not masses:
                return scaled
            mass_inputs = inputs[:, self.n_variables :] * self.mass_scale + self.mass_offset
            return ops.concatenate([scaled, mass_inputs], axis=-1)

        def variables_scaled(self, inputs):
            if scaler["method"] != "quantile":
                return inputs * self.scale + self.offset
            x = ops.minimum(ops.maximum(inputs, self.low), self.high)
            reached = ops.cast(ops.expand_dims(x, -1) >= self.knots, "int32")
            below = ops.minimum(ops.maximum(ops.sum(reached, axis=-1) - 1, 0), self.last)
            index = below + self.offsets
            knot = ops.take(self.flat["values"], index)
            score = ops.take(self.flat["scores"], index)
            return score + ops.take(self.flat["slopes"], index) * (x - knot)

    return RawInputScaling()


def raw_input_model(network, scaler: Mapping):
    """The network behind its scaling: a model of the raw input variables."""
    import keras

    inputs = keras.Input((n_raw_inputs(scaler),), name=INPUT_NAME, dtype="float32")
    outputs = network(scaling_layer(scaler)(inputs))
    return keras.Model(inputs, keras.layers.Identity(name=OUTPUT_NAME)(outputs))


def export_onnx(network, scaler: Mapping, output) -> None:
    """Write the raw-input model as ONNX (atomically)."""
    model = raw_input_model(network, scaler)
    model(np.zeros((1, n_raw_inputs(scaler)), np.float32))  # build and trace once
    write_with(output, lambda temporary: model.export(str(temporary), format="onnx",
                                                      verbose=False))  # fmt: skip


def onnx_session(onnx_path, threads: int = 1):
    """An ONNX Runtime session of ``onnx_path`` on the CPU with ``threads`` threads."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])


def onnx_scores(onnx, raw_features: np.ndarray, threads: int = 1) -> np.ndarray:
    """The ONNX model's outputs for raw input variables, with ONNX Runtime (CPU), in
    batches of :data:`CHECK_BATCH` events.

    Args:
        onnx: the model's path, or a session of it (:func:`onnx_session`).
        raw_features: events x variables, float32.
        threads: ONNX Runtime's threads (when given a path).
    """
    session = onnx if hasattr(onnx, "run") else onnx_session(onnx, threads)
    name = session.get_inputs()[0].name
    batches = [
        session.run(None, {name: raw_features[start : start + CHECK_BATCH]})[0]
        for start in range(0, len(raw_features), CHECK_BATCH)
    ]
    if not batches:
        return np.zeros((0, session.get_outputs()[0].shape[-1]), np.float32)
    return np.concatenate(batches).reshape(len(raw_features), -1)


def check_onnx_against_network(
    onnx_path, network, scaler: Mapping | None, events: np.ndarray, score_columns,
    threads: int = 1,
) -> float:  # fmt: skip
    """The largest absolute difference between ONNX Runtime's outputs of an exported
    model and Keras' of the network, on the same events; raises if above the tolerance.

    Args:
        onnx_path: the exported model.
        network: the trained Keras network (scaled inputs).
        scaler: its inputs' scaling (JSON document), when the export takes raw variables
            (``None``: the export is the bare network, of scaled inputs).
        events: events x variables in the configured order, as the export takes them.
        score_columns: the outputs' names, for the message.
        threads: ONNX Runtime's threads.
    """
    keras_model = network if scaler is None else raw_input_model(network, scaler)
    expected = np.asarray(keras_model.predict(events, batch_size=CHECK_BATCH, verbose=0)).reshape(
        len(events), -1
    )
    difference = np.abs(onnx_scores(onnx_path, events, threads) - expected)
    worst = float(difference.max()) if difference.size else 0.0
    if not worst <= ONNX_TOLERANCE:
        row, column = np.unravel_index(np.argmax(difference), difference.shape)
        raise ValueError(
            f"{onnx_path}: the ONNX model differs from the Keras network by {worst:.3g} "
            f"(more than {ONNX_TOLERANCE}) at validation event {row}, {score_columns[column]}; "
            "the export is wrong, do not use it"
        )
    return worst


def write_exports(network, scaler: Mapping, onnx, bare_network) -> None:
    """Write the network behind its scaling (``onnx``) and the bare network
    (``bare_network``) as ONNX, atomically."""
    export_onnx(network, scaler, onnx)
    write_with(bare_network, lambda temporary: network.export(str(temporary), format="onnx",
                                                              verbose=False))  # fmt: skip


def write_exports_of_saved_model(model_file, scaler_file, onnx, bare_network) -> None:
    """:func:`write_exports` of a saved Keras model, in a process on TensorFlow."""
    import keras

    write_exports(keras.saving.load_model(model_file), read_json(scaler_file), onnx, bare_network)


def export_checked_onnx(
    network,
    scaler_file,
    model_file,
    raw_events: np.ndarray,
    scaled_events: np.ndarray,
    outputs: Mapping[str, str],
    score_columns,
    threads: int,
) -> None:
    """Export the network as ONNX twice, each checked with ONNX Runtime against Keras on
    the validation split; a model that fails its check is not kept.

    Args:
        network: the trained Keras network.
        scaler_file, model_file: its inputs' scaling (JSON) and the network as saved
            (Keras on JAX exports ONNX only through jax2onnx, which the project does not
            install: a network trained on JAX is exported from the saved file by
            TensorFlow, in a process of its own).
        raw_events, scaled_events: the validation events' variables, before and after
            the scaling.
        outputs: ``onnx`` (the network behind its scaling: raw variables in, for the
            analysis and the predictions), ``network`` (the bare network, scaled
            variables in: the permutation importance shuffles the prepared inputs with
            it, without running the quantile map 17 × repeats times) and ``check`` (the
            record of both checks, JSON).
        score_columns: the outputs' names.
        threads: ONNX Runtime's threads.
    """
    import keras

    scaler = read_json(scaler_file)
    try:
        if keras.backend.backend() == "tensorflow":
            write_exports(network, scaler, outputs["onnx"], outputs["network"])
        else:
            code = (
                "from cmsnn.learning.export import write_exports_of_saved_model as export\n"
                f"export({str(model_file)!r}, {str(scaler_file)!r}, "
                f"{str(outputs['onnx'])!r}, {str(outputs['network'])!r})"
            )
            exported = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True,
                env=os.environ | {"KERAS_BACKEND": "tensorflow"},
            )  # fmt: skip
            if exported.returncode != 0:
                raise RuntimeError(f"the export with TensorFlow failed:\n{exported.stderr[-3000:]}")
        checks = {
            name: check_onnx_against_network(
                outputs[name], network, scaling, events, score_columns, threads
            )  # fmt: skip
            for name, scaling, events in (
                ("onnx", scaler, raw_events),
                ("network", None, scaled_events),
            )  # fmt: skip
        }
    except BaseException:
        for written in (outputs["onnx"], outputs["network"]):
            Path(written).unlink(missing_ok=True)  # never leave an unchecked model
        raise
    for name, worst in checks.items():
        log.info("%s: ONNX Runtime matches the Keras network to %.3g (tolerance %g)",
                 outputs[name], worst, ONNX_TOLERANCE)  # fmt: skip
    record = {
        "output_columns": list(score_columns),
        "check": {
            "against": "the Keras network on every event of the validation split",
            "events": len(raw_events),
            "largest_absolute_difference": checks["onnx"],
            "tolerance": ONNX_TOLERANCE,
        },
        "network_check": {"largest_absolute_difference": checks["network"]},
        "versions": package_versions(),
    }
    write_json(record, outputs["check"])


def model_card(
    scaler: Mapping,
    training: Mapping,
    evaluation: Mapping,
    check: Mapping,
    class_names: Sequence[str],
    classification: str,
    units: Mapping[str, str],
    onnx_sha256: str,
) -> dict:
    """What an analysis needs to use the exported model, as a JSON document."""
    columns = check["output_columns"]
    if classification == "binary":
        meaning = [f"{columns[0]}: probability that the event is {class_names[0]} (signal) "
                   f"rather than any of {list(class_names[1:])}"]  # fmt: skip
    else:
        meaning = [f"{column}: softmax probability of class {name}"
                   for column, name in zip(columns, class_names, strict=True)]  # fmt: skip
    variables = [{"name": name, "unit": units.get(name, "")} for name in scaler["features"]]
    masses = scaler.get("mass_inputs")
    if masses:
        variables += [{"name": name, "unit": "GeV"} for name in masses["columns"]]
    card = {
        "file": {"name": "model.onnx", "format": "ONNX", "sha256": onnx_sha256},
        "input": {
            "name": INPUT_NAME,
            "shape": ["events", n_raw_inputs(scaler)],
            "dtype": "float32",
            "variables": [{"index": index, **variable} for index, variable in enumerate(variables)],
            "scaling": {
                "method": scaler["method"],
                "inside_the_model": True,
                "note": "feed the raw variables; the model applies the scaling fitted on "
                "the training split (quantile: linear between the training quantiles' "
                "normal scores, constant beyond them)",
            },
        },
        "output": {"name": OUTPUT_NAME, "columns": columns, "meaning": meaning},
        "classification": classification,
        "classes": list(class_names),
        "signal_class": class_names[0],
        "training": {key: training.get(key) for key in TRAINING_FACTS},
        "metrics": {key: evaluation.get(key) for key in CARD_METRICS},
        "check": dict(check["check"]),
        "versions": {"training": training.get("versions"), "export": check["versions"]},
    }
    if masses:
        card["mass_points"] = {
            "inputs": list(masses["columns"]),
            "unit": "GeV",
            "trained": dict(masses["points"]),
            "held_out": list(masses.get("held_out", [])),
            "note": "a parametrised network: give every event, signal or background, the "
            "masses of the signal point it is asked about, after the variables; trained "
            "at the points listed, between them it interpolates",
        }
    return card


def package_versions() -> dict[str, str | None]:
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = _distribution_version(package)
    return versions


def _distribution_version(package: str) -> str | None:
    # tensorflow is installed as tensorflow-cpu on CPU machines
    try:
        return importlib.metadata.version(f"{package}-cpu")
    except importlib.metadata.PackageNotFoundError:
        return None


def write_model_card_files(
    *, onnx, scaler, facts, evaluation, check, card, task: NetworkTask, units: Mapping[str, str]
) -> None:
    """Entry point of rule ``write_model_card``: the model card of one exported model
    (no TensorFlow needed): its inputs with their units and scaling, outputs, training,
    results, the ONNX check and the file's checksum, as JSON in ``card``."""
    document = model_card(
        read_json(scaler), read_json(facts), read_json(evaluation), read_json(check),
        task.class_names, task.classification, units,
        hashlib.sha256(Path(onnx).read_bytes()).hexdigest(),
    )  # fmt: skip
    write_json(document, card)
